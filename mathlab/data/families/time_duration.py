"""time_duration: minutes a day, sessions a week, weeks, hours and goals; or a movie's
length in minutes, what is left and equal sittings.
"""

from __future__ import annotations

from mathlab.data.families._common import (
    Link,
    T,
    a_or_an,
    even_splits,
    intro,
    last_of,
    plan,
    pronouns,
    stage,
)
from mathlab.data.program import Ctx, Retry

# (3rd person, -ing, zh)
ACTIVITIES = [
    ("practices the piano", "practicing the piano", "练钢琴"),
    ("reads", "reading", "阅读"),
    ("jogs", "jogging", "慢跑"),
    ("does homework", "doing homework", "写作业"),
    ("swims laps", "swimming laps", "游泳"),
    ("walks {his} dog", "walking {his} dog", "遛狗"),
    ("plays chess", "playing chess", "下棋"),
    ("studies Spanish", "studying Spanish", "学西班牙语"),
    ("works in the garden", "working in the garden", "在花园干活"),
]
TD_DAILY = T(
    [
        "{p} {v} for {m} minutes every day.",
        "Each day, {p} spends {m} minutes {ving}.",
        "{p} {v} {m} minutes a day.",
        "Every day after school, {p} {v} for {m} minutes.",
    ],
    ["{p}每天{vz}{m}分钟。", "{p}每天花{m}分钟{vz}。"],
)
TD_SESSION = T(
    [
        "{p} {v} for {m} minutes at a time.",
        "Each session, {p} spends {m} minutes {ving}.",
        "{p} {v} for {m} minutes per session.",
    ],
    ["{p}每次{vz}{m}分钟。", "{p}每次花{m}分钟{vz}。"],
)
TD_SUM_SESSION = T(
    [
        "In each session, {p} spends {a} minutes {ving} and {b} minutes {ving2}.",
        "{p}'s routine is {a} minutes of {ving} followed by {b} minutes of {ving2}.",
        "Each time, {p} {v} for {a} minutes and then {v2} for {b} minutes.",
    ],
    ["{p}每次先{vz}{a}分钟，再{vz2}{b}分钟。", "{p}每次安排{a}分钟{vz}和{b}分钟{vz2}。"],
)
TD_SUM = T(
    [
        "Every day, {p} spends {a} minutes {ving} and {b} minutes {ving2}.",
        "{p} {v} for {a} minutes and then {v2} for {b} minutes each day.",
        "Each day {p} {v} for {a} minutes. {He} also {v2} for {b} minutes.",
    ],
    ["{p}每天{vz}{a}分钟，再{vz2}{b}分钟。", "{p}每天先{vz}{a}分钟，然后{vz2}{b}分钟。"],
)
TD_SUM_SAY = T(
    [
        "{p} spends {calc} minutes on both.",
        "That is {calc} minutes in all.",
        "Together the two take {calc} minutes.",
    ],
    ["{p}一共用{calc}分钟。", "一共是{calc}分钟。"],
)
TD_SUM_ASK = T(
    [
        "How many minutes does {p} spend on both activities each day?",
        "How many minutes a day does {p} spend {ving} and {ving2}?",
        "What is the total time, in minutes, {p} spends on the two activities every day?",
    ],
    ["{p}每天一共用多少分钟？", "{p}每天做这两件事一共要多少分钟？"],
)
TD_DAYS = T(
    [
        "{He} does this {d} times a week.",
        "{p} has {d} sessions every week.",
        "{He} fits in {d} sessions each week.",
    ],
    ["{p.ta}每周这样做{d}次。", "{p}每周安排{d}次。"],
)
TD_DAYS_SAY = T(
    [
        "In a week, {he} spends {calc} minutes.",
        "That is {calc} minutes per week.",
        "Each week adds up to {calc} minutes.",
    ],
    ["一周一共{calc}分钟。", "每周是{calc}分钟。"],
)
TD_WEEK_ASK = T(
    [
        "How many minutes does {p} spend {act} each week?",
        "How many minutes a week is that?",
        "What is the total time, in minutes, {p} spends {act} in a week?",
    ],
    ["{p}每周一共用多少分钟？", "一周下来是多少分钟？"],
)
TD_EXTRA = T(
    [
        "On Sundays, {he} also does an extra session of {e} minutes.",
        "{He} adds one longer session of {e} minutes every weekend.",
        "On top of that, {p} spends an extra {e} minutes on Saturday.",
    ],
    ["每个星期天{p.ta}还会额外练{e}分钟。", "周末{p}还会多花{e}分钟。"],
)
TD_EXTRA_SAY = T(
    [
        "With the extra session, {he} spends {calc} minutes a week.",
        "So the weekly total is {calc} minutes.",
        "That brings the week to {calc} minutes.",
    ],
    ["加上额外的时间，每周一共{calc}分钟。", "每周总共{calc}分钟。"],
)
TD_WEEKS = T(
    [
        "{He} keeps this up for {w} weeks.",
        "{He} follows this schedule for {w} weeks.",
        "{p} sticks to the plan for {w} weeks.",
    ],
    ["{p.ta}坚持了{w}周。", "{p}这样安排了{w}周。"],
)
TD_WEEKS_SAY = T(
    [
        "Over {w} weeks, that is {calc} minutes.",
        "In {w} weeks, {he} spends {calc} minutes.",
        "Altogether that is {calc} minutes.",
    ],
    ["{w}周一共{calc}分钟。", "总共是{calc}分钟。"],
)
TD_WEEKS_ASK = T(
    [
        "How many minutes does {p} spend {act} over those weeks?",
        "What is the total number of minutes {p} spends {act}?",
        "How many minutes is that in all?",
    ],
    ["{p}这几周一共用了多少分钟？", "总共是多少分钟？"],
)
TD_HOURS_SAY = T(
    [
        "That is {calc} hours.",
        "In hours, this is {calc} hours.",
        "Dividing by 60 gives {calc} hours.",
    ],
    ["也就是{calc}小时。", "换算成小时是{calc}小时。"],
)
TD_HOURS_ASK = T(
    [
        "How many hours does {p} spend {act} {scope}?",
        "How many hours is that {scope}?",
        "How much time, in hours, does {p} spend {act} {scope}?",
    ],
    ["{p}{zscope}一共用了多少小时？", "{zscope}一共是多少小时？"],
)
TD_GOAL = T(
    [
        "{p}'s goal is {G} hours in total.",
        "{He} wants to reach {G} hours of {act}.",
        "{p} is aiming for {G} hours.",
    ],
    ["{p}的目标是一共{G}小时。", "{p}想达到{G}小时。"],
)
TD_GOAL_SAY = T(
    [
        "{He} needs {calc} more hours.",
        "That leaves {calc} hours to go.",
        "{p} is {calc} hours short of the goal.",
    ],
    ["还需要{calc}小时。", "离目标还差{calc}小时。"],
)
TD_GOAL_ASK = T(
    [
        "How many more hours does {p} need to reach {his} goal?",
        "How many hours short of the goal is {p}?",
        "How many more hours must {p} put in?",
    ],
    ["{p}还需要多少小时才能达到目标？", "离目标还差几小时？"],
)
EVENTS = [
    ("movie", "watched", "电影", "看了"),
    ("audiobook", "listened to", "有声书", "听了"),
    ("documentary", "watched", "纪录片", "看了"),
    ("podcast series", "listened to", "播客", "听了"),
]
TD_CONV = T(
    [
        "The {ev} {p} is starting is {h} hours long.",
        "{p} picked {a_ev} that lasts {h} hours.",
        "{A_ev} runs for {h} hours.",
    ],
    ["{p}要看的{evz}一共{h}小时。", "这部{evz}长{h}小时。"],
)
TD_CONV_M = T(
    [
        "The {ev} {p} is starting is {h} hours and {m} minutes long.",
        "{p} picked {a_ev} that lasts {h} hours and {m} minutes.",
        "{A_ev} runs for {h} hours and {m} minutes.",
    ],
    ["{p}要看的{evz}一共{h}小时{m}分钟。", "这部{evz}长{h}小时{m}分钟。"],
)
TD_CONV_SAY = T(
    [
        "The {ev} is {calc} minutes long.",
        "That is {calc} minutes.",
        "In minutes, it runs {calc} minutes.",
    ],
    ["一共是{calc}分钟。", "换算成分钟是{calc}分钟。"],
)
TD_CONV_ASK = T(
    [
        "How many minutes long is the {ev}?",
        "How long is the {ev}, in minutes?",
        "How many minutes does it last?",
    ],
    ["它一共有多少分钟？", "换算成分钟是多少？"],
)
TD_DONE = T(
    [
        "{p} has already {vd} {x} minutes of it.",
        "So far, {p} has {vd} {x} minutes.",
        "{p} {vd} the first {x} minutes last night.",
    ],
    ["{p}已经{vdz}{x}分钟。", "昨晚{p.ta}先{vdz}{x}分钟。"],
)
TD_DONE_SAY = T(
    [
        "There are {calc} minutes left.",
        "{He} has {calc} minutes to go.",
        "That leaves {calc} minutes.",
    ],
    ["还剩{calc}分钟。", "剩下{calc}分钟。"],
)
TD_DONE_ASK = T(
    [
        "How many minutes are left?",
        "How many minutes does {p} still have to go?",
        "How many more minutes of the {ev} are left?",
    ],
    ["还剩多少分钟？", "{p}还要多少分钟才能看完？"],
)
TD_PARTS = T(
    [
        "{He} will finish the rest in {n} equal sittings.",
        "{p} splits what is left into {n} equal parts.",
        "{He} plans to get through the rest over {n} evenings, the same amount each evening.",
    ],
    ["剩下的{p.ta}打算分{n}次平均看完。", "{p}把剩下的平均分成{n}次。"],
)
TD_PARTS_SAY = T(
    [
        "Each part is {calc} minutes.",
        "That is {calc} minutes each time.",
        "{He} needs {calc} minutes per sitting.",
    ],
    ["每次{calc}分钟。", "每次要{calc}分钟。"],
)
TD_PARTS_ASK = T(
    [
        "How many minutes long is each part?",
        "How many minutes will each sitting take?",
        "How long is each part, in minutes?",
    ],
    ["每次多少分钟？", "每次要看几分钟？"],
)


