"""percent_discount: a percent off (the discount or the sale price), maybe tax, an extra
item, then change or a split.
"""

from __future__ import annotations

from mathlab.data import lexicon as L
from mathlab.data.families._common import T, a_or_an, dollars, intro, plan, pronouns, stage
from mathlab.data.families._money import ASK_TOTAL, extra_item, money_tail
from mathlab.data.program import Ctx, Q

BIG_ITEMS = [
    ("jacket", "夹克", "件", 3000, 12000),
    ("bike", "自行车", "辆", 8000, 40000),
    ("pair of shoes", "运动鞋", "双", 3000, 12000),
    ("lamp", "台灯", "盏", 2000, 8000),
    ("backpack", "书包", "个", 2000, 8000),
    ("video game", "游戏", "款", 2000, 7000),
    ("coat", "大衣", "件", 5000, 20000),
    ("tent", "帐篷", "顶", 6000, 30000),
    ("guitar", "吉他", "把", 8000, 40000),
    ("blender", "搅拌机", "台", 3000, 12000),
]
PD_PRICE = T(
    [
        "At the store, {p} sees {a_item} that costs {P}.",
        "{p} wants to buy {a_item} that is priced at {P}.",
        "{p} has been looking at {a_item} with a regular price of {P}.",
        "{p} found {a_item} for {P}.",
    ],
    ["{p}看中了一{cl}{item}，原价{P}。", "{p}想买一{cl}{item}，标价{P}。"],
)
PD_BASE = T(
    [
        "{p} wants to buy {q} {o.pl} that cost {pr} each.",
        "{p} picks out {q} {o.pl} priced at {pr} each.",
        "{p} is buying {q} {o.pl} at {pr} apiece.",
    ],
    ["{p}要买{q}{o.cl}{o.zh}，每{o.cl}{pr}。", "{p}挑了{q}{o.cl}{o.zh}，单价{pr}。"],
)
PD_BASE_SAY = T(
    [
        "Before the discount, the {o.pl} cost {calc}.",
        "The full price is {calc}.",
        "At full price, {q} {o.pl} cost {calc}.",
    ],
    ["打折前一共{calc}。", "原价一共是{calc}。"],
)
PD_DISC = T(
    [
        "The store is having a {pct} off sale.",
        "{p} has a coupon for {pct} off.",
        "Everything in the store is {pct} off today.",
        "There is a {pct} discount on {it}.",
    ],
    ["商店正在打折，所有商品优惠{pct}。", "{p}有一张{pct}折扣券。", "今天全场降价{pct}。"],
)
PD_DISC_SAY = T(
    ["The discount is {calc}.", "{p} saves {calc}.", "{pct} of {P} is {calc}."],
    ["优惠了{calc}。", "{P}的{pct}是{calc}。"],
)
PD_DISC_ASK = T(
    [
        "How much money does {p} save?",
        "How much is the discount, in dollars?",
        "How many dollars does the discount take off?",
    ],
    ["{p}能省多少钱？", "优惠了多少元？"],
)
PD_SALE_SAY = T(
    [
        "{p} pays {calc}.",
        "The sale price is {calc}.",
        "After the discount, it costs {calc}.",
        "So the price comes down to {calc}.",
    ],
    ["{p}要付{calc}。", "打折后的价格是{calc}。"],
)
PD_SALE_ASK = T(
    [
        "How much does {p} pay?",
        "What is the sale price?",
        "How much will {p} spend after the discount?",
        "How much does {it} cost after the discount?",
    ],
    ["{p}需要付多少钱？", "打折后要多少元？"],
)
PD_DIRECT_SAY = T(
    [
        "With {pct} off, {p} pays {calc}.",
        "After taking {pct} off, {p} pays {calc}.",
        "The sale price is {calc}.",
    ],
    ["打折后要付{calc}。", "{p}只需付{calc}。"],
)
PD_TAX = T(
    [
        "A {t} sales tax is added to the sale price.",
        "There is a {t} sales tax on the discounted price.",
        "The state charges {t} sales tax on the price after the discount.",
    ],
    ["打折后的价格还要加收{t}的税。", "结账时要在折后价上加{t}的税。"],
)
PD_TAX_SAY = T(
    ["The tax is {calc}.", "The sales tax comes to {calc}.", "{t} tax adds {calc}."],
    ["税费是{calc}。", "要交的税是{calc}。"],
)
PD_TAX2_SAY = T(
    ["So the final price is {calc}.", "With tax, {p} pays {calc}.", "The total is {calc}."],
    ["最后要付{calc}。", "加上税一共{calc}。"],
)
PD_TAX_ASK = T(
    [
        "How much does {p} pay in total, including tax?",
        "What is the final price with tax?",
        "How much does {p} pay after the discount and the tax?",
    ],
    ["{p}一共要付多少钱？", "含税的总价是多少元？"],
)


