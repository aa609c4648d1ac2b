"""work_rate: work done at a rate by one worker, two, or a team; days, what is left and the
hours to finish (held out by default in the presets).
"""

from __future__ import annotations

from mathlab.data.families._common import Link, T, intro, last_of, plan, stage
from mathlab.data.program import Ctx, Q

# (things, base verb, 3rd person, -ing, past participle, zh verb, zh noun, zh measure, rate range)
TASKS = [
    ("boxes", "pack", "packs", "packing", "packed", "包装", "盒子", "个", (8, 30)),
    ("envelopes", "stuff", "stuffs", "stuffing", "stuffed", "装", "信封", "个", (20, 60)),
    ("seedlings", "plant", "plants", "planting", "planted", "种", "树苗", "棵", (5, 20)),
    ("cookies", "bake", "bakes", "baking", "baked", "烤", "饼干", "块", (12, 60)),
    ("apples", "pick", "picks", "picking", "picked", "摘", "苹果", "个", (20, 80)),
    ("chairs", "assemble", "assembles", "assembling", "assembled", "组装", "椅子", "把", (2, 8)),
    ("bricks", "lay", "lays", "laying", "laid", "砌", "砖", "块", (20, 60)),
    ("shirts", "fold", "folds", "folding", "folded", "叠", "衬衫", "件", (15, 50)),
]
WR_ONE = T(
    [
        "{p} can {v} {r} {o} per hour.",
        "{p} {v3} {r} {o} an hour.",
        "Working alone, {p} {v3} {r} {o} every hour.",
        "Every hour, {p} {v3} {r} {o}.",
    ],
    ["{p}每小时能{vz}{r}{cl}{oz}。", "{p}一个人每小时{vz}{r}{cl}{oz}。"],
)
WR_TWO = T(
    [
        "{p} can {v} {r1} {o} per hour, and {q} can {v} {r2} {o} per hour.",
        "{p} {v3} {r1} {o} an hour. {q} {v3} {r2} {o} an hour.",
        "{p} and {q} work together. {p} {v3} {r1} {o} an hour, while {q} {v3} {r2}.",
    ],
    [
        "{p}每小时能{vz}{r1}{cl}{oz}，{q}每小时能{vz}{r2}{cl}。",
        "{p}每小时{vz}{r1}{cl}{oz}，{q}每小时{vz}{r2}{cl}。",
    ],
)
WR_TWO_SAY = T(
    [
        "Together they {v} {calc} {o} per hour.",
        "Working together, they {v} {calc} {o} each hour.",
        "Their combined rate is {calc} {o} per hour.",
    ],
    ["两人合作每小时{vz}{calc}{cl}。", "他们每小时一共{vz}{calc}{cl}{oz}。"],
)
WR_RATE_ASK = T(
    [
        "How many {o} can they {v} together in one hour?",
        "What is their combined rate, in {o} per hour?",
        "How many {o} do they {v} each hour working together?",
    ],
    ["他们合作每小时能{vz}多少{cl}{oz}？", "两人一小时一共{vz}多少{cl}？"],
)
WR_TEAM = T(
    [
        "There are {n} workers, and each one {v3} {r} {o} per hour.",
        "{n} volunteers each {v} {r} {o} an hour.",
        "A crew of {n} people is {ving} {o}; each person {v3} {r} an hour.",
    ],
    ["有{n}个工人，每人每小时{vz}{r}{cl}{oz}。", "{n}名志愿者每人每小时{vz}{r}{cl}{oz}。"],
)
WR_TEAM_SAY = T(
    [
        "The team {v3} {calc} {o} every hour.",
        "Together the workers {v} {calc} {o} per hour.",
        "All of them together {v} {calc} {o} an hour.",
    ],
    ["他们每小时一共{vz}{calc}{cl}。", "整个团队每小时{vz}{calc}{cl}{oz}。"],
)
WR_TEAM_ASK = T(
    ["How many {o} does the team {v} in one hour?", "How many {o} do they {v} together each hour?"],
    ["他们每小时一共能{vz}多少{cl}{oz}？", "整个团队一小时{vz}多少{cl}？"],
)
WR_DONE = T(
    [
        "{Subj} {work} for {h} hours.",
        "{Subj} {keep} at it for {h} hours.",
        "The shift lasts {h} hours.",
    ],
    ["{Subjz}工作了{h}小时。", "这个班次一共{h}小时。"],
)
WR_DONE_SAY = T(
    [
        "In {h} hours, {subj} {vx} {calc} {o}.",
        "{Subj} {vx} {calc} {o} in {h} hours.",
        "During the shift, {calc} {o} get {vpp}.",
    ],
    ["{h}小时{vz}了{calc}{cl}。", "{Subjz}{h}小时一共{vz}了{calc}{cl}{oz}。"],
)
WR_DONE_ASK = T(
    [
        "How many {o} {do} {subj} {v} in that time?",
        "How many {o} get {vpp} during the shift?",
        "How many {o} {do} {subj} {v} in all?",
    ],
    ["{Subjz}一共{vz}了多少{cl}{oz}？", "这段时间一共{vz}了多少{cl}？"],
)
WR_DAYS = T(
    [
        "{Pron} {work} like this for {d} days.",
        "This goes on for {d} days.",
        "{Pron} {keep} this pace for {d} days.",
    ],
    ["{Subjz}这样干了{d}天。", "这样连续干了{d}天。"],
)
WR_DAYS_SAY = T(
    [
        "Over {d} days, that is {calc} {o}.",
        "In {d} days, {subj} {vx} {calc} {o}.",
        "Altogether, {calc} {o} are {vpp}.",
    ],
    ["{d}天一共{vz}了{calc}{cl}。", "总共{vz}了{calc}{cl}{oz}。"],
)
WR_DAYS_ASK = T(
    ["How many {o} {do} {subj} {v} in all those days?", "How many {o} are {vpp} in total?"],
    ["{Subjz}这几天一共{vz}了多少{cl}{oz}？", "总共{vz}了多少{cl}？"],
)
WR_JOB = T(
    [
        "The order is for {J} {o}.",
        "{Pron} {need} to {v} {J} {o} in total.",
        "The job calls for {J} {o}.",
    ],
    ["这批任务一共要{vz}{J}{cl}{oz}。", "{Subjz}一共需要{vz}{J}{cl}{oz}。"],
)
WR_LEFT_SAY = T(
    [
        "There are {calc} {o} left to {v}.",
        "That leaves {calc} {o}.",
        "{calc} {o} still need to be {vpp}.",
    ],
    ["还剩{calc}{cl}没{vz}。", "剩下{calc}{cl}。"],
)
WR_LEFT_ASK = T(
    [
        "How many {o} are still left to {v}?",
        "How many more {o} {do} {subj} need to {v}?",
        "How many {o} still need to be {vpp}?",
    ],
    ["还剩多少{cl}{oz}没{vz}？", "{Subjz}还需要{vz}多少{cl}？"],
)
WR_JOIN = T(
    [
        "Then {q3} joins {them}, {ving} {r3} {o} an hour.",
        "After that, {q3} comes to help and {v3s} {r3} {o} per hour.",
        "Later {q3}, who {v3s} {r3} {o} an hour, joins in.",
    ],
    ["然后{q3}也来帮忙，每小时{vz}{r3}{cl}。", "之后{q3}加入，每小时能{vz}{r3}{cl}{oz}。"],
)
WR_JOIN_SAY = T(
    [
        "Now they {v} {calc} {o} per hour.",
        "With {q3}, the rate is {calc} {o} per hour.",
        "The new rate is {calc} {o} an hour.",
    ],
    ["现在每小时能{vz}{calc}{cl}。", "加入后每小时一共{vz}{calc}{cl}。"],
)
WR_TLEFT_SAY = T(
    [
        "It will take {calc} more hours.",
        "Finishing the rest takes {calc} hours.",
        "So the rest of the job needs {calc} hours.",
    ],
    ["还需要{calc}小时。", "完成剩下的要{calc}小时。"],
)
WR_TLEFT_ASK = T(
    [
        "How many more hours will it take to finish?",
        "How long will it take to finish the rest of the job?",
        "How many hours will the rest of the job take?",
    ],
    ["还需要多少小时才能完成？", "完成剩下的工作要几小时？"],
)
WR_TIME_SAY = T(
    ["It will take {calc} hours.", "{Subj} will need {calc} hours.", "The job takes {calc} hours."],
    ["需要{calc}小时。", "{Subjz}要用{calc}小时。"],
)
WR_TIME_ASK = T(
    [
        "How many hours will it take?",
        "How long will the job take, in hours?",
        "How many hours {do} {subj} need to finish?",
    ],
    ["需要多少小时才能完成？", "{Subjz}几小时能完成？"],
)