STAGES = "sum days extra weeks hours goal conv done parts"
MOVIE = {"conv", "done", "parts"}

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
DAYS = Link("dy.", TD_DAYS, TD_DAYS_SAY, "weekly", "{cur}*{q}", "minutes", "days", "count", "d")
EXTRA = Link(
    "ex.", TD_EXTRA, TD_EXTRA_SAY, "weekly_total", "{cur}+{q}", "minutes", "extra", "minutes", "e"
)
WEEKS = Link(
    "wk.", TD_WEEKS, TD_WEEKS_SAY, "all_minutes", "{cur}*{q}", "minutes", "weeks", "count", "w"
)
GOAL = Link("gl.", TD_GOAL, TD_GOAL_SAY, "hours_left", "{q}-{cur}", "hours", "goal", "hours", "G")
DONE = Link("dn.", TD_DONE, TD_DONE_SAY, "left", "{cur}-{q}", "minutes", "watched", "minutes", "x")
PARTS = Link("pt.", TD_PARTS, TD_PARTS_SAY, "each", "{cur}/{q}", "minutes", "parts", "count", "n")


def _valid(s: frozenset) -> bool:
    """A routine (sum, days, extra, weeks, hours, goal) or a movie (conv, done, parts), each
    stage with the one it builds on."""
    if s & MOVIE:
        return s <= MOVIE and "conv" in s and ("parts" not in s or "done" in s)
    return (
        ("extra" not in s or "days" in s)
        and ("weeks" not in s or "days" in s)
        and ("goal" not in s or "hours" in s)
    )


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    p = c.person()
    slots = pronouns(p)
    if "conv" in chosen:
        _movie(c, chosen, slots)
        return
    (v, ving, vz), (v2, ving2, vz2) = c.rng.sample(ACTIVITIES, 2)
    v, ving, v2, ving2 = (x.replace("{his}", p.his) for x in (v, ving, v2, ving2))
    act = "on these activities" if "sum" in chosen else ving
    slots.update(v=v, ving=ving, vz=vz, v2=v2, ving2=ving2, vz2=vz2, act=act)
    intro(c, c.choice(["sports", "school"]), p, 0.2)
    last = last_of(chosen, ["sum", "days", "extra", "weeks", "hours", "goal"])
    days = "days" in chosen
    if "sum" in chosen:
        a = c.num("minutes_a", c.choice(range(10, 95, 5)), "minutes")
        b = c.num("minutes_b", c.choice(range(10, 65, 5)), "minutes")
        fact, expr = (TD_SUM_SESSION if days else TD_SUM), f"{a.v}+{b.v}"
        cur = stage(c, "su.", fact, TD_SUM_SAY, "daily", expr, "minutes", a=a, b=b, **slots)
        ask = TD_SUM_ASK
        if days:
            slots["act"] = "in each session"
    else:
        cur = c.num("minutes", c.choice(range(15, 125, 5)), "minutes")
        c.fact("dl.", TD_SESSION if days else TD_DAILY, m=cur, **slots)
        ask = None
    scope, zscope = "each day", "每天"
    if days:
        cur = DAYS(c, cur, c.randint(2, 7), last == "days", **slots)
        ask, scope, zscope = TD_WEEK_ASK, "each week", "每周"
    if "extra" in chosen:
        cur = EXTRA(c, cur, c.choice(range(10, 95, 5)), last == "extra", **slots)
        ask = TD_WEEK_ASK
    if "weeks" in chosen:
        cur = WEEKS(c, cur, c.randint(2, 12), last == "weeks", **slots)
        ask, scope, zscope = TD_WEEKS_ASK, "in all", "总共"
    c.answer_kind = "minutes"
    if "hours" in chosen:
        cur, calc = c.calc("hours", f"{cur.v}/60", "hours")
        if (c.v(cur) * 4).denominator != 1:
            raise Retry("hours are not a whole number of quarter hours")
        c.say("hrs.", TD_HOURS_SAY, calc=calc, **slots)
        ask = TD_HOURS_ASK
        c.answer_kind = "hours"
    if "goal" in chosen:
        GOAL(c, cur, int(c.v(cur)) + c.randint(2, 30), True, **slots)
        ask = TD_GOAL_ASK
    c.ask("q.", ask, scope=scope, zscope=zscope, **slots)