STAGES = "base disc sale direct tax:2 extra end"
PERCENTS = [10, 15, 20, 25, 30, 40, 50, 5, 35, 60, 75]


def _valid(s: frozenset) -> bool:
    """The discount or the sale price directly; what follows needs the sale price."""
    return (
        ("disc" in s) != ("direct" in s)
        and not ("sale" in s and "direct" in s)
        and ("sale" in s or "direct" in s or not ({"tax", "extra", "end"} & s))
    )


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    p = c.person()
    slots = pronouns(p)
    c.answer_kind = "money"
    intro(c, "store", p, 0.25)
    P, it = _full_price(c, "base" in chosen, slots)
    pct = c.num("percent", c.choice(PERCENTS), "percent")
    after_disc = not ({"sale", "direct", "tax", "extra", "end"} & chosen)
    c.fact("pd.", PD_DISC, ifable=after_disc, pct=pct, it=it, **slots)
    if "direct" in chosen:
        cur, calc = c.calc("sale_price", f"{P.v}*(100-{pct.v})/100", "money")
        c.say("pds.", PD_DIRECT_SAY, calc=calc, pct=pct, **slots)
        ask = PD_SALE_ASK
    else:
        disc, calc = c.calc("discount", f"{P.v}*{pct.v}/100", "money")
        c.say("pdd.", PD_DISC_SAY, calc=calc, pct=pct, P=P, **slots)
        ask = PD_DISC_ASK
        cur = disc
        if "sale" in chosen:
            cur, calc = c.calc("sale_price", f"{P.v}-{disc.v}", "money")
            c.say("pss.", PD_SALE_SAY, calc=calc, **slots)
            ask = PD_SALE_ASK
    if "tax" in chosen:
        t = c.num("tax_rate", c.choice([4, 5, 6, 8, 10]), "percent")
        c.fact("tx.", PD_TAX, ifable=not ({"extra", "end"} & chosen), t=t, **slots)
        tax, calc = c.calc("tax", f"{cur.v}*{t.v}/100", "money")
        c.say("txs.", PD_TAX_SAY, calc=calc, t=t, **slots)
        cur, calc = c.calc("final", f"{cur.v}+{tax.v}", "money")
        c.say("tx2.", PD_TAX2_SAY, calc=calc, **slots)
        ask = PD_TAX_ASK
    if "extra" in chosen:
        cur = extra_item(c, cur, L.nouns("buy"), "end" not in chosen, "exs.", slots)
        ask = ASK_TOTAL
    if "end" in chosen:
        money_tail(c, p, cur, [c.choice(["change", "split"])])
        return
    c.ask("q.", ask, it=it, **slots)


def _full_price(c: Ctx, base: bool, slots: dict) -> tuple[Q, str]:
    """The price before the discount (several items, or one big item) and what ``it`` is."""
    if base:
        noun = c.choice([n for n in L.nouns("buy") if n.hi >= 200])
        pr = c.num("price", dollars(c, noun.lo, noun.hi, 0.6), "money")
        q = c.num("qty", c.randint(2, 10), "count")
        expr = f"{q.v}*{pr.v}"
        P = stage(
            c, "pb.", PD_BASE, PD_BASE_SAY, "full", expr, "money", q=q, o=noun, pr=pr, **slots
        )
        return P, "them" if c.lang == "en" else noun.zh
    en, zh, cl, lo, hi = c.choice(BIG_ITEMS)
    a_item = a_or_an(en)
    P = c.num("price", dollars(c, lo, hi, 0.7), "money")
    c.fact("pp.", PD_PRICE, P=P, A_item=a_item, a_item=a_item, item=zh, cl=cl, **slots)
    return P, "the " + en if c.lang == "en" else zh