STAGES = "two team done days left join tleft time"
# the subject slots of two workers or a team ("they work", "do they")
PLURAL = dict(subj="they", Pron="They", do="do", work="work", keep="keep", need="need", them="them")

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
DONE = Link("dn.", WR_DONE, WR_DONE_SAY, "done", "{cur}*{q}", "count", "hours", "hours", "h")
DAYS = Link("dy.", WR_DAYS, WR_DAYS_SAY, "done_days", "{cur}*{q}", "count", "days", "count", "d")
JOIN = Link("jn.", WR_JOIN, WR_JOIN_SAY, "new_rate", "{cur}+{q}", "rate", "rate3", "rate", "r3")


def _valid(s: frozenset) -> bool:
    """Work done in some hours, or the hours a job takes; each stage after the one it needs."""
    return (
        not ({"two", "team"} <= s)
        and (("time" in s) != ("done" in s))
        and ("time" not in s or not ({"days", "left", "join", "tleft"} & s))
        and ("days" not in s or "done" in s)
        and ("left" not in s or "done" in s)
        and ("tleft" not in s or "left" in s)
        and ("join" not in s or "tleft" in s)
    )


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    o, v, v3, ving, vpp, vz, oz, cl, rates = c.choice(TASKS)
    p = c.person()
    slots = dict(o=o, v=v, v3=v3, ving=ving, vpp=vpp, vz=vz, oz=oz, cl=cl, p=p, v3s=v3)
    intro(c, "work", p, 0.2)
    c.answer_kind = "count"
    rate, ask = _workers(c, chosen, rates, slots)
    if "time" in chosen:
        t = c.randint(2, 10)
        J = c.num("job", c.v(rate) * t, "count")
        c.fact("job.", WR_JOB, ifable=False, J=J, **slots)
        _, calc = c.calc("hours", f"{J.v}/{rate.v}", "hours")
        c.say("tms.", WR_TIME_SAY, calc=calc, **slots)
        c.ask("tmq.", WR_TIME_ASK, **slots)
        c.answer_kind = "hours"
        return
    if "done" not in chosen:
        c.ask("rq.", ask, **slots)
        return
    last = last_of(chosen, ["done", "days", "left", "join", "tleft"])
    cur = DONE(c, rate, c.randint(2, 8), last == "done", **slots)
    ask = WR_DONE_ASK
    if "days" in chosen:
        cur = DAYS(c, cur, c.randint(2, 6), last == "days", **slots)
        ask = WR_DAYS_ASK
    if "left" in chosen:
        ask = _left(c, chosen, last, rate, cur, rates, slots)
    c.ask("q.", ask, **slots)


