"""unit_price: the price of one from a pack, the cost of several, or two stores compared."""

from __future__ import annotations

from mathlab.data import lexicon as L
from mathlab.data.families._common import T, dollars, pronouns
from mathlab.data.families._money import ASK_TOTAL, extra_item, money_tail, tail_options
from mathlab.data.program import Ctx, Retry

UP_PACK = T(
    [
        "A {box.sg} of {n} {o.pl} costs {P}.",
        "{p} paid {P} for a {box.sg} of {n} {o.pl}.",
        "At the store, {n} {o.pl} sell for {P}.",
        "{p} sees a {box.sg} with {n} {o.pl} in it on sale for {P}.",
    ],
    ["一{box.zh}{o.zh}有{n}{o.cl}，售价{P}。", "{p}花{P}买了一{box.zh}{o.zh}，里面有{n}{o.cl}。"],
)
UP_ASK1 = T(
    [
        "How much does one {o.sg} cost?",
        "What is the price of a single {o.sg}?",
        "How much is each {o.sg}, in dollars?",
        "What is the cost per {o.sg}?",
    ],
    ["每{o.cl}{o.zh}多少钱？", "一{o.cl}{o.zh}的价格是多少元？"],
)
UP_SAY1 = T(
    [
        "Each {o.sg} costs {calc}.",
        "One {o.sg} costs {calc}.",
        "The price per {o.sg} is {calc}.",
        "So a single {o.sg} is {calc}.",
    ],
    ["每{o.cl}{o.zh}{calc}。", "一{o.cl}{o.zh}的价格是{calc}。"],
)
UP_NEED = T(
    [
        "{p} needs {m} {o.pl} for a class project.",
        "{p} wants to buy {m} {o.pl} at this price.",
        "{p} buys {m} {o.pl} at the same price per {o.sg}.",
    ],
    ["{p}需要买{m}{o.cl}{o.zh}。", "{p}想按这个价格买{m}{o.cl}{o.zh}。"],
)
UP_ASK2 = T(
    [
        "How much will {p} pay?",
        "How much money does {p} need for them?",
        "How much will the {o.pl} cost {him}?",
        "What is the cost of the {o.pl} {p} needs?",
    ],
    ["{p}需要付多少钱？", "买这些{o.zh}要花多少元？"],
)
UP_SAY2 = T(
    ["{m} {o.pl} cost {calc}.", "So {p} pays {calc}.", "{He} will need {calc}."],
    ["{m}{o.cl}{o.zh}要{calc}。", "所以{p}要付{calc}。"],
)
UP_STORES = [
    ("the corner shop", "街角小店"),
    ("the supermarket", "超市"),
    ("the warehouse store", "批发店"),
    ("the farmers' market", "集市"),
    ("the online shop", "网店"),
    ("the mall", "商场"),
]
UP_CMP = T(
    [
        "At {A}, a {box.sg} of {na} {o.pl} costs {Pa}. At {B}, a {box.sg} of {nb} {o.pl} costs {Pb}.",
        "{A} sells {na} {o.pl} for {Pa}, while {B} sells {nb} {o.pl} for {Pb}.",
        "{p} compares prices: {na} {o.pl} cost {Pa} at {A}, and {nb} {o.pl} cost {Pb} at {B}.",
    ],
    [
        "{A}一{box.zh}{o.zh}有{na}{o.cl}，卖{Pa}；{B}一{box.zh}有{nb}{o.cl}，卖{Pb}。",
        "{p}比较了价格：{A}{na}{o.cl}{o.zh}卖{Pa}，{B}{nb}{o.cl}卖{Pb}。",
    ],
)
UP_CMP_SAY = T(
    [
        "At {S}, each {o.sg} costs {calc}.",
        "One {o.sg} at {S} costs {calc}.",
        "The price per {o.sg} at {S} is {calc}.",
    ],
    ["{S}每{o.cl}{calc}。", "在{S}，一{o.cl}{o.zh}要{calc}。"],
)
UP_DIFF_ASK = T(
    [
        "How much more does one {o.sg} cost at {hi} than at {lo}?",
        "How much cheaper is each {o.sg} at {lo} than at {hi}?",
        "What is the difference in price per {o.sg} between the two stores?",
        "By how much is the price per {o.sg} lower at {lo}?",
    ],
    ["{hi}每{o.cl}{o.zh}比{lo}贵多少钱？", "两家店每{o.cl}{o.zh}的价格相差多少元？"],
)
UP_DIFF_SAY = T(
    [
        "The difference is {calc} per {o.sg}.",
        "Each {o.sg} is {calc} cheaper at {lo}.",
        "So {lo} saves {calc} on every {o.sg}.",
    ],
    ["每{o.cl}相差{calc}。", "{lo}每{o.cl}便宜{calc}。"],
)
UP_SAVE = T(
    ["{p} needs {k} {o.pl}.", "{p} plans to buy {k} {o.pl}.", "{p} wants {k} {o.pl} for a party."],
    ["{p}需要{k}{o.cl}{o.zh}。", "{p}打算买{k}{o.cl}{o.zh}。"],
)
UP_SAVE_ASK = T(
    [
        "How much does {p} save by buying them at the cheaper store?",
        "How much money does {p} save by shopping at {lo}?",
        "How much less does {p} pay at {lo} than at {hi}?",
    ],
    ["{p}在便宜的那家买能省多少钱？", "在{lo}买比在{hi}买能省多少元？"],
)
UP_SAVE_SAY = T(
    ["{p} saves {calc}.", "Buying {k} at {lo} saves {calc}.", "So {he} saves {calc} in all."],
    ["{p}可以省{calc}。", "一共能省{calc}。"],
)


