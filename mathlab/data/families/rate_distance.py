"""rate_distance: distance = speed x time over legs, round trips, repeats and what remains."""

from __future__ import annotations

from mathlab.data.families._common import Link, T, intro, last_of, plan, pronouns, stage
from mathlab.data.program import Ctx, Q

# (en verb past, en verb base, zh verb phrase, speed range, hours range, subject is a vehicle)
MOVES = [
    ("drove", "drive", "开车", (30, 70), (2, 6)),
    ("rode {his} bike", "ride", "骑自行车", (8, 20), (2, 4)),
    ("walked", "walk", "步行", (2, 5), (2, 5)),
    ("jogged", "jog", "慢跑", (4, 8), (2, 3)),
    ("sailed", "sail", "开船", (10, 25), (2, 6)),
]
RD_LEG1 = T(
    [
        "{p} {v} at {s} {uph} for {t} hours.",
        "{p} {v} for {t} hours at a speed of {s} {uph}.",
        "For {t} hours, {p} {v} at {s} {uph}.",
        "{p} {v} at an average speed of {s} {uph} for {t} hours.",
    ],
    ["{p}{vz}，速度是每小时{s}{u}，走了{t}小时。", "{p}以每小时{s}{u}的速度{vz}了{t}小时。"],
)
RD_SPEED = T(
    [
        "{p} {v} {D0} {u} in {t0} hours.",
        "It took {p} {t0} hours to cover {D0} {u}.",
        "Last week, {p} {v} {D0} {u} in {t0} hours.",
    ],
    ["{p}{vz}{t0}小时走了{D0}{u}。", "{p}用{t0}小时{vz}走完了{D0}{u}。"],
)
RD_SPEED_SAY = T(
    [
        "{p}'s speed is {calc} {uph}.",
        "That is a speed of {calc} {uph}.",
        "{He} travels {calc} {u} every hour.",
    ],
    ["{p}的速度是每小时{calc}{u}。", "每小时走{calc}{u}。"],
)
RD_LEG1B = T(
    [
        "Today {he} {v} at the same speed for {t} hours.",
        "At that speed, {he} {v} for {t} hours today.",
        "This time {he} kept the same pace for {t} hours.",
    ],
    ["今天{p.ta}以同样的速度{vz}了{t}小时。", "这次{p.ta}按同样的速度走了{t}小时。"],
)
RD_LEG1_SAY = T(
    [
        "{p} covered {calc} {u}.",
        "In {t} hours, {he} went {calc} {u}.",
        "The first part of the trip was {calc} {u}.",
        "{He} traveled {calc} {u}.",
    ],
    ["{p}走了{calc}{u}。", "{t}小时走了{calc}{u}。"],
)
RD_ASK1 = T(
    [
        "How far did {p} travel?",
        "How many {u} did {p} {vb}?",
        "What distance did {p} cover?",
        "How many {u} did {p} go?",
    ],
    ["{p}走了多少{u}？", "{p}一共行进了多少{u}？"],
)
RD_LEG2 = T(
    [
        "Then {he} {v} for {t2} more hours at {s2} {uph}.",
        "After a break, {he} continued for {t2} hours at {s2} {uph}.",
        "On the second part of the trip, {he} went {s2} {uph} for {t2} hours.",
    ],
    [
        "然后{p.ta}又以每小时{s2}{u}的速度走了{t2}小时。",
        "休息之后，{p.ta}每小时走{s2}{u}，又走了{t2}小时。",
    ],
)
RD_LEG2_SAY = T(
    [
        "In the second part, {he} went {calc} {u}.",
        "After the break, {he} covered {calc} {u}.",
        "The second part was {calc} {u}.",
    ],
    ["第二段走了{calc}{u}。", "休息后又走了{calc}{u}。"],
)
RD_SUM_SAY = T(
    [
        "In total, {he} traveled {calc} {u}.",
        "Altogether that is {calc} {u}.",
        "So {p} covered {calc} {u} in all.",
    ],
    ["一共走了{calc}{u}。", "所以{p}总共走了{calc}{u}。"],
)
RD_SUM_ASK = T(
    [
        "How far did {p} travel in total?",
        "How many {u} did {he} cover altogether?",
        "What was the total distance {p} traveled?",
    ],
    ["{p}一共走了多少{u}？", "{p}总共行进了多少{u}？"],
)
RD_ROUND = T(
    [
        "Then {he} came back home the same way.",
        "{He} returned home along the same route.",
        "Afterwards, {p} made the return trip by the same road.",
    ],
    ["然后{p.ta}沿原路返回了家。", "之后{p}按原路回家。"],
)
RD_ROUND_SAY = T(
    [
        "The round trip is {calc} {u}.",
        "There and back, {he} traveled {calc} {u}.",
        "Going and coming back makes {calc} {u}.",
    ],
    ["往返一共{calc}{u}。", "来回一共走了{calc}{u}。"],
)
RD_ROUND_ASK = T(
    [
        "How many {u} did {p} travel on the round trip?",
        "How long was the whole round trip, in {u}?",
        "How far did {p} go there and back?",
    ],
    ["{p}往返一共走了多少{u}？", "来回一共多少{u}？"],
)
RD_REPEAT = T(
    [
        "{p} made this same trip {n} times this month.",
        "{He} does this trip {n} times a week.",
        "Over the summer, {p} repeated the trip {n} times.",
    ],
    ["这个月{p}一共走了{n}次这样的行程。", "{p}每周都要走{n}次这样的路程。"],
)
RD_REPEAT_SAY = T(
    [
        "Over {n} trips, {he} travels {calc} {u}.",
        "{n} trips add up to {calc} {u}.",
        "In all the trips, {he} covers {calc} {u}.",
    ],
    ["{n}次一共走{calc}{u}。", "总共走了{calc}{u}。"],
)
RD_REPEAT_ASK = T(
    [
        "How many {u} does {p} travel on all the trips?",
        "How far does {p} travel in all?",
        "What is the total distance of all the trips?",
    ],
    ["{p}这些行程一共走了多少{u}？", "总共走了多少{u}？"],
)
RD_REMAIN = T(
    [
        "{p} plans to travel {D} {u} in total.",
        "{p}'s destination is {D} {u} from where {he} started.",
        "The whole journey is {D} {u} long.",
        "{p}'s goal is to cover {D} {u}.",
    ],
    ["全程一共{D}{u}。", "{p}的目的地距离出发点{D}{u}。"],
)
RD_REMAIN_SAY = T(
    [
        "{p} still has {calc} {u} to go.",
        "There are {calc} {u} left.",
        "{He} has {calc} {u} left to travel.",
    ],
    ["还剩{calc}{u}。", "{p}还要走{calc}{u}。"],
)
RD_REMAIN_ASK = T(
    [
        "How many more {u} does {p} have to travel?",
        "How far does {p} still have to go?",
        "How many {u} are left?",
        "How many {u} remain?",
    ],
    ["{p}还要走多少{u}？", "还剩多少{u}？"],
)
RD_TLEFT = T(
    [
        "{He} will go the rest of the way at {s3} {uph}.",
        "For the rest of the way, {he} keeps a speed of {s3} {uph}.",
        "{p} covers the remaining distance at {s3} {uph}.",
    ],
    ["剩下的路{p.ta}以每小时{s3}{u}的速度走。", "余下的路程{p.ta}每小时走{s3}{u}。"],
)
RD_TLEFT_SAY = T(
    [
        "The rest of the trip takes {calc} hours.",
        "{He} needs {calc} more hours.",
        "That will take {calc} hours.",
    ],
    ["剩下的路要走{calc}小时。", "还需要{calc}小时。"],
)
RD_TLEFT_ASK = T(
    [
        "How many hours will the rest of the trip take?",
        "How long will it take {him} to finish the trip?",
        "How many more hours does {he} need?",
    ],
    ["剩下的路要走多少小时？", "{p}还需要几小时才能到？"],
)
RD_TIME = T(
    [
        "{p} needed to travel {D} {u}. {He} {v} at {s} {uph}.",
        "The trip to {his} grandmother's house is {D} {u}, and {p} {v} there at {s} {uph}.",
        "{p} {v} {D} {u} at a steady {s} {uph}.",
    ],
    ["{p}要走{D}{u}，速度是每小时{s}{u}。", "{p}以每小时{s}{u}的速度{vz}，全程{D}{u}。"],
)
RD_TIME_SAY = T(
    ["The trip took {calc} hours.", "It took {p} {calc} hours.", "{He} needed {calc} hours."],
    ["需要{calc}小时。", "{p}要用{calc}小时。"],
)
RD_TIME_ASK = T(
    [
        "How many hours did the trip take?",
        "How long did it take {p}, in hours?",
        "How many hours was {p} on the road?",
    ],
    ["需要多少小时？", "{p}要用几小时？"],
)


