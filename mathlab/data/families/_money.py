"""Money pieces shared by the shopping families: buying items, follow-ups (weeks, coupon,
fee, split, change) and an extra item.
"""

from __future__ import annotations

from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.families._common import T, dollars, pronouns
from mathlab.data.program import Ctx, Person, Q, Retry

# ---------------------------------------------------------------------------------------
# Money follow-ups shared by the shopping families
# ---------------------------------------------------------------------------------------
TAIL_WEEKS = {
    "fact": T(
        [
            "{p} made the same purchase every week for {n} weeks.",
            "{He} did this same shopping once a week for {n} weeks.",
            "{p} bought the same order each week for {n} weeks in a row.",
        ],
        ["{p}连续{n}周，每周都买同样的东西。", "{p}每周都这样买一次，一共买了{n}周。"],
    ),
    "ask": T(
        [
            "How much did {p} spend over those weeks?",
            "How much money did {p} spend in all those weeks?",
            "What was the total amount {p} spent during that time?",
        ],
        ["{p}这几周一共花了多少钱？", "这些周里{p}总共花了多少元？"],
    ),
    "say": T(
        [
            "Over {n} weeks, {p} spent {calc}.",
            "In {n} weeks, that comes to {calc}.",
            "For all the weeks together, {he} paid {calc}.",
        ],
        ["{n}周一共花了{calc}。", "所以{p}这几周总共花了{calc}。"],
    ),
}
TAIL_COUPON = {
    "fact": T(
        [
            "{p} had a coupon for {d} off the total.",
            "At the register, {p} used a {d} gift card.",
            "The cashier gave {him} a {d} discount on the whole order.",
            "{p} also had a store credit of {d} to use.",
        ],
        ["{p}有一张可以减{d}的优惠券。", "结账时，店员给{p}优惠了{d}。"],
    ),
    "ask": T(
        [
            "How much did {p} end up paying?",
            "How much money did {p} actually pay?",
            "After the discount, how much did {p} pay?",
            "What was the final amount {p} paid?",
        ],
        ["{p}实际付了多少钱？", "优惠后{p}需要付多少元？"],
    ),
    "say": T(
        [
            "After the {d} off, {he} paid {calc}.",
            "{p} paid {calc} after the discount.",
            "Taking off the {d}, the cost is {calc}.",
        ],
        ["优惠后{p}付了{calc}。", "减去{d}，实际付了{calc}。"],
    ),
}
TAIL_FEE = {
    "fact": T(
        [
            "There was a {f} delivery fee.",
            "The shop charged {f} for gift wrapping.",
            "{p} also paid a {f} service fee.",
        ],
        ["另外还要付{f}的运费。", "商店还收了{f}的包装费。"],
    ),
    "ask": T(
        [
            "How much did {p} pay in total, including the fee?",
            "What was the final amount {p} paid?",
            "How much did everything cost {him}, fee included?",
        ],
        ["{p}一共要付多少钱？", "加上这笔费用，{p}总共付了多少元？"],
    ),
    "say": T(
        [
            "With the fee, the total is {calc}.",
            "Adding the {f} gives {calc}.",
            "So {p} paid {calc} in all.",
        ],
        ["加上这笔费用一共{calc}。", "所以{p}一共付了{calc}。"],
    ),
}
TAIL_SPLIT = {
    "fact": T(
        [
            "{p} and {his} friends, {n} people in all, split the cost equally.",
            "The cost was shared equally among {n} roommates, including {p}.",
            "{p} split the bill evenly among {n} people.",
        ],
        ["{p}和朋友们一共{n}人平摊了费用。", "这笔钱由{n}个人平均分摊，其中包括{p}。"],
    ),
    "ask": T(
        [
            "How much did each person pay?",
            "How much was each person's share?",
            "What was each person's share, in dollars?",
        ],
        ["每人要付多少钱？", "平均每人付多少元？"],
    ),
    "say": T(
        [
            "Each person paid {calc}.",
            "Split {n} ways, each share is {calc}.",
            "So everyone paid {calc}.",
        ],
        ["每人付{calc}。", "平均每人要付{calc}。"],
    ),
}
TAIL_CHANGE = {
    "fact": T(
        [
            "{p} paid with {bill}.",
            "{p} gave the cashier {bill}.",
            "{He} handed over {bill} to pay.",
        ],
        ["{p}付给收银员{b}。", "{p}拿出{b}付款。"],
    ),
    "ask": T(
        [
            "How much change did {p} get back?",
            "How much change should {p} receive?",
            "How much money did {p} get in change?",
            "How much change, in dollars, did {p} receive?",
        ],
        ["收银员应该找给{p}多少钱？", "{p}应找回多少元？"],
    ),
    "say": T(
        [
            "{p} got {calc} in change.",
            "The change is {calc}.",
            "So {he} received {calc} back.",
        ],
        ["应找回{calc}。", "所以{p}拿回了{calc}。"],
    ),
}


