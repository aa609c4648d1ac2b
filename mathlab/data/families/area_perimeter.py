"""area_perimeter: a rectangle's area (a second plot, an obstacle, a cost, bags) or its
perimeter (a gate, copies, a cost, posts).
"""

from __future__ import annotations

from fractions import Fraction

from mathlab.data.families._common import (
    Link,
    T,
    even_splits,
    intro,
    last_of,
    plan,
    pronouns,
    stage,
    times_word,
)
from mathlab.data.program import Ctx, Q, Retry

# (en, en plural, zh, indoor)
PLACES = [
    ("garden", "gardens", "花园", False),
    ("backyard", "backyards", "后院", False),
    ("patio", "patios", "露台", False),
    ("classroom floor", "classroom floors", "教室地面", True),
    ("playground", "playgrounds", "操场", False),
    ("living room floor", "living room floors", "客厅地面", True),
    ("vegetable patch", "vegetable patches", "菜地", False),
    ("dog run", "dog runs", "狗狗活动场", False),
    ("bedroom floor", "bedroom floors", "卧室地面", True),
]
SECOND = {
    False: [
        ("flower bed", "花坛"),
        ("sandbox", "沙坑"),
        ("porch", "门廊"),
        ("shed floor", "棚屋地面"),
    ],
    True: [
        ("hallway floor", "走廊地面"),
        ("closet floor", "储藏室地面"),
        ("kitchen floor", "厨房地面"),
    ],
}
OBSTACLES = {
    False: [("pond", "池塘"), ("shed", "小棚屋"), ("sandbox", "沙坑"), ("fountain", "喷泉")],
    True: [("bookshelf", "书架"), ("piano", "钢琴"), ("built-in cabinet", "固定柜子")],
}
MATERIALS = {
    False: [("sod", "草皮"), ("mulch", "覆盖物"), ("gravel", "碎石")],
    True: [("carpet", "地毯"), ("tile", "瓷砖"), ("wood flooring", "木地板")],
}
AP_DIMS = T(
    [
        "{p}'s {thing} is {l} {u} long and {w} {u} wide.",
        "A rectangular {thing} measures {l} {u} by {w} {u}.",
        "{p} has a rectangular {thing} that is {l} {u} long and {w} {u} wide.",
        "The {thing} behind {p}'s house is a rectangle, {l} {u} by {w} {u}.",
    ],
    ["{p}家的{thing}是一个长{l}米、宽{w}米的长方形。", "一块长方形的{thing}长{l}米，宽{w}米。"],
)
AP_REL = T(
    [
        "{p}'s rectangular {thing} is {w} {u} wide. Its length is {rel}.",
        "A rectangular {thing} is {w} {u} wide, and its length is {rel}.",
        "{p} is planning a rectangular {thing}. It will be {w} {u} wide, and its length will be {rel}.",
    ],
    ["{p}家的长方形{thing}宽{w}米，{zrel}。", "一块长方形{thing}宽{w}米，{zrel}。"],
)
AP_REL_SAY = T(
    [
        "The {thing} is {calc} {u} long.",
        "Its length is {calc} {u}.",
        "So the length is {calc} {u}.",
    ],
    ["长是{calc}米。", "{thing}长{calc}米。"],
)
AP_REL_ASK = T(
    ["How long is the {thing}, in {u}?", "What is the length of the {thing}?"],
    ["{thing}长多少米？", "这块{thing}的长是多少米？"],
)
AP_AREA_SAY = T(
    [
        "The area of the {thing} is {calc} square {u}.",
        "The {thing} covers {calc} square {u}.",
        "Its area is {calc} square {u}.",
    ],
    ["{thing}的面积是{calc}平方米。", "面积是{calc}平方米。"],
)
AP_AREA_ASK = T(
    [
        "What is the area of the {thing} in square {u}?",
        "How many square {u} is the {thing}?",
        "How big is the {thing}, in square {u}?",
    ],
    ["{thing}的面积是多少平方米？", "这块{thing}有多少平方米？"],
)
AP_SECOND = T(
    [
        "Beside it there is a {thing2} that is {l2} {u} by {w2} {u}.",
        "Next to it is a {thing2} measuring {l2} {u} by {w2} {u}.",
        "There is also a rectangular {thing2}, {l2} {u} long and {w2} {u} wide.",
    ],
    ["旁边还有一块长{l2}米、宽{w2}米的{thing2}。", "另外还有一个长{l2}米、宽{w2}米的{thing2}。"],
)
AP_SECOND_SAY = T(
    ["The {thing2} is {calc} square {u}.", "The {thing2} covers {calc} square {u}."],
    ["{thing2}的面积是{calc}平方米。", "{thing2}有{calc}平方米。"],
)
AP_BOTH_SAY = T(
    ["Together they cover {calc} square {u}.", "The total area is {calc} square {u}."],
    ["一共是{calc}平方米。", "总面积是{calc}平方米。"],
)
AP_BOTH_ASK = T(
    [
        "What is the total area of the {thing} and the {thing2}, in square {u}?",
        "How many square {u} do they cover altogether?",
        "What is their combined area in square {u}?",
    ],
    ["两块地一共多少平方米？", "{thing}和{thing2}的总面积是多少平方米？"],
)
AP_CUT = T(
    [
        "A {obs} that is {a} {u} by {b} {u} sits {prep} the {where}.",
        "Part of the {where} is taken up by a {obs} measuring {a} {u} by {b} {u}.",
        "There is a {obs} measuring {a} by {b} {u} in one corner.",
    ],
    ["里面有一个长{a}米、宽{b}米的{obs}。", "其中一角有一个{a}米乘{b}米的{obs}。"],
)
AP_CUT_SAY = T(
    ["The {obs} takes up {calc} square {u}.", "The {obs} covers {calc} square {u}."],
    ["{obs}占了{calc}平方米。", "{obs}的面积是{calc}平方米。"],
)
AP_LEFT_SAY = T(
    [
        "That leaves {calc} square {u}.",
        "The open part is {calc} square {u}.",
        "So {calc} square {u} are left.",
    ],
    ["还剩{calc}平方米。", "剩下的面积是{calc}平方米。"],
)
AP_LEFT_ASK = T(
    [
        "How many square {u} are not covered by the {obs}?",
        "How much area, in square {u}, is left?",
        "What area is left uncovered, in square {u}?",
    ],
    ["没有被{obs}占用的面积是多少平方米？", "还剩多少平方米？"],
)
AP_COST = T(
    [
        "{Mat} costs {pr} per square {u1}.",
        "Covering it with {mat} costs {pr} for each square {u1}.",
        "{p} will cover it with {mat} that costs {pr} per square {u1}.",
    ],
    ["{mat}每平方米{pr}。", "铺{mat}每平方米要{pr}。"],
)
AP_COST_SAY = T(
    ["It will cost {calc}.", "The {mat} costs {calc}.", "So {p} pays {calc}."],
    ["一共要{calc}。", "需要花{calc}。"],
)
AP_COST_ASK = T(
    [
        "How much will it cost?",
        "What is the cost of the {mat}, in dollars?",
        "How much money does {p} need for the {mat}?",
    ],
    ["一共要花多少钱？", "铺{mat}需要多少元？"],
)
AP_BAGS = T(
    [
        "One bag of seed covers {cov} square {u}.",
        "Each bag of fertilizer is enough for {cov} square {u}.",
    ],
    ["一袋种子可以撒{cov}平方米。", "每袋肥料够用{cov}平方米。"],
)
AP_BAGS_SAY = T(
    ["{p} needs {calc} bags.", "That takes {calc} bags."], ["需要{calc}袋。", "一共要{calc}袋。"]
)
AP_BAGS_ASK = T(
    ["How many bags does {p} need?", "How many bags will it take?"],
    ["需要多少袋？", "{p}要准备几袋？"],
)
AP_PERIM_SAY = T(
    [
        "The perimeter is {calc} {u}.",
        "Going all the way around is {calc} {u}.",
        "The distance around the {thing} is {calc} {u}.",
    ],
    ["周长是{calc}米。", "{thing}的周长是{calc}米。"],
)
AP_PERIM_ASK = T(
    [
        "How many {u} of fencing does {p} need to go around the {thing}?",
        "What is the perimeter of the {thing}?",
        "How many {u} is it all the way around the {thing}?",
    ],
    ["{thing}的周长是多少米？", "围{thing}一圈需要多少米？"],
)
AP_GATE = T(
    [
        "{p} will leave a {g}-{u1} opening for a gate.",
        "A gate {g} {u} wide will take the place of some fence.",
        "{p} wants a {g}-{u1}-wide gap for the gate.",
    ],
    ["{p}要留出{g}米宽的门。", "其中{g}米留作大门，不用围栏。"],
)
AP_GATE_SAY = T(
    ["{p} needs {calc} {u} of fencing.", "Leaving out the gate, that is {calc} {u}."],
    ["需要{calc}米围栏。", "去掉门，还要{calc}米。"],
)
AP_FENCE_ASK = T(
    ["How many {u} of fencing does {p} need?", "How much fencing, in {u}, is needed?"],
    ["需要多少米围栏？", "{p}要买多少米围栏？"],
)
AP_PENS = T(
    [
        "{p} is fencing {n} {things} exactly like this one.",
        "There are {n} identical {things} to fence.",
    ],
    ["{p}要围{n}块这样的{thing}。", "一共有{n}块一样的{thing}要围起来。"],
)
AP_PENS_SAY = T(
    ["For all of them, {p} needs {calc} {u}.", "That makes {calc} {u} of fencing in all."],
    ["一共需要{calc}米。", "全部围起来要{calc}米。"],
)
AP_FCOST = T(
    ["Fencing costs {pr} per {u1}.", "Each {u1} of fence costs {pr}."],
    ["围栏每米{pr}。", "每米围栏要{pr}。"],
)
AP_FCOST_SAY = T(
    ["The fencing costs {calc}.", "So the fence will cost {calc}."],
    ["围栏要花{calc}。", "一共要{calc}。"],
)
AP_FCOST_ASK = T(
    ["How much will the fencing cost?", "How much money does {p} spend on fencing?"],
    ["围栏一共要花多少钱？", "{p}买围栏要花多少元？"],
)
AP_POSTS = T(
    ["{p} puts a post every {sp} {u} along the fence.", "The fence needs a post every {sp} {u}."],
    ["每隔{sp}米立一根柱子。", "{p}沿着围栏每{sp}米放一根柱子。"],
)
AP_POSTS_SAY = T(
    ["{p} needs {calc} posts.", "That is {calc} posts."], ["需要{calc}根柱子。", "一共{calc}根。"]
)
AP_POSTS_ASK = T(
    ["How many posts does {p} need?", "How many posts go around the {thing}?"],
    ["一共需要多少根柱子？", "{p}要准备几根柱子？"],
)