STAGES = "speed leg1 leg2:2 again remain tleft"

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
REPEAT = Link(
    "rp.", RD_REPEAT, RD_REPEAT_SAY, "all_trips", "{cur}*{q}", "length", "trips", "count", "n"
)
TLEFT = Link(
    "tl.", RD_TLEFT, RD_TLEFT_SAY, "hours_left", "{cur}/{q}", "hours", "speed3", "speed", "s3"
)


def _valid(s: frozenset) -> bool:
    return "leg1" in s and ("tleft" not in s or "remain" in s) and not {"again", "remain"} <= s


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    p = c.person()
    v, vb, vz, speeds, hours = c.choice(MOVES)
    v = v.replace("{his}", p.his)
    km = c.chance(0.4) or c.lang == "zh"
    u, uph = ("kilometers", "kilometers per hour") if km else ("miles", "miles per hour")
    if c.lang == "zh":
        u = "公里"
    slots = pronouns(p, v=v, vb=vb, vz=vz, u=u, uph=uph)
    intro(c, "travel", p, 0.25)
    if chosen == frozenset({"leg1"}) and c.chance(0.4):  # time = distance / speed
        s_, t_ = c.randint(*speeds), c.randint(*hours)
        sq = c.num("speed", s_, "speed")
        D = c.num("distance", s_ * t_, "length")
        stage(c, "tm.", RD_TIME, RD_TIME_SAY, "hours", f"{D.v}/{sq.v}", "hours", D=D, s=sq, **slots)
        c.ask("tmq.", RD_TIME_ASK, **slots)
        c.answer_kind = "hours"
        return
    last = last_of(chosen, ["leg1", "leg2", "again", "remain", "tleft"])
    if "speed" in chosen:
        s_, t0 = c.randint(*speeds), c.randint(*hours)
        t0q = c.num("hours0", t0, "hours")
        D0 = c.num("distance0", s_ * t0, "length")
        expr = f"{D0.v}/{t0q.v}"
        speed = stage(
            c, "sp.", RD_SPEED, RD_SPEED_SAY, "speed", expr, "speed", D0=D0, t0=t0q, **slots
        )
        t = c.num("hours", c.randint(*hours), "hours")
        c.fact("l1b.", RD_LEG1B, ifable=last == "leg1", t=t, **slots)
        cur, calc = c.calc("distance", f"{speed.v}*{t.v}", "length")
        c.say("l1s.", RD_LEG1_SAY, calc=calc, t=t, **slots)
    else:
        speed = c.num("speed", c.randint(*speeds), "speed")
        t = c.num("hours", c.randint(*hours), "hours")
        expr = f"{speed.v}*{t.v}"
        cur = stage(
            c, "l1.", RD_LEG1, RD_LEG1_SAY, "distance", expr, "length", s=speed, t=t, **slots
        )
    c.answer_kind = "length"
    ask = RD_ASK1
    if "leg2" in chosen:
        s2 = c.num("speed2", c.randint(*speeds), "speed")
        t2 = c.num("hours2", c.randint(2, max(2, hours[1] - 1)), "hours")
        expr = f"{s2.v}*{t2.v}"
        d2 = stage(
            c, "l2.", RD_LEG2, RD_LEG2_SAY, "distance2", expr, "length", s2=s2, t2=t2, **slots
        )
        cur, calc = c.calc("total", f"{cur.v}+{d2.v}", "length")
        c.say("sums.", RD_SUM_SAY, calc=calc, **slots)
        ask = RD_SUM_ASK
    if "again" in chosen:
        cur, ask = _again(c, cur, last == "again", slots)
    if "remain" in chosen:
        ask = _remain(c, chosen, last, cur, speeds, hours, slots)
    c.ask("q.", ask, **slots)