FEES = [2, 3, 4, 5, 6, 8, 10, Fraction(5, 2), Fraction(7, 2)]


def cent_divisors(x: Fraction, lo: int = 2, hi: int = 8) -> list[int]:
    """Numbers of people a money amount splits among to the cent."""
    return [d for d in range(lo, hi + 1) if ((x * 100) / d).denominator == 1]


def bill_for(c: Ctx, cost: Fraction) -> tuple[Q, str]:
    """A bill bigger than ``cost`` and how the text names it (``a $20 bill``)."""
    notes = [n for n in (5, 10, 20, 50, 100) if n > cost]
    if notes:
        b = c.choice(notes[:2])
        q = c.num("paid", b, "money")
        return q, f"a {q} bill"
    b = (int(cost) // 50 + 1 + c.randint(0, 1)) * 50
    q = c.num("paid", b, "money")
    return q, f"{q}"


TAILS = {
    "weeks": TAIL_WEEKS,
    "coupon": TAIL_COUPON,
    "fee": TAIL_FEE,
    "split": TAIL_SPLIT,
    "change": TAIL_CHANGE,
}


def follow_up(c: Ctx, key: str, table: dict, var: str, expr: str, kind="money", **slots) -> Q:
    """One follow-up of a ``table`` (fact, say, ask): its fact ``key.f`` (may become an
    If-question), the step ``var = expr`` and its solution line ``key.s``."""
    c.fact(f"{key}.f", table["fact"], ifable=True, **slots)
    cur, calc = c.calc(var, expr, kind)
    c.say(f"{key}.s", table["say"], calc=calc, **slots)
    return cur


def money_tail(c: Ctx, p: Person, cur: Q, ops: list[str]) -> Q:
    """Apply money follow-ups (weeks, coupon, fee, split, change) to the running amount."""
    slots = pronouns(p)
    for op in ops:
        value = c.v(cur)
        if op == "weeks":
            n = c.num("weeks", c.randint(2, 8), "count")
            cur = follow_up(c, "tw", TAIL_WEEKS, "spent_weeks", f"{cur.v}*{n.v}", n=n, **slots)
        elif op == "coupon":
            hi = min(25, int(value * Fraction(1, 2)))
            if hi < 1:
                raise Retry("too cheap for a coupon")
            d = c.num("coupon", c.randint(1, hi), "money")
            cur = follow_up(c, "tc", TAIL_COUPON, "after_coupon", f"{cur.v}-{d.v}", d=d, **slots)
        elif op == "fee":
            f = c.num("fee", c.choice(FEES), "money")
            cur = follow_up(c, "tf", TAIL_FEE, "with_fee", f"{cur.v}+{f.v}", f=f, **slots)
        elif op == "split":
            options = cent_divisors(value, 2, 6)
            if not options:
                raise Retry("the amount does not split evenly")
            n = c.num("people", c.choice(options), "people")
            cur = follow_up(c, "ts", TAIL_SPLIT, "share", f"{cur.v}/{n.v}", n=n, **slots)
        elif op == "change":
            b, bill = bill_for(c, value)
            cur = follow_up(
                c, "tch", TAIL_CHANGE, "change", f"{b.v}-{cur.v}", b=b, bill=bill, **slots
            )
        else:  # pragma: no cover - a programming error
            raise ValueError(op)
    if ops:
        c.answer_kind = "money"
        c.ask(f"t{ops[-1]}.q", TAILS[ops[-1]]["ask"], **slots)
    return cur


def tail_options(max_len: int = 3, change: bool = True, weeks: bool = True) -> list[list[str]]:
    """Ordered follow-up sequences: [weeks] [coupon|fee] [split|change]."""
    seqs: list[list[str]] = [[]]
    firsts = [[], ["weeks"]] if weeks else [[]]
    mids = [[], ["coupon"], ["fee"]]
    ends = [[], ["split"]] + ([["change"]] if change else [])
    for a in firsts:
        for b in mids:
            for e in ends:
                s = a + b + e
                if s and len(s) <= max_len:
                    seqs.append(s)
    return seqs


# ---------------------------------------------------------------------------------------
# Buying items (shopping_total, change_money)
# ---------------------------------------------------------------------------------------
SETTINGS_BUY = {
    "school": ["school"],
    "bakery": ["bakery", "food"],
    "store": ["store"],
    "garden": ["garden"],
    "party": ["party", "food"],
    "farm": ["farm"],
    "sports": ["sports"],
}

ITEM_FIRST = T(
    [
        "{p} bought {q} {o.pl} for {pr} each.",
        "{p} went to the store and bought {q} {o.pl} at {pr} each.",
        "{p} picked up {q} {o.pl}, which cost {pr} apiece.",
        "{p} ordered {q} {o.pl} that cost {pr} each.",
    ],
    ["{p}买了{q}{o.cl}{o.zh}，每{o.cl}{pr}。", "{p}去商店买了{q}{o.cl}{o.zh}，单价是{pr}。"],
)
ITEM_NEXT = T(
    [
        "{He} also bought {q} {o.pl} for {pr} each.",
        "Then {he} got {q} {o.pl} at {pr} apiece.",
        "In addition, {he} picked up {q} {o.pl} for {pr} each.",
        "{He} bought {q} {o.pl} too, at {pr} each.",
    ],
    [
        "{p.ta}又买了{q}{o.cl}{o.zh}，每{o.cl}{pr}。",
        "{p.ta}还买了{q}{o.cl}{o.zh}，每{o.cl}售价{pr}。",
    ],
)
ITEM_ONE_FIRST = T(
    [
        "{p} bought {o.a} for {pr}.",
        "{p} paid {pr} for {o.a}.",
        "{p} bought {o.a} that cost {pr}.",
    ],
    ["{p}买了一{o.cl}{o.zh}，花了{pr}。", "{p}花{pr}买了一{o.cl}{o.zh}。"],
)
ITEM_ONE_NEXT = T(
    [
        "{He} also bought {o.a} for {pr}.",
        "Then {he} picked up {o.a} for {pr}.",
        "{He} added {o.a} that cost {pr}.",
        "Next, {he} paid {pr} for {o.a}.",
        "On top of that, {he} got {o.a} for {pr}.",
    ],
    [
        "{p.ta}还买了一{o.cl}{o.zh}，价格是{pr}。",
        "{p.ta}又花{pr}买了一{o.cl}{o.zh}。",
        "接着{p.ta}买了一{o.cl}{o.zh}，花了{pr}。",
    ],
)
LIST_BUY = T(
    [
        "{p} bought {items}.",
        "At the store, {p} picked out {items}.",
        "{p}'s shopping basket had {items}.",
        "For the week, {p} bought {items}.",
    ],
    ["{p}买了{items}。", "{p}在商店里挑了{items}。"],
)
PRICE_EACH = T(
    [
        "Each {o.sg} costs {pr}.",
        "The {o.pl} cost {pr} each.",
        "{o.pl} are {pr} apiece.",
        "One {o.sg} sells for {pr}.",
    ],
    ["每{o.cl}{o.zh}{pr}。", "{o.zh}的单价是{pr}。"],
)
PRICE_ONE = T(
    ["The {o.sg} costs {pr}.", "The {o.sg} is {pr}.", "The price of the {o.sg} is {pr}."],
    ["{o.zh}的价格是{pr}。", "这{o.cl}{o.zh}要{pr}。"],
)
SAY_ITEM = T(
    [
        "The {o.pl} cost {calc}.",
        "{p} spent {calc} on {o.pl}.",
        "For the {o.pl}, {he} paid {calc}.",
        "{q} {o.pl} cost {calc}.",
    ],
    ["{o.zh}一共花了{calc}。", "买{o.zh}花了{calc}。", "{q}{o.cl}{o.zh}需要{calc}。"],
)
SAY_SUM = T(
    [
        "In total, {p} spent {calc}.",
        "Altogether, {he} paid {calc}.",
        "The total cost is {calc}.",
        "So {p} spent {calc} in all.",
        "Adding it all up, {p} spent {calc}.",
    ],
    ["{p}一共花了{calc}。", "总共花费{calc}。", "所以{p}总共花了{calc}。"],
)
ASK_TOTAL = T(
    [
        "How much did {p} spend in total?",
        "How much money, in dollars, did {p} spend?",
        "What was the total cost of {his} purchase?",
        "How much did {p} pay for everything?",
        "How much did {p} spend altogether?",
        "Calculate the total amount {p} spent.",
        "What is the total amount of money {p} spent?",
    ],
    ["{p}一共花了多少钱？", "{p}总共需要付多少元？", "{p}这次购物一共花了多少元？"],
)


def buy_items(c: Ctx, p: Person, k: int, m: int, setting: str) -> list[Q]:
    """Write k items (m of them bought in quantity); returns the cost of each item."""
    pool = [n for tag in SETTINGS_BUY[setting] for n in L.nouns(tag) if "buy" in n.tags]
    if len(pool) < k:
        pool = L.nouns("buy")
    nouns = c.rng.sample(pool, k)
    multi = [True] * m + [False] * (k - m)
    c.rng.shuffle(multi)
    items = []
    for noun, many in zip(nouns, multi):
        price = dollars(c, noun.lo, noun.hi)
        if many:
            qty = c.randint(2, 12 if price < 5 else 6)
            items.append((noun, c.num("qty", qty, "count"), c.num("price", price, "money")))
        else:
            items.append((noun, None, c.num("price", price, "money")))
    slots = pronouns(p)
    if k >= 2 and c.chance(0.4):  # "She bought 3 pens, 2 notebooks and a bag." + prices
        parts = []
        for noun, qty, _ in items:
            if c.lang == "zh":
                parts.append(f"{qty}{noun.cl}{noun.zh}" if qty else f"一{noun.cl}{noun.zh}")
            else:
                parts.append(f"{qty} {noun.pl}" if qty else noun.a)
        sep, last = ("、", "和") if c.lang == "zh" else (", ", " and ")
        listed = sep.join(parts[:-1]) + last + parts[-1]
        c.fact("list.", LIST_BUY, items=listed, **slots)
        for noun, qty, price in items:
            c.fact("pe." if qty else "p1.", PRICE_EACH if qty else PRICE_ONE, o=noun, pr=price)
    else:
        for i, (noun, qty, price) in enumerate(items):
            if qty:
                c.fact(
                    "it0." if i == 0 else "it.",
                    ITEM_FIRST if i == 0 else ITEM_NEXT,
                    o=noun,
                    q=qty,
                    pr=price,
                    **slots,
                )
            else:
                c.fact(
                    "i10." if i == 0 else "i1.",
                    ITEM_ONE_FIRST if i == 0 else ITEM_ONE_NEXT,
                    o=noun,
                    pr=price,
                    **slots,
                )
    costs = []
    for noun, qty, price in items:
        if qty:
            cost, calc = c.calc("cost", f"{qty.v}*{price.v}", "money")
            c.say("si.", SAY_ITEM, calc=calc, o=noun, q=qty, **slots)
            costs.append(cost)
        else:
            costs.append(price)
    return costs


def draw_shop_plan(
    c: Ctx, extra: int, tails: list[list[str]], single: bool = False
) -> tuple[int, int, list[str]]:
    """(items, items bought in quantity, follow-ups) adding up to ``c.target_steps`` with
    ``extra`` steps of the family's own; ``single``: one item bought once may be all."""
    options = []
    for k in range(1, 5):
        for m in range(0, k + 1):
            if k == 1 and m == 0 and not single:
                continue
            base = m + (1 if k >= 2 else 0) + extra
            for tail in tails:
                if base + len(tail) == c.target_steps:
                    options.append((k, m, tail))
    return options[c.rng.randrange(len(options))]


def buy_total(c: Ctx, p: Person, k: int, m: int, setting: str) -> Q:
    """Write the items (see :func:`buy_items`) and, for two or more, the step adding them up."""
    costs = buy_items(c, p, k, m, setting)
    if k < 2:
        return costs[0]
    total, calc = c.calc("total", "+".join(q.v for q in costs), "money")
    c.say("sum.", SAY_SUM, calc=calc, **pronouns(p))
    return total


EXTRA_ITEM = T(
    [
        "{He} also buys {o2.a} for {pr}.",
        "{p} adds {o2.a} that costs {pr}.",
        "On top of that, {he} gets {o2.a} for {pr}.",
    ],
    ["{p.ta}还买了一{o2.cl}{o2.zh}，价格{pr}。", "另外{p.ta}又买了一{o2.cl}{o2.zh}，花了{pr}。"],
)
SAY_EXTRA = T(
    [
        "With the {o2.sg}, the total is {calc}.",
        "Adding the {o2.sg} gives {calc}.",
        "So {he} spends {calc} in all.",
    ],
    ["加上{o2.zh}一共{calc}。", "总共要{calc}。"],
)


def extra_item(c: Ctx, cur: Q, pool: list, ifable: bool, say_role: str, slots: dict) -> Q:
    """One more item from ``pool`` bought at its own price, added to the running amount."""
    o2 = c.choice(pool)
    pr = c.num("extra_price", dollars(c, o2.lo, o2.hi), "money")
    c.fact("ex.", EXTRA_ITEM, ifable=ifable, o2=o2, pr=pr, **slots)
    cur, calc = c.calc("total", f"{cur.v}+{pr.v}", "money")
    c.say(say_role, SAY_EXTRA, calc=calc, o2=o2, **slots)
    return cur
