"""sharing_division: things gathered, shared equally, maybe eaten and packed into bags."""

from __future__ import annotations

from mathlab.data import lexicon as L
from mathlab.data.families._common import (
    BAGS,
    Link,
    T,
    even_splits,
    intro,
    is_food,
    plan,
    pronouns,
    stage,
)
from mathlab.data.program import Ctx, Q, Retry

RECIPIENTS = [
    ("friends", "friend", "朋友"),
    ("classmates", "classmate", "同学"),
    ("teammates", "teammate", "队友"),
    ("neighbors", "neighbor", "邻居"),
    ("cousins", "cousin", "表兄妹"),
    ("kids at the party", "kid", "小朋友"),
]
SH_START = T(
    [
        "{p} has {T} {o.pl}.",
        "{p} collected {T} {o.pl}.",
        "{p} brought {T} {o.pl} to school.",
        "There are {T} {o.pl} in {p}'s {box.sg}.",
    ],
    ["{p}有{T}{o.cl}{o.zh}。", "{p}一共带来了{T}{o.cl}{o.zh}。"],
)
SH_SRC = T(
    [
        "{p} bought {a} {box.pl} of {o.pl} with {b} {o.pl} in each {box.sg}.",
        "{p} has {a} {box.pl} of {o.pl}. Each {box.sg} holds {b} {o.pl}.",
        "{p} picked up {a} {box.pl} of {o.pl}, and every {box.sg} had {b} {o.pl} in it.",
        "{p} got {a} {box.pl} of {o.pl}; there are {b} {o.pl} in a {box.sg}.",
    ],
    [
        "{p}买了{a}{box.zh}{o.zh}，每{box.zh}有{b}{o.cl}。",
        "{p}有{a}{box.zh}{o.zh}，每{box.zh}装着{b}{o.cl}。",
    ],
)
SH_SRC_SAY = T(
    [
        "{p} has {calc} {o.pl}.",
        "There are {calc} {o.pl} in all.",
        "{a} {box.pl} hold {calc} {o.pl}.",
        "In total, {he} has {calc} {o.pl}.",
    ],
    ["{p}一共有{calc}{o.cl}{o.zh}。", "{a}{box.zh}一共有{calc}{o.cl}。"],
)
SH_GIFT = T(
    [
        "{p}'s {rel} gave {him} {g} more {o.pl}.",
        "Then {he} found {g} more {o.pl}.",
        "{He} got {g} more {o.pl} from {q}.",
        "Later, {q} gave {p} another {g} {o.pl}.",
    ],
    ["{q}又送给{p}{g}{o.cl}。", "后来{p.ta}又得到了{g}{o.cl}{o.zh}。"],
)
SH_GIFT_SAY = T(
    [
        "Now {he} has {calc} {o.pl}.",
        "With the extra ones, {p} has {calc} {o.pl}.",
        "That makes {calc} {o.pl}.",
    ],
    ["现在{p}有{calc}{o.cl}。", "这样一共有{calc}{o.cl}。"],
)
SH_KEEP = T(
    [
        "{p} kept {k} {o.pl} for {himself}.",
        "{He} set aside {k} {o.pl} for {his} little brother.",
        "{He} put {k} of them away for later.",
        "First, {he} took out {k} {o.pl} for {himself}.",
    ],
    ["{p}先给自己留了{k}{o.cl}。", "{p.ta}拿出{k}{o.cl}留给弟弟。"],
)
SH_KEEP_SAY = T(
    [
        "That leaves {calc} {o.pl} to share.",
        "{p} has {calc} {o.pl} left to give out.",
        "After that, {calc} {o.pl} are left.",
    ],
    ["还剩{calc}{o.cl}可以分。", "剩下{calc}{o.cl}。"],
)
SH_SHARE = T(
    [
        "{He} shared {them} equally among {n} {r}.",
        "{p} divided {them} evenly among {n} {r}.",
        "{He} gave the same number of {o.pl} to each of {n} {r}, using all of {them}.",
        "Then {he} split {them} equally between {n} {r}.",
    ],
    ["{p.ta}把{them}平均分给{n}个{r}。", "然后{p}把{them}平分给了{n}个{r}。"],
)
SH_SHARE_ASK = T(
    [
        "How many {o.pl} did each {r1} get?",
        "How many {o.pl} does each of the {r} receive?",
        "How many {o.pl} went to each {r1}?",
        "How many {o.pl} did every {r1} get?",
    ],
    ["每个{r}分到多少{o.cl}？", "每个{r}能得到几{o.cl}{o.zh}？"],
)
SH_SHARE_SAY = T(
    [
        "Each {r1} got {calc} {o.pl}.",
        "{calc} {o.pl} went to each {r1}.",
        "So each of the {r} received {calc} {o.pl}.",
    ],
    ["每个{r}分到{calc}{o.cl}。", "平均每个{r}得到{calc}{o.cl}{o.zh}。"],
)
SH_EAT = T(
    [
        "Each {r1} {verb} {e} of them.",
        "Then every {r1} {verb} {e} {o.pl}.",
        "Each {r1} later {verb} {e} {o.pl}.",
    ],
    ["每个{r}{verb}{e}{o.cl}。", "后来每个{r}又{verb}{e}{o.cl}。"],
)
SH_EAT_ASK = T(
    [
        "How many {o.pl} does each {r1} have left?",
        "How many {o.pl} are left for each {r1}?",
        "How many {o.pl} does each {r1} have now?",
    ],
    ["每个{r}还剩多少{o.cl}？", "现在每个{r}还有几{o.cl}{o.zh}？"],
)
SH_EAT_SAY = T(
    [
        "Each {r1} has {calc} {o.pl} left.",
        "That leaves {calc} {o.pl} per {r1}.",
        "Now every {r1} has {calc} {o.pl}.",
    ],
    ["每个{r}还剩{calc}{o.cl}。", "现在每个{r}有{calc}{o.cl}。"],
)
SH_BAGS = T(
    [
        "Each {r1} then packed the {o.pl} into {bags} of {b}.",
        "Every {r1} put the {o.pl} into small {bags}, {b} in each {bag}.",
        "Each {r1} grouped the {o.pl} into {bags} with {b} in every {bag}.",
    ],
    ["每个{r}把{o.zh}每{b}{o.cl}装成一袋。", "每个{r}把{o.zh}按每袋{b}{o.cl}装好。"],
)
SH_BAGS_ASK = T(
    [
        "How many {bags} did each {r1} fill?",
        "How many {bags} does each {r1} need?",
        "How many {bags} does each {r1} end up with?",
    ],
    ["每个{r}能装多少袋？", "每个{r}需要几个袋子？"],
)
SH_BAGS_SAY = T(
    [
        "Each {r1} filled {calc} {bags}.",
        "That makes {calc} {bags} for each {r1}.",
        "So every {r1} needs {calc} {bags}.",
    ],
    ["每个{r}装了{calc}袋。", "可以装{calc}袋。"],
)

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
KEEP = Link("keep.", SH_KEEP, SH_KEEP_SAY, "to_share", "{cur}-{q}", "count", "kept", "count", "k")
SHARE = Link(
    "share.", SH_SHARE, SH_SHARE_SAY, "each", "{cur}/{q}", "count", "people", "people", "n"
)
EAT = Link("eat.", SH_EAT, SH_EAT_SAY, "left_each", "{cur}-{q}", "count", "used", "count", "e")
GIVERS = {
    True: ["aunt", "grandmother", "older sister", "neighbor"],
    False: ["uncle", "grandfather", "older brother", "neighbor"],
}