def _again(c: Ctx, cur: Q, ifable: bool, slots: dict) -> tuple[Q, dict]:
    """The same trip back home (a round trip) or ``n`` times; the question template."""
    if c.chance(0.4):
        c.hidden("ways", 2, "mult")
        expr = f"{cur.v}*ways"
        cur = stage(c, "rt.", RD_ROUND, RD_ROUND_SAY, "round_trip", expr, "length", ifable, **slots)
        return cur, RD_ROUND_ASK
    return REPEAT(c, cur, c.randint(2, 6), ifable, **slots), RD_REPEAT_ASK


def _remain(c: Ctx, chosen, last, cur: Q, speeds, hours, slots: dict) -> dict:
    """The trip's whole length, what remains of it and maybe the hours that takes; the
    question template."""
    if "tleft" in chosen:
        s3 = c.randint(*speeds)
        rest = s3 * c.randint(2, hours[1] + 1)
    else:
        s3, rest = None, c.randint(5, 200)
    D = c.num("goal", c.v(cur) + rest, "length")
    text = c.fill("rm.", RD_REMAIN, D=D, **slots)
    if last == "remain":
        c.facts.append(text)
        c.ifable = len(c.facts) - 1
    else:  # the goal reads best near the start
        c.facts.insert(1 if len(c.facts) > 1 and c.chance(0.5) else len(c.facts), text)
        c.ifable = None
    cur, calc = c.calc("remaining", f"{D.v}-{cur.v}", "length")
    c.say("rms.", RD_REMAIN_SAY, calc=calc, **slots)
    if "tleft" not in chosen:
        return RD_REMAIN_ASK
    TLEFT(c, cur, s3, True, **slots)
    c.answer_kind = "hours"
    return RD_TLEFT_ASK