def _workers(c: Ctx, chosen: frozenset, rates: tuple[int, int], slots: dict) -> tuple[Q, dict]:
    """One worker, two, or a team: the rate per hour (a step for two or a team), the subject
    slots, and the question about the rate."""
    p = slots["p"]
    if "two" in chosen:
        q = c.person()
        r1, r2 = (
            c.num("rate1", c.randint(*rates), "rate"),
            c.num("rate2", c.randint(*rates), "rate"),
        )
        expr = f"{r1.v}+{r2.v}"
        rate = stage(
            c, "two.", WR_TWO, WR_TWO_SAY, "rate", expr, "rate", q=q, r1=r1, r2=r2, **slots
        )
        slots.update(PLURAL, Subj=f"{p} and {q}", vx=slots["v"], Subjz=f"{p}和{q}")
        return rate, WR_RATE_ASK
    if "team" in chosen:
        n = c.num("workers", c.randint(2, 8), "people")
        r = c.num("rate_each", c.randint(*rates), "rate")
        expr = f"{n.v}*{r.v}"
        rate = stage(c, "team.", WR_TEAM, WR_TEAM_SAY, "rate", expr, "rate", n=n, r=r, **slots)
        slots.update(PLURAL, Subj="They", vx=slots["v"], Subjz="他们")
        return rate, WR_TEAM_ASK
    rate = c.num("rate", c.randint(*rates), "rate")
    c.fact("one.", WR_ONE, r=rate, **slots)
    slots.update(Subj=str(p), subj=p.he, Pron=p.He, vx=slots["v3"], Subjz=str(p))
    slots.update(do="does", work="works", keep="keeps", need="needs", them=p.him)
    return rate, None


def _left(c: Ctx, chosen, last: str, rate: Q, cur: Q, rates, slots: dict) -> dict:
    """The whole job, what is left of it, maybe a helper joining and the hours to finish;
    the question template."""
    r3 = c.randint(*rates) if "join" in chosen else 0
    final_rate = c.v(rate) + r3
    rest = final_rate * c.randint(2, 6) if "tleft" in chosen else c.randint(10, 200)
    J = c.num("job", c.v(cur) + rest, "count")
    text = c.fill("job.", WR_JOB, J=J, **slots)
    pos = len(c.facts) if last == "left" else c.choice([1, len(c.facts)])
    c.facts.insert(min(pos, len(c.facts)), text)
    c.ifable = len(c.facts) - 1 if last == "left" else None
    cur, calc = c.calc("left", f"{J.v}-{cur.v}", "count")
    c.say("lfs.", WR_LEFT_SAY, calc=calc, **slots)
    if "join" in chosen:
        q3 = c.person()
        rate = JOIN(c, rate, r3, q3=q3, **slots)
    if "tleft" not in chosen:
        return WR_LEFT_ASK
    cur, calc = c.calc("hours_left", f"{cur.v}/{rate.v}", "hours")
    c.say("tls.", WR_TLEFT_SAY, calc=calc, **slots)
    c.answer_kind = "hours"
    return WR_TLEFT_ASK