def build(c: Ctx) -> None:
    chosen = plan(c, "src gift keep share eat bags", lambda s: "share" in s)
    p = c.person()
    noun = c.choice(L.nouns("share"))
    box = c.choice(L.CONTAINERS)
    r_pl, r_sg, r_zh = c.choice(RECIPIENTS)
    r = r_zh if c.lang == "zh" else r_pl
    slots = pronouns(p, o=noun, box=box, r=r, r1=r_sg)
    intro(c, c.choice(["school", "party", "bakery" if "bake" in noun.tags else "store"]), p, 0.25)
    if "src" in chosen:
        a = c.num("boxes", c.randint(2, 8), "count")
        b = c.num("per_box", c.choice([4, 5, 6, 8, 10, 12, 15, 16, 18, 20, 24]), "count")
        cur = stage(
            c, "src.", SH_SRC, SH_SRC_SAY, "total", f"{a.v}*{b.v}", "count", a=a, b=b, **slots
        )
    else:
        cur = c.num("total", c.randint(2, 10) * c.randint(3, 15), "count")
        c.fact("st.", SH_START, T=cur, **slots)
    them = ("这些" + noun.zh) if c.lang == "zh" else "them"
    if "gift" in chosen:
        g = c.num("more", c.randint(2, 20), "count")
        q = c.person()
        rel = c.choice(GIVERS[p.female])
        expr = f"{cur.v}+{g.v}"
        cur = stage(
            c, "gift.", SH_GIFT, SH_GIFT_SAY, "now", expr, "count", g=g, q=q, rel=rel, **slots
        )
    if "keep" in chosen:
        hi = min(int(c.v(cur)) - 4, 15)
        if hi < 2:
            raise Retry("too few to keep some")
        cur = KEEP(c, cur, c.randint(2, max(2, hi)), **slots)
        them = ("剩下的" + noun.zh) if c.lang == "zh" else "the rest"
    _share(c, chosen, cur, them, slots)


def _share(c: Ctx, chosen: frozenset, cur: Q, them: str, slots: dict) -> None:
    """Share ``cur`` equally; then maybe each eats some and packs the rest into bags."""
    need = 2 + ("eat" in chosen) * 2 + ("bags" in chosen) * 2
    people = c.choice(even_splits(c.v(cur), 2, 10, need, "no even split"))
    last = not ({"eat", "bags"} & chosen)
    cur = SHARE(c, cur, people, last, them=them, **slots)
    if last:
        c.ask("shareq.", SH_SHARE_ASK, **slots)
        return
    if "eat" in chosen:
        food = is_food(slots["o"])
        if c.lang == "zh":
            verb = "吃了" if food else c.choice(["送出了", "用掉了"])
        else:
            verb = "ate" if food else c.choice(["gave away", "lost", "traded away", "used"])
        hi = int(c.v(cur)) - (4 if "bags" in chosen else 2)
        if hi < 2:
            raise Retry("nothing left to eat")
        slots = dict(slots, verb=verb)
        cur = EAT(c, cur, c.randint(2, hi), "bags" not in chosen, **slots)
        if "bags" not in chosen:
            c.ask("eatq.", SH_EAT_ASK, **slots)
            return
    b = c.num("per_bag", c.choice(even_splits(c.v(cur), 2, 10, 2, "no even packing")), "count")
    bag, bags = c.choice(BAGS)
    slots = dict(slots, bag=bag, bags=bags)
    stage(c, "bags.", SH_BAGS, SH_BAGS_SAY, "bags", f"{cur.v}/{b.v}", "count", True, b=b, **slots)
    c.ask("bagsq.", SH_BAGS_ASK, **slots)