STAGES = "rel area second:2 cut:2 cost bags perim gate pens fcost posts"
AREA = {"rel", "area", "second", "cut", "cost", "bags"}
# dollars per square unit of a material, and per unit of fence
AREA_PRICES = [1, 2, 3, 4, 5, Fraction(3, 2), Fraction(5, 2), Fraction(1, 2)]
FENCE_PRICES = [2, 3, 4, 5, 6, 8, 10, 12, Fraction(5, 2), Fraction(15, 2)]

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
COST = Link("co.", AP_COST, AP_COST_SAY, "cost", "{cur}*{q}", "money", "price_per", "money", "pr")
BAGS = Link("bg.", AP_BAGS, AP_BAGS_SAY, "bags", "{cur}/{q}", "count", "coverage", "area", "cov")
GATE = Link("gt.", AP_GATE, AP_GATE_SAY, "fence", "{cur}-{q}", "length", "gate", "length", "g")
PENS = Link("pn.", AP_PENS, AP_PENS_SAY, "all_fence", "{cur}*{q}", "length", "copies", "count", "n")
FCOST = Link(
    "fc.", AP_FCOST, AP_FCOST_SAY, "cost", "{cur}*{q}", "money", "price_per", "money", "pr"
)
POSTS = Link(
    "po.", AP_POSTS, AP_POSTS_SAY, "posts", "{cur}/{q}", "count", "spacing", "length", "sp"
)


