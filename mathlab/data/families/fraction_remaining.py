"""fraction_remaining: "sold a third of them, then gave 25% of the rest away"."""

from __future__ import annotations

from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.families._common import (
    BAGS,
    T,
    even_splits,
    fraction_text,
    intro,
    is_food,
    pronouns,
    stage,
)
from mathlab.data.program import Ctx, Q, Retry

FR_START = T(
    [
        "{p} {got} {T} {o.pl}.",
        "There are {T} {o.pl} in {p}'s {box.sg}.",
        "{p}'s {box.sg} holds {T} {o.pl}.",
        "{p} has {T} {o.pl}.",
    ],
    ["{p}有{T}{o.cl}{o.zh}。", "一{box.zh}{o.zh}有{T}{o.cl}。"],
)
FR_SRC = T(
    [
        "{p} has {a} {box.pl} of {o.pl} with {b} in each.",
        "{p} bought {a} {box.pl} of {o.pl}, and each {box.sg} has {b} {o.pl}.",
    ],
    [
        "{p}有{a}{box.zh}{o.zh}，每{box.zh}{b}{o.cl}。",
        "{p}买了{a}{box.zh}{o.zh}，每{box.zh}有{b}{o.cl}。",
    ],
)
FR_SRC_SAY = T(
    ["{p} has {calc} {o.pl}.", "That is {calc} {o.pl} in all."],
    ["{p}一共有{calc}{o.cl}{o.zh}。", "一共{calc}{o.cl}。"],
)
FR_PART = T(
    ["{He} {verb} {f} of {them}.", "Then {he} {verb} {f} of {them}.", "{p} {verb} {f} of {them}."],
    ["{p.ta}{vz}{them}{f}。", "然后{p}{vz}{them}{f}。"],
)
FR_PART_SAY = T(
    ["{He} {verb} {calc} {o.pl}.", "That is {calc} {o.pl}.", "{f} of {cur} is {calc}."],
    ["{p.ta}{vz}{calc}{o.cl}。", "{cur}的{f}是{calc}。"],
)
FR_PART_ASK = T(
    [
        "How many {o.pl} did {p} {vb}?",
        "Find how many {o.pl} {p} {verb}.",
        "What is the number of {o.pl} {p} {verb}?",
    ],
    ["{p}{vz}多少{o.cl}{o.zh}？", "{p.ta}一共{vz}几{o.cl}？"],
)
FR_REST_SAY = T(
    ["That leaves {calc} {o.pl}.", "{He} has {calc} {o.pl} left.", "So {calc} {o.pl} remain."],
    ["还剩{calc}{o.cl}。", "剩下{calc}{o.cl}{o.zh}。"],
)
FR_SUB = T(
    [
        "After that, {he} {verb} {k} more.",
        "Then {he} {verb} {k} {o.pl} to {q}.",
        "Later, {p} {verb} another {k} {o.pl}.",
    ],
    ["之后{p.ta}又{vz}{k}{o.cl}。", "然后{p}{vz}{k}{o.cl}给{q}。"],
)
FR_SUB_SAY = T(
    ["Now {he} has {calc} {o.pl}.", "That leaves {calc} {o.pl}."],
    ["现在还有{calc}{o.cl}。", "还剩{calc}{o.cl}。"],
)
FR_REST_ASK = T(
    [
        "How many {o.pl} does {p} have left?",
        "How many {o.pl} are left?",
        "How many {o.pl} remain?",
        "How many {o.pl} does {p} still have?",
    ],
    ["{p}还剩多少{o.cl}{o.zh}？", "最后还剩几{o.cl}？"],
)
FR_SPLIT = T(
    [
        "{He} puts the rest into {n} {bags} with the same number in each.",
        "{He} divides what is left equally into {n} {bags}.",
    ],
    ["{p.ta}把剩下的平均装进{n}个袋子。", "剩下的{p.ta}平均分成{n}份。"],
)
FR_SPLIT_SAY = T(
    ["Each {bag} has {calc} {o.pl}.", "There are {calc} {o.pl} in each {bag}."],
    ["每份{calc}{o.cl}。", "每袋有{calc}{o.cl}。"],
)
FR_SPLIT_ASK = T(
    ["How many {o.pl} are in each {bag}?", "How many {o.pl} go in each {bag}?"],
    ["每份有多少{o.cl}？", "每袋装几{o.cl}？"],
)
# (en past, en base, zh) verbs for taking some away
FR_VERBS = [
    ("sold", "sell", "卖了"),
    ("gave away", "give away", "送出了"),
    ("used", "use", "用掉了"),
    ("donated", "donate", "捐出了"),
]
FR_FOOD_VERBS = [
    ("ate", "eat", "吃了"),
    ("sold", "sell", "卖了"),
    ("gave away", "give away", "送出了"),
]
# starting amounts with many divisors
NICE = [12, 20, 24, 30, 36, 40, 48, 60, 72, 80, 90, 96]
NICE += [100, 120, 144, 150, 160, 180, 200, 240, 300, 360]
STEPS = {"frac": 2, "pct": 2, "sub": 1, "part": 1, "split": 1}