def _options(steps: int) -> list[tuple[str, frozenset, list[str]]]:
    """(mode, stages, money follow-ups) with ``steps`` steps: the unit price, then maybe the
    cost of several (``need``) and an ``extra`` item; or two stores compared (``cmp``)."""
    costs = {"unit": 1, "need": 1, "extra": 1}
    options = []
    for mask in range(1, 8):
        chosen = frozenset(name for i, name in enumerate(costs) if mask >> i & 1)
        if "unit" not in chosen or ("extra" in chosen and "need" not in chosen):
            continue
        for tail in tail_options(3, change=True):
            if tail and "need" not in chosen:
                continue
            if len(chosen) + len(tail) == steps:
                options.append(("plain", chosen, tail))
    if steps in (3, 4):
        options += [("cmp", frozenset(), [])] * 3
    return options


def build(c: Ctx) -> None:
    p = c.person()
    noun = c.choice([n for n in L.nouns("buy") if n.hi <= 900])
    box = c.choice(L.CONTAINERS[:4])
    slots = pronouns(p, o=noun, box=box)
    c.answer_kind = "money"
    options = _options(c.target_steps)
    mode, chosen, tail = options[c.rng.randrange(len(options))]
    if mode == "cmp":
        _unit_compare(c, noun, slots)
        return
    n = c.randint(2, 12)
    unit = dollars(c, max(noun.lo, 10), noun.hi, 0.3)
    nq = c.num("count", n, "count")
    P = c.num("pack_price", unit * n, "money")
    c.fact("pk.", UP_PACK, ifable=False, n=nq, P=P, **slots)
    u, calc = c.calc("unit", f"{P.v}/{nq.v}", "money")
    c.say("s1.", UP_SAY1, calc=calc, **slots)
    if "need" not in chosen:
        c.ask("q1.", UP_ASK1, **slots)
        return
    m = c.num("need", c.randint(3, 30), "count")
    c.fact("nd.", UP_NEED, ifable=True, m=m, **slots)
    cur, calc = c.calc("cost", f"{u.v}*{m.v}", "money")
    c.say("s2.", UP_SAY2, calc=calc, m=m, **slots)
    if "extra" in chosen:
        cur = extra_item(c, cur, [x for x in L.nouns("buy") if x != noun], True, "sx.", slots)
    if tail:
        money_tail(c, p, cur, tail)
    elif "extra" in chosen:
        c.ask("q.", ASK_TOTAL, **slots)
    else:
        c.ask("q2.", UP_ASK2, **slots)


def _unit_compare(c: Ctx, noun, slots: dict) -> None:
    """Two stores' packs: each unit price, the difference, maybe the saving on ``k``."""
    (a_en, a_zh), (b_en, b_zh) = c.rng.sample(UP_STORES, 2)
    A, B = (a_zh, b_zh) if c.lang == "zh" else (a_en, b_en)
    na, nb = c.rng.sample(range(2, 13), 2)
    ua = dollars(c, max(noun.lo, 20), noun.hi, 0.2)
    ub = dollars(c, max(noun.lo, 20), noun.hi, 0.2)
    if ua == ub:
        raise Retry("same price")
    qa, qb = c.num("count_a", na, "count"), c.num("count_b", nb, "count")
    Pa, Pb = c.num("price_a", ua * na, "money"), c.num("price_b", ub * nb, "money")
    c.fact("cmp.", UP_CMP, A=A, B=B, na=qa, nb=qb, Pa=Pa, Pb=Pb, **slots)
    ua_q, calc = c.calc("unit_a", f"{Pa.v}/{qa.v}", "money")
    c.say("cs.", UP_CMP_SAY, calc=calc, S=A, **slots)
    ub_q, calc = c.calc("unit_b", f"{Pb.v}/{qb.v}", "money")
    c.say("cs.", UP_CMP_SAY, calc=calc, S=B, **slots)
    hi_q, lo_q, hi, lo = (ua_q, ub_q, A, B) if ua > ub else (ub_q, ua_q, B, A)
    d, calc = c.calc("diff", f"{hi_q.v}-{lo_q.v}", "money")
    c.say("ds.", UP_DIFF_SAY, calc=calc, lo=lo, **slots)
    if c.target_steps == 3:
        c.ask("dq.", UP_DIFF_ASK, hi=hi, lo=lo, **slots)
        return
    k = c.num("buy", c.randint(5, 40), "count")
    c.fact("sv.", UP_SAVE, ifable=True, k=k, **slots)
    _, calc = c.calc("saved", f"{d.v}*{k.v}", "money")
    c.say("svs.", UP_SAVE_SAY, calc=calc, k=k, lo=lo, **slots)
    c.ask("svq.", UP_SAVE_ASK, hi=hi, lo=lo, **slots)