def _valid(s: frozenset) -> bool:
    """The area and what follows from it, or the perimeter and what follows from that."""
    if "perim" in s:
        return (
            not (s & (AREA - {"rel"}))
            and not {"fcost", "posts"} <= s
            and not {"gate", "posts"} <= s
        )
    return s <= AREA and "area" in s and not {"cost", "bags"} <= s


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    p = c.person()
    perimeter = "perim" in chosen
    thing_en, things_en, thing_zh, indoor = c.choice(
        [x for x in PLACES if not (perimeter and x[3])]
    )
    zh = c.lang == "zh"
    feet = not zh and c.chance(0.65)
    u, u1 = ("feet", "foot") if feet else ("meters", "meter")
    if zh:
        u = u1 = "米"
    slots = pronouns(p, thing=thing_zh if zh else thing_en, things=things_en, u=u, u1=u1)
    if thing_en in ("garden", "backyard", "vegetable patch"):
        intro(c, "garden", p, 0.2)
    W = c.randint(3, 30)
    w = c.num("width", W, "length")
    if "rel" in chosen:
        length = _relative_length(c, w, slots)
    else:
        length = c.num("length", W + c.randint(1, 25), "length")
        c.fact("dim.", AP_DIMS, l=length, w=w, **slots)
    if perimeter:
        _perimeter(c, chosen, length, w, slots)
    else:
        _area(c, chosen, length, w, indoor, slots)