def _ops(c: Ctx) -> list[str]:
    """The operations, in order, that make ``c.target_steps`` steps: maybe ``src`` (boxes of
    them) first, then fractions or percents taken away (``frac``/``pct``, two steps each) and
    some more given away (``sub``), ending maybe with one part asked for or the rest split."""
    r = c.target_steps
    ops: list[str] = []
    if r >= 2 and c.chance(0.3):
        ops.append("src")
        r -= 1
    first = True
    while r > 0:
        choices = []
        if r >= 2:
            choices += ["frac", "frac", "pct"]
        if not first and ops[-1] != "sub" and r >= 2:
            choices.append("sub")
        if r == 1:
            choices += ["part", "split"] if not first else ["part"]
        op = c.choice(choices)
        ops.append(op)
        r -= STEPS[op]
        first = False
    return ops


def build(c: Ctx) -> None:
    ops = _ops(c)
    p = c.person()
    noun = c.choice([n for n in L.nouns("collect") + L.nouns("bake") + L.nouns("farm")])
    box = c.choice(L.CONTAINERS)
    food = is_food(noun)
    slots = pronouns(p, o=noun, box=box)
    got = "baked" if "bake" in noun.tags else ("picked" if "farm" in noun.tags else "collected")
    intro(
        c, "farm" if "farm" in noun.tags else ("bakery" if "bake" in noun.tags else "store"), p, 0.2
    )
    if ops[0] == "src":
        a = c.num("boxes", c.randint(2, 10), "count")
        b = c.num("per_box", c.choice([6, 10, 12, 15, 20, 24, 30]), "count")
        expr = f"{a.v}*{b.v}"
        cur = stage(c, "src.", FR_SRC, FR_SRC_SAY, "total", expr, "count", a=a, b=b, **slots)
        ops = ops[1:]
    else:
        cur = c.num("total", c.choice(NICE), "count")
        c.fact("st.", FR_START, T=cur, got=got, **slots)
    them_first = True
    used_verbs: list[tuple[str, str, str]] = []
    for i, op in enumerate(ops):
        last = i == len(ops) - 1
        value = c.v(cur)
        if c.lang == "zh":
            them = "它们的" if them_first else "剩下的"
        else:
            rest = ["the rest", f"the remaining {noun.pl}", "what was left"]
            them = "them" if them_first else c.choice(rest)
        pool = FR_FOOD_VERBS if food and value <= 40 else FR_VERBS
        verbs = [vv for vv in pool if vv not in used_verbs] or FR_VERBS
        verb, vb, vz = c.choice(verbs)
        used_verbs.append((verb, vb, vz))
        vslots = dict(slots, verb=verb, vb=vb, vz=vz, them=them)
        if op in ("frac", "pct", "part"):
            f, expr = _part_of(c, op, cur)
            part = stage(
                c, "pt.", FR_PART, FR_PART_SAY, "part", expr, "count", last, f=f, cur=cur, **vslots
            )
            if op == "part":
                c.ask("ptq.", FR_PART_ASK, **vslots)
                return
            cur, calc = c.calc("left", f"{cur.v}-{part.v}", "count")
            c.say("rs.", FR_REST_SAY, calc=calc, **vslots)
            them_first = False
        elif op == "sub":
            if value < 3:
                raise Retry("too few left")
            k = c.num("more", c.randint(2, min(int(value) - 1, 30)), "count")
            q = c.person()
            expr = f"{cur.v}-{k.v}"
            cur = stage(
                c, "sb.", FR_SUB, FR_SUB_SAY, "left", expr, "count", last, k=k, q=q, **vslots
            )
        else:
            _split(c, cur, vslots)
            return
    c.ask("q.", FR_REST_ASK, **slots)


def _split(c: Ctx, cur: Q, slots: dict) -> None:
    """What is left, split equally into bags: how many in each."""
    sizes = even_splits(c.v(cur), 2, 10, 2, "the rest does not split")
    n = c.num("parts", c.choice(sizes), "count")
    bag, bags = c.choice(BAGS[:2] + [("basket", "baskets")])
    slots = dict(slots, n=n, bag=bag, bags=bags)
    stage(c, "sp.", FR_SPLIT, FR_SPLIT_SAY, "each", f"{cur.v}/{n.v}", "count", True, **slots)
    c.ask("spq.", FR_SPLIT_ASK, **slots)


def _part_of(c: Ctx, op: str, cur: Q) -> tuple[str, str]:
    """A percent or a fraction of ``cur`` that comes out whole: (how the text writes it, the
    step's expression)."""
    value = c.v(cur)
    if op == "pct" or (op == "part" and c.chance(0.4)):
        opts = [
            x
            for x in (10, 20, 25, 40, 50, 60, 75, 30)
            if (value * x / 100).denominator == 1 and 0 < value * x / 100 < value
        ]
        if not opts:
            raise Retry("no percent fits")
        pq = c.num("percent", c.choice(opts), "percent")
        return str(pq), f"{cur.v}*{pq.v}/100"
    opts = [
        (a, b)
        for b in (2, 3, 4, 5)
        for a in range(1, b)
        if value % b == 0 and Fraction(a, b).denominator == b
    ]
    if not opts:
        raise Retry("no fraction fits")
    a, b = c.choice(opts)
    qa, qb, f = fraction_text(c, a, b)
    return f, f"{cur.v}*{qa.v}/{qb.v}"