def _movie(c: Ctx, chosen: frozenset, slots: dict) -> None:
    """A movie's length in minutes, maybe the minutes left after watching some, maybe those
    split into equal sittings."""
    ev, vd, evz, vdz = c.choice(EVENTS)
    a_ev = a_or_an(ev)
    slots.update(ev=ev, a_ev=a_ev, A_ev=a_ev.capitalize(), evz=evz, vd=vd, vdz=vdz)
    h = c.num("hours", c.randint(2, 4), "hours", word=False)
    if c.chance(0.5):
        m = c.num("extra_minutes", c.choice(range(5, 60, 5)), "minutes")
        c.fact("cv.", TD_CONV_M, h=h, m=m, **slots)
        cur, calc = c.calc("minutes", f"{h.v}*60+{m.v}", "minutes")
    else:
        c.fact("cv.", TD_CONV, h=h, **slots)
        cur, calc = c.calc("minutes", f"{h.v}*60", "minutes")
    c.say("cvs.", TD_CONV_SAY, calc=calc, **slots)
    c.answer_kind = "minutes"
    if "done" not in chosen:
        c.ask("cvq.", TD_CONV_ASK, **slots)
        return
    parts = "parts" in chosen
    watched = c.choice(range(10, int(c.v(cur)) - (39 if parts else 9), 5))
    cur = DONE(c, cur, watched, not parts, **slots)
    if not parts:
        c.ask("dnq.", TD_DONE_ASK, **slots)
        return
    sizes = even_splits(c.v(cur), 2, 6, 1, "the rest does not split evenly")
    PARTS(c, cur, c.choice(sizes), True, **slots)
    c.ask("ptq.", TD_PARTS_ASK, **slots)