def _relative_length(c: Ctx, w: Q, slots: dict) -> Q:
    """The length as a multiple of the width or some units more than it (a step)."""
    if c.chance(0.5):
        m = c.randint(2, 4)
        var = f"times{len(c.inputs)}"
        if c.lang == "zh":
            zrel = f"长是宽的{c.num(var, m, 'mult', word=False)}倍"
            rel = ""
        else:
            rel, zrel = f"{times_word(c, var, m)} its width", ""
        expr = f"{w.v}*{var}"
    else:
        k = c.num("longer", c.randint(2, 20), "length")
        rel, zrel = f"{k} {slots['u']} more than its width", f"长比宽多{k}米"
        expr = f"{w.v}+{k.v}"
    return stage(
        c, "rel.", AP_REL, AP_REL_SAY, "length", expr, "length", w=w, rel=rel, zrel=zrel, **slots
    )


def _area(c: Ctx, chosen, length: Q, w: Q, indoor: bool, slots: dict) -> None:
    """The area; maybe a second plot added or an obstacle taken off, then what covering it
    costs or how many bags it takes."""
    zh = c.lang == "zh"
    cur, calc = c.calc("area", f"{length.v}*{w.v}", "area")
    c.say("ars.", AP_AREA_SAY, calc=calc, **slots)
    ask = AP_AREA_ASK
    c.answer_kind = "area"
    if "second" in chosen:
        t2_en, t2_zh = c.choice(SECOND[indoor])
        l2 = c.num("length2", c.randint(3, 20), "length")
        w2 = c.num("width2", c.randint(2, 15), "length")
        slots["thing2"] = t2_zh if zh else t2_en
        expr = f"{l2.v}*{w2.v}"
        a2 = stage(c, "sc.", AP_SECOND, AP_SECOND_SAY, "area2", expr, "area", l2=l2, w2=w2, **slots)
        cur, calc = c.calc("total_area", f"{cur.v}+{a2.v}", "area")
        c.say("bts.", AP_BOTH_SAY, calc=calc, **slots)
        ask = AP_BOTH_ASK
    if "cut" in chosen:
        ob_en, ob_zh = c.choice(OBSTACLES[indoor])
        a = c.num("obs_length", c.randint(2, max(2, min(int(c.v(length)) - 1, 12))), "length")
        b = c.num("obs_width", c.randint(2, max(2, min(int(c.v(w)) - 1, 10))), "length")
        slots.update(
            obs=ob_zh if zh else ob_en, where=slots["thing"], prep="on" if indoor else "in"
        )
        ob = stage(
            c, "ct.", AP_CUT, AP_CUT_SAY, "obstacle", f"{a.v}*{b.v}", "area", a=a, b=b, **slots
        )
        cur, calc = c.calc("open_area", f"{cur.v}-{ob.v}", "area")
        if c.v(cur) < 1:
            raise Retry("obstacle bigger than the area")
        c.say("lfs.", AP_LEFT_SAY, calc=calc, **slots)
        ask = AP_LEFT_ASK
    if "cost" in chosen:
        mat_en, mat_zh = c.choice(MATERIALS[indoor])
        mat = mat_zh if zh else mat_en
        slots.update(mat=mat, Mat=mat.capitalize())
        cur = COST(c, cur, c.choice(AREA_PRICES), True, **slots)
        ask = AP_COST_ASK
        c.answer_kind = "money"
    if "bags" in chosen:
        sizes = even_splits(c.v(cur), 5, 50, 2, "area does not divide into bags")
        BAGS(c, cur, c.choice(sizes), True, **slots)
        ask = AP_BAGS_ASK
        c.answer_kind = "count"
    c.ask("q.", ask, **slots)


def _perimeter(c: Ctx, chosen, length: Q, w: Q, slots: dict) -> None:
    """The perimeter; maybe less a gate or times identical pens, then what the fence costs
    or how many posts it takes."""
    cur, calc = c.calc("perimeter", f"2*({length.v}+{w.v})", "length")
    c.say("pes.", AP_PERIM_SAY, calc=calc, **slots)
    ask = AP_PERIM_ASK
    c.answer_kind = "length"
    last = last_of(chosen, ["gate", "pens", "fcost", "posts"], "perim")
    if "gate" in chosen:
        cur = GATE(c, cur, c.randint(2, 6), last == "gate", **slots)
    if "pens" in chosen:
        cur = PENS(c, cur, c.randint(2, 5), last == "pens", **slots)
    if {"gate", "pens"} & chosen:
        ask = AP_FENCE_ASK
    if "fcost" in chosen:
        cur = FCOST(c, cur, c.choice(FENCE_PRICES), True, **slots)
        ask = AP_FCOST_ASK
        c.answer_kind = "money"
    if "posts" in chosen:
        sizes = even_splits(c.v(cur), 2, 12, 4, "posts do not fit evenly")
        POSTS(c, cur, c.choice(sizes), True, **slots)
        ask = AP_POSTS_ASK
        c.answer_kind = "count"
    c.ask("q.", ask, **slots)
