"""The problem families: each writes one word problem as a program plus its sentences.

A family builder gets a :class:`~mathlab.data.program.Ctx` whose ``target_steps`` (1..6)
it must meet exactly. Most families are a pipeline of optional stages (each one or two
program steps: "buy packs", "share among friends", "each friend eats some", ...); the
builder enumerates every subset of stages whose step count is the target, draws one, and
writes it. Each stage has several English and Chinese sentence templates per role
(fact in the question, solution line, the question when it is the last stage), so the
same program can read many different ways.

Numbers are drawn forward; a draw that does not fit (a division that is not exact, a
count that would go negative) raises :class:`~mathlab.data.program.Retry` and the
generator draws again from the same random stream, so output stays deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.program import Ctx, Person, Q, Retry


def T(en: list[str], zh: list[str]) -> dict[str, list[str]]:
    return {"en": en, "zh": zh}


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------
_PLANS: dict[tuple, list[frozenset]] = {}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def plan(c: Ctx, stages: list[tuple[str, int]], valid: Callable[[frozenset], bool] | None = None):
    """Draw a subset of ``stages`` (name, steps) whose steps add up to ``c.target_steps``.

    The valid subsets are enumerated once per (family, stages, steps) and cached; the
    ``valid`` rule must depend on the subset only.
    """
    key = (c.family, tuple(stages), c.target_steps)
    options = _PLANS.get(key)
    if options is None:
        options = []
        n = len(stages)
        for mask in range(1, 1 << n):
            picked = [stages[i] for i in range(n) if mask >> i & 1]
            if sum(cost for _, cost in picked) != c.target_steps:
                continue
            chosen = frozenset(name for name, _ in picked)
            if valid is None or valid(chosen):
                options.append(chosen)
        _PLANS[key] = options
    if not options:
        raise ValueError(f"family {c.family!r} cannot be written with {c.target_steps} steps")
    return options[c.rng.randrange(len(options))]


def intro(c: Ctx, setting: str, p: Person, prob: float = 0.3) -> None:
    """Maybe open with a sentence that sets the scene (no numbers)."""
    if setting in L.INTROS and c.chance(prob):
        c.fact(f"intro.{setting}.", L.INTROS[setting], p=p, his=p.his)


def dollars(c: Ctx, lo_cents: int, hi_cents: int, whole: float = 0.5) -> Fraction:
    """A price between the bounds: whole dollars (when possible) or a multiple of 25 cents."""
    if hi_cents >= 200 and c.chance(whole):
        return Fraction(c.randint(max(1, lo_cents // 100), max(1, hi_cents // 100)))
    step = 25 if hi_cents >= 100 else 5
    lo = max(step, (lo_cents // step) * step)
    return Fraction(c.randint(lo // step, max(lo // step, hi_cents // step)) * step, 100)


def divisors(n: Fraction, lo: int = 2, hi: int = 12) -> list[int]:
    if n.denominator != 1:
        return []
    n = int(n)
    return [d for d in range(lo, hi + 1) if n % d == 0]


def cent_divisors(x: Fraction, lo: int = 2, hi: int = 8) -> list[int]:
    """Numbers of people a money amount splits among to the cent."""
    return [d for d in range(lo, hi + 1) if ((x * 100) / d).denominator == 1]


def times_word(c: Ctx, var: str, m: int, lang: str | None = None) -> str:
    """``twice`` / ``three times`` / ``⟦m⟧ times`` for a multiplier input (registers it)."""
    lang = lang or c.lang
    if lang == "zh":
        return f"{c.num(var, m, 'mult', word=False)}"
    if m == 2 and c.chance(0.7):
        c.hidden(var, m, "mult")
        return "twice"
    words = {3: "three", 4: "four", 5: "five"}
    if m in words and c.chance(0.5):
        c.hidden(var, m, "mult")
        return f"{words[m]} times"
    return f"{c.num(var, m, 'mult', word=False)} times"


FRACTION_WORDS_EN = {
    (1, 2): "half",
    (1, 3): "a third",
    (1, 4): "a quarter",
    (2, 3): "two thirds",
    (3, 4): "three quarters",
    (1, 5): "a fifth",
    (2, 5): "two fifths",
}
FRACTION_WORDS_ZH = {
    (1, 2): "一半",
    (1, 3): "三分之一",
    (1, 4): "四分之一",
    (2, 3): "三分之二",
    (3, 4): "四分之三",
    (1, 5): "五分之一",
    (2, 5): "五分之二",
}


def fraction_text(c: Ctx, a: int, b: int) -> tuple[Q, Q, str]:
    """Register a fraction a/b as two inputs and return how the question writes it."""
    words = FRACTION_WORDS_ZH if c.lang == "zh" else FRACTION_WORDS_EN
    if (a, b) in words and ((a, b) == (1, 2) or c.chance(0.6)):
        qa, qb = c.hidden("frac_num", a, "mult"), c.hidden("frac_den", b, "mult")
        return qa, qb, words[(a, b)]
    qa, qb = c.num("frac_num", a, "mult", word=False), c.num("frac_den", b, "mult", word=False)
    return qa, qb, f"{qa}/{qb}"


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


def money_tail(c: Ctx, p: Person, cur: Q, ops: list[str]) -> Q:
    """Apply money follow-ups (weeks, coupon, fee, split, change) to the running amount."""
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his)
    for i, op in enumerate(ops):
        last = i == len(ops) - 1
        value = c.v(cur)
        if op == "weeks":
            n = c.num("weeks", c.randint(2, 8), "count")
            c.fact("tw.f", TAIL_WEEKS["fact"], ifable=True, n=n, **slots)
            cur, calc = c.calc("spent_weeks", f"{cur.v}*{n.v}", "money")
            c.say("tw.s", TAIL_WEEKS["say"], calc=calc, n=n, **slots)
            table = TAIL_WEEKS
        elif op == "coupon":
            hi = min(25, int(value * Fraction(1, 2)))
            if hi < 1:
                raise Retry("too cheap for a coupon")
            d = c.num("coupon", c.randint(1, hi), "money")
            c.fact("tc.f", TAIL_COUPON["fact"], ifable=True, d=d, **slots)
            cur, calc = c.calc("after_coupon", f"{cur.v}-{d.v}", "money")
            c.say("tc.s", TAIL_COUPON["say"], calc=calc, d=d, **slots)
            table = TAIL_COUPON
        elif op == "fee":
            f = c.num(
                "fee", c.choice([2, 3, 4, 5, 6, 8, 10, Fraction(5, 2), Fraction(7, 2)]), "money"
            )
            c.fact("tf.f", TAIL_FEE["fact"], ifable=True, f=f, **slots)
            cur, calc = c.calc("with_fee", f"{cur.v}+{f.v}", "money")
            c.say("tf.s", TAIL_FEE["say"], calc=calc, f=f, **slots)
            table = TAIL_FEE
        elif op == "split":
            options = cent_divisors(value, 2, 6)
            if not options:
                raise Retry("the amount does not split evenly")
            n = c.num("people", c.choice(options), "people")
            c.fact("ts.f", TAIL_SPLIT["fact"], ifable=True, n=n, **slots)
            cur, calc = c.calc("share", f"{cur.v}/{n.v}", "money")
            c.say("ts.s", TAIL_SPLIT["say"], calc=calc, n=n, **slots)
            table = TAIL_SPLIT
        elif op == "change":
            b, bill = bill_for(c, value)
            c.fact("tch.f", TAIL_CHANGE["fact"], ifable=True, bill=bill, b=b, **slots)
            cur, calc = c.calc("change", f"{b.v}-{cur.v}", "money")
            c.say("tch.s", TAIL_CHANGE["say"], calc=calc, **slots)
            table = TAIL_CHANGE
        else:  # pragma: no cover - a programming error
            raise ValueError(op)
        if last:
            c.answer_kind = "money"
            c.ask(f"t{op}.q", table["ask"], **slots)
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
    slots = dict(p=p, he=p.he, He=p.He, his=p.his)
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


def _shop_plans(
    steps: int, extra: int, tails: list[list[str]], single: bool = False
) -> list[tuple[int, int, list[str]]]:
    """(items, items bought in quantity, follow-ups) whose step count is ``steps``."""
    out = []
    for k in range(1, 5):
        for m in range(0, k + 1):
            if k == 1 and m == 0 and not single:
                continue
            base = m + (1 if k >= 2 else 0) + extra
            for tail in tails:
                if base + len(tail) == steps:
                    out.append((k, m, tail))
    return out


def shopping_total(c: Ctx) -> None:
    p = c.person()
    setting = c.choice(SETTINGS_BUY)
    options = _shop_plans(c.target_steps, 0, tail_options(3, change=False))
    k, m, tail = options[c.rng.randrange(len(options))]
    intro(c, setting, p)
    costs = buy_items(c, p, k, m, setting)
    slots = dict(p=p, he=p.he, his=p.his)
    if k >= 2:
        total, calc = c.calc("total", "+".join(q.v for q in costs), "money")
        c.say("sum.", SAY_SUM, calc=calc, **slots)
    else:
        total = costs[0]
    c.answer_kind = "money"
    if tail:
        money_tail(c, p, total, tail)
    else:
        c.ask("q.", ASK_TOTAL, **slots)


# ---------------------------------------------------------------------------------------
# change_money
# ---------------------------------------------------------------------------------------
BUDGET = T(
    [
        "{p} had {b} to spend.",
        "{p} went shopping with {b} in {his} wallet.",
        "{p}'s mom gave {him} {b} for shopping.",
        "{p} saved up {b} and took it to the store.",
    ],
    ["{p}带了{b}去买东西。", "妈妈给了{p}{b}去购物。"],
)
ASK_LEFT = T(
    [
        "How much money does {p} have left?",
        "How much money did {p} have left after shopping?",
        "How many dollars does {p} have left?",
        "How much of the money is left?",
    ],
    ["{p}还剩多少钱？", "买完东西后{p}还剩多少元？"],
)
SAY_LEFT = T(
    [
        "{p} has {calc} left.",
        "So {he} has {calc} left over.",
        "That leaves {p} with {calc}.",
    ],
    ["{p}还剩{calc}。", "所以还剩下{calc}。"],
)
CH_SNACK = {
    "fact": T(
        [
            "With the money left, {he} bought a snack for {s}.",
            "On the way home, {p} spent {s} on a drink.",
            "Later, {he} paid {s} for a bus ticket.",
        ],
        ["{p.ta}又用剩下的钱花{s}买了零食。", "回家路上，{p}花{s}买了一杯饮料。"],
    ),
    "ask": T(
        [
            "How much money does {p} have now?",
            "How much money is left in the end?",
            "How much does {p} have left after that?",
        ],
        ["{p}现在还剩多少钱？", "最后{p}还剩多少元？"],
    ),
    "say": T(
        ["After that, {he} has {calc} left.", "Now {p} has {calc}.", "{p} ends up with {calc}."],
        ["现在{p}还剩{calc}。", "最后还剩{calc}。"],
    ),
}
CH_HALF = {
    "fact": T(
        [
            "{He} gave half of what was left to {his} little brother.",
            "{p} put half of the leftover money in a charity box.",
            "{He} gave half of the change to a friend.",
        ],
        ["{p.ta}把剩下的钱的一半给了弟弟。", "{p}把剩下的钱的一半捐了出去。"],
    ),
    "ask": T(
        [
            "How much money does {p} have now?",
            "How much money does {p} keep?",
            "How much is left in {his} wallet?",
        ],
        ["{p}现在还有多少钱？", "{p}手里还剩多少元？"],
    ),
    "say": T(
        ["{p} keeps {calc}.", "Half of that is {calc}.", "So {he} has {calc} left."],
        ["{p}还剩{calc}。", "剩下的一半是{calc}。"],
    ),
}
CH_BUYMORE = {
    "fact": T(
        [
            "{He} spent all of the leftover money on {o.pl} that cost {pr} each.",
            "{p} used the rest of the money to buy {o.pl} at {pr} each.",
            "With what was left, {he} bought as many {o.pl} as possible at {pr} each, spending all of it.",
        ],
        [
            "{p.ta}用剩下的钱全部买了{o.zh}，每{o.cl}{pr}。",
            "{p}把剩下的钱都用来买{o.zh}，每{o.cl}{pr}。",
        ],
    ),
    "ask": T(
        [
            "How many {o.pl} did {p} buy?",
            "How many {o.pl} did {he} get?",
            "How many {o.pl} could {p} buy with the money left?",
        ],
        ["{p}买了多少{o.cl}{o.zh}？", "剩下的钱能买多少{o.cl}{o.zh}？"],
    ),
    "say": T(
        ["{He} bought {calc} {o.pl}.", "That buys {calc} {o.pl}.", "So {p} got {calc} {o.pl}."],
        ["{p.ta}买了{calc}{o.cl}{o.zh}。", "可以买{calc}{o.cl}{o.zh}。"],
    ),
}


def change_money(c: Ctx) -> None:
    p = c.person()
    setting = c.choice(SETTINGS_BUY)
    tails = [
        [],
        ["snack"],
        ["half"],
        ["buymore"],
        ["snack", "half"],
        ["snack", "buymore"],
        ["half", "buymore"],
    ]
    options = _shop_plans(c.target_steps, 1, tails, single=True)
    k, m, tail = options[c.rng.randrange(len(options))]
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his)
    budget = c.chance(0.45)
    intro(c, setting, p, 0.2)
    budget_at = len(c.facts)
    costs = buy_items(c, p, k, m, setting)
    if k >= 2:
        total, calc = c.calc("total", "+".join(q.v for q in costs), "money")
        c.say("sum.", SAY_SUM, calc=calc, **slots)
    else:
        total = costs[0]
    value = c.v(total)
    if budget:
        b = c.num("budget", (int(value) // 10 + 1 + c.randint(0, 3)) * 10, "money")
        text = c.fill("bud.", BUDGET, b=b, **slots)
        c.facts.insert(budget_at, text)
        cur, calc = c.calc("left", f"{b.v}-{total.v}", "money")
        c.say("left.", SAY_LEFT, calc=calc, **slots)
        last_table = {"ask": ASK_LEFT}
    else:
        b, bill = bill_for(c, value)
        c.fact("tch.f", TAIL_CHANGE["fact"], ifable=True, bill=bill, b=b, **slots)
        cur, calc = c.calc("change", f"{b.v}-{total.v}", "money")
        c.say("tch.s", TAIL_CHANGE["say"], calc=calc, **slots)
        last_table = TAIL_CHANGE
    c.answer_kind = "money"
    for op in tail:
        value = c.v(cur)
        if op == "snack":
            hi = int(value) - 1
            if hi < 1:
                raise Retry("no money left for a snack")
            s = c.num("snack", dollars(c, 100, min(hi * 100, 800), 0.5), "money")
            c.fact("sn.f", CH_SNACK["fact"], ifable=True, s=s, **slots)
            cur, calc = c.calc("left", f"{cur.v}-{s.v}", "money")
            c.say("sn.s", CH_SNACK["say"], calc=calc, **slots)
            last_table = CH_SNACK
        elif op == "half":
            c.hidden("half", 2, "mult")
            c.fact("hf.f", CH_HALF["fact"], ifable=True, **slots)
            cur, calc = c.calc("kept", f"{cur.v}/half", "money")
            c.say("hf.s", CH_HALF["say"], calc=calc, **slots)
            last_table = CH_HALF
        else:
            cents = int(value * 100)
            noun = c.choice([n for n in L.nouns("buy") if n.hi <= 300])
            prices = [p_ for p_ in range(25, 501, 25) if cents % p_ == 0 and 2 <= cents // p_ <= 40]
            if not prices:
                raise Retry("leftover money does not buy a whole number of items")
            pr = c.num("unit_price", Fraction(c.choice(prices), 100), "money")
            c.fact("bm.f", CH_BUYMORE["fact"], ifable=True, o=noun, pr=pr, **slots)
            cur, calc = c.calc("bought", f"{cur.v}/{pr.v}", "count")
            c.say("bm.s", CH_BUYMORE["say"], calc=calc, o=noun, **slots)
            c.answer_kind = "count"
            last_table = CH_BUYMORE
            last_slots = dict(o=noun)
            c.ask("q.", last_table["ask"], **slots, **last_slots)
            return
    c.ask("q.", last_table["ask"], **slots)


# ---------------------------------------------------------------------------------------
# unit_price
# ---------------------------------------------------------------------------------------
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
UP_EXTRA = T(
    [
        "{He} also buys {o2.a} for {pr}.",
        "{p} adds {o2.a} that costs {pr}.",
        "On top of that, {he} gets {o2.a} for {pr}.",
    ],
    ["{p.ta}还买了一{o2.cl}{o2.zh}，价格{pr}。", "另外{p.ta}又买了一{o2.cl}{o2.zh}，花了{pr}。"],
)
UP_SAYX = T(
    [
        "With the {o2.sg}, the total is {calc}.",
        "Adding the {o2.sg} gives {calc}.",
        "So {he} spends {calc} in all.",
    ],
    ["加上{o2.zh}一共{calc}。", "总共要{calc}。"],
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


def unit_price(c: Ctx) -> None:
    p = c.person()
    noun = c.choice([n for n in L.nouns("buy") if n.hi <= 900])
    box = c.choice(L.CONTAINERS[:4])
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his, o=noun, box=box)
    c.answer_kind = "money"
    costs = {"unit": 1, "need": 1, "extra": 1}
    options = []
    for mask in range(1, 8):
        chosen = frozenset(name for i, name in enumerate(costs) if mask >> i & 1)
        if "unit" not in chosen or ("extra" in chosen and "need" not in chosen):
            continue
        for tail in tail_options(3, change=True):
            if tail and "need" not in chosen:
                continue
            if len(chosen) + len(tail) == c.target_steps:
                options.append(("plain", chosen, tail))
    if c.target_steps in (3, 4):
        options += [("cmp", frozenset(), [])] * 3
    mode, chosen, tail = options[c.rng.randrange(len(options))]
    if mode == "cmp":
        _unit_compare(c, p, noun, box, slots)
        return
    n = c.randint(2, 12)
    unit = dollars(c, max(noun.lo, 10), noun.hi, 0.3)
    nq = c.num("count", n, "count")
    P = c.num("pack_price", unit * n, "money")
    c.fact("pk.", UP_PACK, ifable=False, n=nq, P=P, **slots)
    u, calc = c.calc("unit", f"{P.v}/{nq.v}", "money")
    c.say("s1.", UP_SAY1, calc=calc, **slots)
    cur = u
    if "need" not in chosen:
        c.ask("q1.", UP_ASK1, **slots)
        return
    m = c.num("need", c.randint(3, 30), "count")
    c.fact("nd.", UP_NEED, ifable=True, m=m, **slots)
    cur, calc = c.calc("cost", f"{u.v}*{m.v}", "money")
    c.say("s2.", UP_SAY2, calc=calc, m=m, **slots)
    if "extra" in chosen:
        o2 = c.choice([x for x in L.nouns("buy") if x != noun])
        pr = c.num("extra_price", dollars(c, o2.lo, o2.hi), "money")
        c.fact("ex.", UP_EXTRA, ifable=True, o2=o2, pr=pr, **slots)
        cur, calc = c.calc("total", f"{cur.v}+{pr.v}", "money")
        c.say("sx.", UP_SAYX, calc=calc, o2=o2, **slots)
        if not tail:
            c.ask("q.", ASK_TOTAL, **slots)
            return
    if tail:
        money_tail(c, p, cur, tail)
    else:
        c.ask("q2.", UP_ASK2, **slots)


def _unit_compare(c: Ctx, p: Person, noun, box, slots) -> None:
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


# ---------------------------------------------------------------------------------------
# sharing_division
# ---------------------------------------------------------------------------------------
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
BAGS = [("bag", "bags"), ("box", "boxes"), ("bundle", "bundles"), ("jar", "jars")]
GIVERS = {
    True: ["aunt", "grandmother", "older sister", "neighbor"],
    False: ["uncle", "grandfather", "older brother", "neighbor"],
}


def sharing_division(c: Ctx) -> None:
    chosen = plan(
        c,
        [("src", 1), ("gift", 1), ("keep", 1), ("share", 1), ("eat", 1), ("bags", 1)],
        lambda s: "share" in s,
    )
    p = c.person()
    noun = c.choice(L.nouns("share"))
    box = c.choice(L.CONTAINERS)
    r_pl, r_sg, r_zh = c.choice(RECIPIENTS)
    r = r_zh if c.lang == "zh" else r_pl
    slots = dict(
        p=p,
        he=p.he,
        He=p.He,
        him=p.him,
        his=p.his,
        himself=p.himself,
        o=noun,
        box=box,
        r=r,
        r1=r_sg,
    )
    intro(c, c.choice(["school", "party", "bakery" if "bake" in noun.tags else "store"]), p, 0.25)
    if "src" in chosen:
        a = c.num("boxes", c.randint(2, 8), "count")
        b = c.num("per_box", c.choice([4, 5, 6, 8, 10, 12, 15, 16, 18, 20, 24]), "count")
        c.fact("src.", SH_SRC, a=a, b=b, **slots)
        cur, calc = c.calc("total", f"{a.v}*{b.v}", "count")
        c.say("srcs.", SH_SRC_SAY, calc=calc, a=a, **slots)
    else:
        cur = c.num("total", c.randint(2, 10) * c.randint(3, 15), "count")
        c.fact("st.", SH_START, T=cur, **slots)
    them = ("这些" + noun.zh) if c.lang == "zh" else "them"
    if "gift" in chosen:
        g = c.num("more", c.randint(2, 20), "count")
        q = c.person()
        rel = c.choice(GIVERS[p.female])
        c.fact("gift.", SH_GIFT, g=g, q=q, rel=rel, **slots)
        cur, calc = c.calc("now", f"{cur.v}+{g.v}", "count")
        c.say("gifts.", SH_GIFT_SAY, calc=calc, **slots)
    if "keep" in chosen:
        hi = min(int(c.v(cur)) - 4, 15)
        if hi < 2:
            raise Retry("too few to keep some")
        k = c.num("kept", c.randint(2, max(2, hi)), "count")
        c.fact("keep.", SH_KEEP, k=k, **slots)
        cur, calc = c.calc("to_share", f"{cur.v}-{k.v}", "count")
        c.say("keeps.", SH_KEEP_SAY, calc=calc, **slots)
        them = ("剩下的" + noun.zh) if c.lang == "zh" else "the rest"
    need = 2 + ("eat" in chosen) * 2 + ("bags" in chosen) * 2
    options = [d for d in divisors(c.v(cur), 2, 10) if c.v(cur) / d >= need]
    if not options:
        raise Retry("no even split")
    n = c.num("people", c.choice(options), "people")
    last = not ({"eat", "bags"} & chosen)
    c.fact("share.", SH_SHARE, ifable=last, n=n, them=them, **slots)
    cur, calc = c.calc("each", f"{cur.v}/{n.v}", "count")
    c.say("shares.", SH_SHARE_SAY, calc=calc, **slots)
    if last:
        c.ask("shareq.", SH_SHARE_ASK, **slots)
        return
    if "eat" in chosen:
        food = bool({"bake", "food"} & noun.tags) or noun.sg in ("apple", "orange", "strawberry")
        if c.lang == "zh":
            verb = "吃了" if food else c.choice(["送出了", "用掉了"])
        else:
            verb = "ate" if food else c.choice(["gave away", "lost", "traded away", "used"])
        hi = int(c.v(cur)) - (4 if "bags" in chosen else 2)
        if hi < 2:
            raise Retry("nothing left to eat")
        e = c.num("used", c.randint(2, hi), "count")
        c.fact("eat.", SH_EAT, ifable="bags" not in chosen, e=e, verb=verb, **slots)
        cur, calc = c.calc("left_each", f"{cur.v}-{e.v}", "count")
        c.say("eats.", SH_EAT_SAY, calc=calc, **slots)
        if "bags" not in chosen:
            c.ask("eatq.", SH_EAT_ASK, **slots)
            return
    options = [d for d in divisors(c.v(cur), 2, 10) if c.v(cur) / d >= 2]
    if not options:
        raise Retry("no even packing")
    b = c.num("per_bag", c.choice(options), "count")
    bag, bags = c.choice(BAGS)
    c.fact("bags.", SH_BAGS, ifable=True, b=b, bag=bag, bags=bags, **slots)
    cur, calc = c.calc("bags", f"{cur.v}/{b.v}", "count")
    c.say("bagss.", SH_BAGS_SAY, calc=calc, bag=bag, bags=bags, **slots)
    c.ask("bagsq.", SH_BAGS_ASK, bag=bag, bags=bags, **slots)


# ---------------------------------------------------------------------------------------
# comparison: "3 more than", "twice as many", "half as many", then maybe a total
# ---------------------------------------------------------------------------------------
# (noun tag, fact verb, question auxiliary, base verb, zh verb with 了, zh bare verb)
CMP_PEOPLE = [
    ("collect", "has", "does", "have", "有", ""),
    ("collect", "collected", "did", "collect", "收集了", "收集"),
    ("farm", "picked", "did", "pick", "摘了", "摘"),
    ("bake", "baked", "did", "bake", "烤了", "烤"),
    ("buy", "bought", "did", "buy", "买了", "买"),
    ("share", "has", "does", "have", "有", ""),
]
# (en subject, pronoun, zh subject, noun tag, en verb, en base verb, zh verb, zh bare)
CMP_BUSINESS = [
    ("the bakery", "it", "面包店", "bake", "sold", "sell", "卖出了", "卖出"),
    ("the farm stand", "it", "农场摊位", "farm", "sold", "sell", "卖出了", "卖出"),
    ("the toy store", "it", "玩具店", "store", "sold", "sell", "卖出了", "卖出"),
    ("the school store", "it", "学校小卖部", "school", "sold", "sell", "卖出了", "卖出"),
]
CMP_BASE_P = T(
    ["{A} {v} {x} {o.pl}.", "{A} {v} {x} {o.pl} last week.", "To start with, {A} {v} {x} {o.pl}."],
    ["{A}{vz}{x}{o.cl}{o.zh}。"],
)
CMP_REL_P = T(
    [
        "{B} {v} {head} {conn} {A}.",
        "{B} {v} {head} {conn} {A} {did}.",
        "{A}'s friend {B} {v} {head} {conn} {A}.",
        "Meanwhile, {B} {v} {head} {conn} {A}.",
    ],
    ["{zrel}"],
)
CMP_SAY_P = T(
    ["{B} {v} {calc} {o.pl}.", "So {B} {v} {calc} {o.pl}.", "That means {B} {v} {calc} {o.pl}."],
    ["{B}{vz}{calc}{o.cl}{o.zh}。", "所以{B}{vz}{calc}{o.cl}。"],
)
CMP_ASK1_P = T(
    [
        "How many {o.pl} {does} {Z} {vb}?",
        "Find the number of {o.pl} {Z} {v}.",
        "What is the number of {o.pl} {Z} {v}?",
    ],
    ["{Z}{vz0}多少{o.cl}{o.zh}？", "{Z}一共{vz0}几{o.cl}{o.zh}？"],
)
CMP_ASKT_P = T(
    [
        "How many {o.pl} {do} they {vb} altogether?",
        "How many {o.pl} {do} {names} {vb} in total?",
        "What is the total number of {o.pl} they {vt}?",
        "How many {o.pl} {do} the {kw} of them {vb} combined?",
        "In total, how many {o.pl} {do} they {vb}?",
    ],
    ["他们一共{vz0}多少{o.cl}{o.zh}？", "{names}总共{vz0}多少{o.cl}{o.zh}？"],
)
CMP_SAYT_P = T(
    [
        "Together they {vt} {calc} {o.pl}.",
        "Altogether, they {vt} {calc} {o.pl}.",
        "In total, that is {calc} {o.pl}.",
    ],
    ["他们一共{vz}{calc}{o.cl}。", "合起来一共是{calc}{o.cl}{o.zh}。"],
)
CMP_BASE_T = T(
    ["{At1}, {S} {v} {x} {o.pl}.", "{S} {v} {x} {o.pl} {at1}."],
    ["{S}{P1}{vz}{x}{o.cl}{o.zh}。", "{P1}，{S}{vz}{x}{o.cl}{o.zh}。"],
)
CMP_REL_T = T(
    [
        "{At2}, {s} {v} {head} {conn} {at1}.",
        "{S} {v} {head} {at2} {conn} {at1}.",
        "{At2}, {S} {v} {head} {conn} {at1}.",
    ],
    ["{zrel}"],
)
CMP_SAY_T = T(
    [
        "{At2}, {s} {v} {calc} {o.pl}.",
        "{S} {v} {calc} {o.pl} {at2}.",
        "So {at2}, {s} {v} {calc} {o.pl}.",
    ],
    ["{P2}{vz}{calc}{o.cl}。", "{S}{P2}{vz}{calc}{o.cl}{o.zh}。"],
)
CMP_ASK1_T = T(
    [
        "How many {o.pl} did {S} {vb} {atk}?",
        "How many {o.pl} were sold {atk}?",
        "What was the number of {o.pl} {S} {v} {atk}?",
    ],
    ["{S}{Pk}{vz0}多少{o.cl}{o.zh}？", "{Pk}{S}{vz0}几{o.cl}{o.zh}？"],
)
CMP_ASKT_T = T(
    [
        "How many {o.pl} did {S} {vb} in all?",
        "How many {o.pl} did {S} {vb} over these {kw} {unit}?",
        "What is the total number of {o.pl} {S} {v} {span}?",
        "In total, how many {o.pl} did {S} {vb} {span}?",
    ],
    ["{S}这几{zunit}一共{vz0}多少{o.cl}{o.zh}？", "{span}{S}总共{vz0}多少{o.cl}？"],
)
CMP_SAYT_T = T(
    [
        "Altogether, {s} {v} {calc} {o.pl}.",
        "In total, that is {calc} {o.pl}.",
        "Over the {kw} {unit}, {s} {v} {calc} {o.pl}.",
    ],
    ["一共{vz}{calc}{o.cl}。", "{S}总共{vz}{calc}{o.cl}{o.zh}。"],
)
KW = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}


def _relation(c: Ctx, value: Fraction, noun, allow_frac: bool = True):
    """Draw one relation to a known amount: (kind, number input, phrase head, connector)."""
    kinds = ["more", "more", "fewer", "times"] + (["frac"] * 2 if allow_frac else [])
    for _ in range(10):
        kind = c.choice(kinds)
        if kind == "frac":
            opts = [m for m in (2, 3, 4) if value % m == 0 and value // m >= 2]
            if not opts:
                continue
            m = c.choice(opts)
            q = c.hidden("ratio", m, "mult")
            return kind, q, m
        if kind == "times":
            if value * 2 > 400:
                continue
            m = c.choice([2, 2, 3, 4] if value <= 60 else [2])
            return kind, None, m
        if kind == "fewer":
            if value <= 4:
                continue
            k = c.randint(2, min(int(value) - 2, 20))
            return kind, c.num("fewer", k, "count"), k
        k = c.randint(2, 20)
        return kind, c.num("more", k, "count"), k
    raise Retry("no relation fits")


def _rel_phrase(c: Ctx, kind: str, q: Q | None, m: int, noun) -> tuple[str, str, str]:
    """(head, connector, expression op) for a relation; registers a times multiplier."""
    if kind == "more":
        head = f"{q} more {noun.pl}" if c.chance(0.75) else f"{q} more"
        return head, "than", f"+{q.v}"
    if kind == "fewer":
        return f"{q} fewer {noun.pl}", "than", f"-{q.v}"
    if kind == "times":
        var = f"times{len(c.inputs)}"
        word = times_word(c, var, m)
        return f"{word} as many {noun.pl}", "as", f"*{var}"
    word = {2: "half", 3: "a third", 4: "a quarter"}[m]
    return f"{word} as many {noun.pl}", "as", f"/{q.v}"


def _zh_rel(
    c: Ctx, kind: str, q: Q | None, m: int, noun, subj: str, ref: str, var: str | None
) -> str:
    if kind == "more":
        return f"{subj}比{ref}多{q}{noun.cl}。"
    if kind == "fewer":
        return f"{subj}比{ref}少{q}{noun.cl}。"
    if kind == "times":
        return f"{subj}是{ref}的{c.num(var, m, 'mult', word=False)}倍。"
    return f"{subj}是{ref}的{FRACTION_WORDS_ZH[(1, m)]}。"


def comparison(c: Ctx) -> None:
    s = c.target_steps
    total = s >= 2 and c.chance(0.5) or s == 6
    n_rel = s - 1 if total else s
    periods = c.chance(0.45)
    zh = c.lang == "zh"
    if periods:
        _comparison_periods(c, n_rel, total)
        return
    tag, v, aux, vb, vz, vzbare = c.choice(CMP_PEOPLE)
    noun = c.choice(L.nouns(tag))
    people = [c.person() for _ in range(n_rel + 1)]
    values: list[Q] = [c.num("base", c.randint(4, 60), "count")]
    vz0 = "有" if vzbare == "" else vzbare + "了"
    slots = dict(o=noun, v=v, vz=vz, vb=vb, vz0=vz0, did=aux if aux == "did" else "does")
    base_at = len(c.facts)
    c.fact("cb.", CMP_BASE_P, A=people[0], x=values[0], **slots)
    for i in range(1, n_rel + 1):
        ref = i - 1 if c.chance(0.75) or i == 1 else c.randint(0, i - 1)
        ref_value = c.v(values[ref])
        kind, q, m = _relation(c, ref_value, noun)
        head, conn, op = _rel_phrase(c, kind, q, m, noun) if not zh else ("", "", "")
        A, B = people[ref], people[i]
        if zh:
            var = f"times{len(c.inputs)}"
            subj = f"{B}的{noun.zh}" if vzbare == "" else f"{B}{vzbare}的{noun.zh}"
            zrel = _zh_rel(c, kind, q, m, noun, subj, str(A), var)
            op = {
                "more": f"+{q.v}" if q else "",
                "fewer": f"-{q.v}" if q else "",
                "times": f"*{var}",
                "frac": f"/{q.v}" if q else "",
            }[kind]
            c.fact("cr.", CMP_REL_P, zrel=zrel)
        else:
            c.fact("cr.", CMP_REL_P, A=A, B=B, head=head, conn=conn, **slots)
        val, calc = c.calc("amount", f"{values[ref].v}{op}", "count")
        c.say("cs.", CMP_SAY_P, calc=calc, B=B, **slots)
        values.append(val)
    if c.chance(0.25) and not zh:  # "B has 40 more than A. If A has 140, how many ...?"
        base = c.facts.pop(base_at)
        c.facts.append(base)
        c.ifable = len(c.facts) - 1
    names = (
        ("、".join(str(x) for x in people[:-1]) + "和" + str(people[-1]))
        if zh
        else (", ".join(str(x) for x in people[:-1]) + " and " + str(people[-1]))
    )
    vt = "have" if v == "has" else v
    if total:
        _, calc = c.calc("total", "+".join(q.v for q in values), "count")
        c.say("cst.", CMP_SAYT_P, calc=calc, vt=vt, **slots)
        c.ask(
            "cqt.",
            CMP_ASKT_P,
            do="do" if aux == "does" else "did",
            names=names,
            vt=vt,
            kw=KW[len(people)],
            **slots,
        )
    else:
        c.ask("cq1.", CMP_ASK1_P, Z=people[-1], does=aux, **slots)


def _comparison_periods(c: Ctx, n_rel: int, total: bool) -> None:
    zh = c.lang == "zh"
    k = n_rel + 1
    if c.chance(0.5):
        subj_en, pron, subj_zh, tag, v, vb, vz, vzbare = c.choice(CMP_BUSINESS)
        S, s = (subj_zh, subj_zh) if zh else (subj_en, pron)
    else:
        p = c.person()
        tag, v, _, vb, vz, vzbare = c.choice([f for f in CMP_PEOPLE if f[1] != "has"])
        S, s = str(p), (p.ta if zh else p.he)
    noun = c.choice(L.nouns(tag))
    kind_p = c.choice(["days", "months", "weeks"])
    if kind_p == "days":
        start = c.randint(0, 7 - k)
        zp = L.WEEKDAYS["zh"][start : start + k]
        at = ["on " + d for d in L.WEEKDAYS["en"][start : start + k]]
        unit, zunit = "days", "天"
    elif kind_p == "months":
        start = c.randint(0, 12 - k)
        zp = L.MONTHS["zh"][start : start + k]
        at = ["in " + m_ for m_ in L.MONTHS["en"][start : start + k]]
        unit, zunit = "months", "个月"
    else:
        zp = [o + "周" for o in L.ORDINALS["zh"][:k]]
        at = [f"in the {o} week" for o in L.ORDINALS["en"][:k]]
        unit, zunit = "weeks", "周"
    span_en = (
        f"from {at[0].split(' ', 1)[1]} to {at[-1].split(' ', 1)[1]}"
        if kind_p != "weeks"
        else f"in those {KW[k]} weeks"
    )
    span = f"从{zp[0]}到{zp[-1]}" if zh else span_en
    vz0 = vzbare + "了" if vzbare else "有"
    slots = dict(
        o=noun, v=v, vb=vb, vz=vz, vz0=vz0, S=S, s=s, unit=unit, zunit=zunit, kw=KW[k], span=span
    )
    values = [c.num("base", c.randint(6, 80), "count")]
    c.fact("pb.", CMP_BASE_T, x=values[0], At1=_cap(at[0]), at1=at[0], P1=zp[0], **slots)
    for i in range(1, k):
        ref_value = c.v(values[i - 1])
        kind, q, m = _relation(c, ref_value, noun)
        if zh:
            var = f"times{len(c.inputs)}"
            zrel = _zh_rel(c, kind, q, m, noun, f"{zp[i]}{vzbare or '卖'}的", zp[i - 1], var)
            op = {
                "more": f"+{q.v}" if q else "",
                "fewer": f"-{q.v}" if q else "",
                "times": f"*{var}",
                "frac": f"/{q.v}" if q else "",
            }[kind]
            c.fact("pr.", CMP_REL_T, zrel=zrel)
        else:
            head, conn, op = _rel_phrase(c, kind, q, m, noun)
            c.fact(
                "pr.",
                CMP_REL_T,
                head=head,
                conn=conn,
                At2=_cap(at[i]),
                at2=at[i],
                at1=at[i - 1],
                **slots,
            )
        val, calc = c.calc("amount", f"{values[i - 1].v}{op}", "count")
        c.say("ps.", CMP_SAY_T, calc=calc, At2=_cap(at[i]), at2=at[i], P2=zp[i], **slots)
        values.append(val)
    if total:
        _, calc = c.calc("total", "+".join(q.v for q in values), "count")
        c.say("pst.", CMP_SAYT_T, calc=calc, **slots)
        c.ask("pqt.", CMP_ASKT_T, **slots)
    else:
        ask = CMP_ASK1_T if v == "sold" else T(CMP_ASK1_T["en"][::2], CMP_ASK1_T["zh"])
        c.ask("pq1.", ask, atk=at[-1], Pk=zp[-1], **slots)


# ---------------------------------------------------------------------------------------
# ages
# ---------------------------------------------------------------------------------------
AGE_BASE = T(
    ["{A} is {a} years old.", "{A} just turned {a}.", "{A}'s age is {a}.", "{A} is {a}."],
    ["{A}今年{a}岁。", "{A}现在{a}岁。"],
)
AGE_SAY = T(
    [
        "{B} is {calc} years old.",
        "So {B} is {calc}.",
        "{B}'s age is {calc} years.",
        "That makes {B} {calc} years old.",
    ],
    ["{B}今年{calc}岁。", "所以{B}{calc}岁。"],
)
AGE_ASK = T(
    ["How old is {Z}?", "What is {Z}'s age?", "How many years old is {Z}?"],
    ["{Z}今年多少岁？", "{Z}现在几岁？"],
)
AGE_FUT_ASK = T(
    [
        "How old will {Z} be in {n} years?",
        "In {n} years, how old will {Z} be?",
        "What will {Z}'s age be {n} years from now?",
    ],
    ["{n}年后{Z}多少岁？", "再过{n}年，{Z}几岁？"],
)
AGE_FUT_SAY = T(
    [
        "In {n} years, {Z} will be {calc} years old.",
        "{Z} will be {calc} then.",
        "{n} years from now, {Z} will be {calc}.",
    ],
    ["{n}年后{Z}{calc}岁。", "再过{n}年，{Z}就{calc}岁了。"],
)
AGE_PAST_ASK = T(
    [
        "How old was {Z} {n} years ago?",
        "What was {Z}'s age {n} years ago?",
        "{n} years ago, how old was {Z}?",
    ],
    ["{n}年前{Z}多少岁？", "{Z}{n}年前几岁？"],
)
AGE_PAST_SAY = T(
    ["{n} years ago, {Z} was {calc} years old.", "So {Z} was {calc} back then."],
    ["{n}年前{Z}{calc}岁。", "所以{Z}那时{calc}岁。"],
)
AGE_SUM_ASK = T(
    [
        "What is the sum of their ages?",
        "How old are they combined?",
        "What is the total of {names}'s ages?",
        "If you add up all their ages, what do you get?",
    ],
    ["他们的年龄一共是多少岁？", "{names}的年龄加起来是多少岁？"],
)
AGE_SUM_SAY = T(
    [
        "Together they are {calc} years old.",
        "The sum of their ages is {calc}.",
        "Their ages add up to {calc} years.",
    ],
    ["他们的年龄之和是{calc}岁。", "加起来一共{calc}岁。"],
)
KIN = {
    True: ["sister", "cousin", "friend", "neighbor", "aunt", "classmate"],
    False: ["brother", "cousin", "friend", "neighbor", "uncle", "classmate"],
}


def ages(c: Ctx) -> None:
    s = c.target_steps
    end = (
        c.choice(["none", "future", "past", "sum"])
        if s >= 2
        else c.choice(["none", "none", "future"])
    )
    n_rel = s - (end != "none")
    if n_rel < 1:
        n_rel, end = 1, "none"
    zh = c.lang == "zh"
    people = [c.person() for _ in range(n_rel + 1)]
    values = [c.num("age", c.randint(4, 40), "age")]
    c.fact("ab.", AGE_BASE, A=people[0], a=values[0])
    for i in range(1, n_rel + 1):
        ref = i - 1 if c.chance(0.8) or i == 1 else c.randint(0, i - 1)
        av = c.v(values[ref])
        A, B = people[ref], people[i]
        kinds = (
            ["older", "younger"]
            + (["times"] if av <= 30 else [])
            + (["frac"] if av % 2 == 0 and av >= 8 else [])
        )
        kind = c.choice(kinds)
        if kind == "older":
            k = c.num("diff", c.randint(2, min(30, 95 - int(av))), "age")
            op = f"+{k.v}"
            opts = [
                "{B} is {k} years older than {A}.",
                "{A} is {k} years younger than {B}.",
                "{B} is {k} years older than {A} is.",
            ]
            zopts = ["{B}比{A}大{k}岁。", "{A}比{B}小{k}岁。"]
        elif kind == "younger":
            if av <= 5:
                raise Retry("too young to have a younger relative")
            k = c.num("diff", c.randint(2, min(int(av) - 3, 25)), "age")
            op = f"-{k.v}"
            opts = [
                "{B} is {k} years younger than {A}.",
                "{A} is {k} years older than {B}.",
                "{B} is {k} years younger than {A} is.",
            ]
            zopts = ["{B}比{A}小{k}岁。", "{A}比{B}大{k}岁。"]
        elif kind == "times":
            m = c.choice([2, 3] if av > 15 else [2, 3, 4])
            var = f"times{len(c.inputs)}"
            if zh:
                k = c.num(var, m, "mult", word=False)
                zopts = ["{B}的年龄是{A}的{k}倍。", "{B}的岁数是{A}的{k}倍。"]
                opts = []
            else:
                tw = times_word(c, var, m)
                opts = [f"{{B}} is {tw} as old as {{A}}.", f"{{B}}'s age is {tw} {{A}}'s age."]
                zopts, k = [], None
            op = f"*{var}"
        else:
            m = c.choice([d for d in (2, 3, 4) if av % d == 0 and av // d >= 2])
            k = c.hidden("ratio", m, "mult")
            op = f"/{k.v}"
            w = {2: "half", 3: "a third of", 4: "a quarter of"}[m]
            opts = [
                f"{{B}} is {w} {{A}}'s age." if m > 2 else "{B} is half as old as {A}.",
                f"{{B}}'s age is {w if m > 2 else 'half of'} {{A}}'s.",
            ]
            zopts = [f"{{B}}的年龄是{{A}}的{FRACTION_WORDS_ZH[(1, m)]}。"]
        if not zh and c.chance(0.35) and i == 1:
            kin = c.choice(KIN[B.female])
            opts = [
                o.replace("{B}", f"{A.poss} {kin} {{B}}", 1) if o.startswith("{B}") else o
                for o in opts
            ]
        c.fact("ar.", T(opts, zopts), A=A, B=B, k=k)
        val, calc = c.calc("age", f"{values[ref].v}{op}", "age")
        if not 2 <= c.v(val) <= 100:
            raise Retry("implausible age")
        c.say("as.", AGE_SAY, calc=calc, B=B)
        values.append(val)
    Z = people[-1]
    names = (
        ("、".join(str(x) for x in people[:-1]) + "和" + str(people[-1]))
        if zh
        else (", ".join(str(x) for x in people[:-1]) + " and " + str(people[-1]))
    )
    if end == "future":
        n = c.num("years", c.randint(2, 20), "age")
        _, calc = c.calc("future_age", f"{values[-1].v}+{n.v}", "age")
        c.say("fs.", AGE_FUT_SAY, calc=calc, Z=Z, n=n)
        c.ask("fq.", AGE_FUT_ASK, Z=Z, n=n)
    elif end == "past":
        if c.v(values[-1]) < 5:
            raise Retry("too young for years ago")
        n = c.num("years", c.randint(2, min(int(c.v(values[-1])) - 2, 15)), "age")
        _, calc = c.calc("past_age", f"{values[-1].v}-{n.v}", "age")
        c.say("ps.", AGE_PAST_SAY, calc=calc, Z=Z, n=n)
        c.ask("pq.", AGE_PAST_ASK, Z=Z, n=n)
    elif end == "sum":
        _, calc = c.calc("sum_ages", "+".join(q.v for q in values), "age")
        c.say("ss.", AGE_SUM_SAY, calc=calc)
        c.ask("sq.", AGE_SUM_ASK, names=names)
    else:
        c.ask("q.", AGE_ASK, Z=Z)
    c.answer_kind = "age"


# ---------------------------------------------------------------------------------------
# rate_distance
# ---------------------------------------------------------------------------------------
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


def rate_distance(c: Ctx) -> None:
    chosen = plan(
        c,
        [("speed", 1), ("leg1", 1), ("leg2", 2), ("again", 1), ("remain", 1), ("tleft", 1)],
        lambda s: (
            "leg1" in s and ("tleft" not in s or "remain" in s) and not {"again", "remain"} <= s
        ),
    )
    p = c.person()
    v, vb, vz, (s_lo, s_hi), (t_lo, t_hi) = c.choice(MOVES)
    v = v.replace("{his}", p.his)
    km = c.chance(0.4) or c.lang == "zh"
    u, uph = ("kilometers", "kilometers per hour") if km else ("miles", "miles per hour")
    if c.lang == "zh":
        u = "公里"
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his, v=v, vb=vb, vz=vz, u=u, uph=uph)
    intro(c, "travel", p, 0.25)
    only = chosen == frozenset({"leg1"})
    if only and c.chance(0.4):  # time = distance / speed
        s_, t_ = c.randint(s_lo, s_hi), c.randint(t_lo, t_hi)
        sq = c.num("speed", s_, "speed")
        D = c.num("distance", s_ * t_, "length")
        c.fact("tm.", RD_TIME, ifable=False, D=D, s=sq, **slots)
        _, calc = c.calc("hours", f"{D.v}/{sq.v}", "hours")
        c.say("tms.", RD_TIME_SAY, calc=calc, **slots)
        c.ask("tmq.", RD_TIME_ASK, **slots)
        c.answer_kind = "hours"
        return
    order = ["leg1", "leg2", "again", "remain", "tleft"]
    last = [x for x in order if x in chosen][-1]
    if "speed" in chosen:
        s_, t0 = c.randint(s_lo, s_hi), c.randint(t_lo, t_hi)
        t0q = c.num("hours0", t0, "hours")
        D0 = c.num("distance0", s_ * t0, "length")
        c.fact("sp.", RD_SPEED, D0=D0, t0=t0q, **slots)
        speed, calc = c.calc("speed", f"{D0.v}/{t0q.v}", "speed")
        c.say("sps.", RD_SPEED_SAY, calc=calc, **slots)
        t = c.num("hours", c.randint(t_lo, t_hi), "hours")
        c.fact("l1b.", RD_LEG1B, ifable=last == "leg1", t=t, **slots)
    else:
        speed = c.num("speed", c.randint(s_lo, s_hi), "speed")
        t = c.num("hours", c.randint(t_lo, t_hi), "hours")
        c.fact("l1.", RD_LEG1, s=speed, t=t, **slots)
    cur, calc = c.calc("distance", f"{speed.v}*{t.v}", "length")
    c.say("l1s.", RD_LEG1_SAY, calc=calc, t=t, **slots)
    c.answer_kind = "length"
    ask, ask_slots = RD_ASK1, {}
    if "leg2" in chosen:
        s2 = c.num("speed2", c.randint(s_lo, s_hi), "speed")
        t2 = c.num("hours2", c.randint(2, max(2, t_hi - 1)), "hours")
        c.fact("l2.", RD_LEG2, ifable=False, s2=s2, t2=t2, **slots)
        d2, calc = c.calc("distance2", f"{s2.v}*{t2.v}", "length")
        c.say("l2s.", RD_LEG2_SAY, calc=calc, **slots)
        cur, calc = c.calc("total", f"{cur.v}+{d2.v}", "length")
        c.say("sums.", RD_SUM_SAY, calc=calc, **slots)
        ask = RD_SUM_ASK
    if "again" in chosen:
        if c.chance(0.4):
            c.hidden("ways", 2, "mult")
            c.fact("rt.", RD_ROUND, ifable=last == "again", **slots)
            cur, calc = c.calc("round_trip", f"{cur.v}*ways", "length")
            c.say("rts.", RD_ROUND_SAY, calc=calc, **slots)
            ask = RD_ROUND_ASK
        else:
            n = c.num("trips", c.randint(2, 6), "count")
            c.fact("rp.", RD_REPEAT, ifable=last == "again", n=n, **slots)
            cur, calc = c.calc("all_trips", f"{cur.v}*{n.v}", "length")
            c.say("rps.", RD_REPEAT_SAY, calc=calc, n=n, **slots)
            ask = RD_REPEAT_ASK
    if "remain" in chosen:
        if "tleft" in chosen:
            s3 = c.randint(s_lo, s_hi)
            rest = s3 * c.randint(2, t_hi + 1)
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
        ask = RD_REMAIN_ASK
        if "tleft" in chosen:
            s3q = c.num("speed3", s3, "speed")
            c.fact("tl.", RD_TLEFT, ifable=True, s3=s3q, **slots)
            cur, calc = c.calc("hours_left", f"{cur.v}/{s3q.v}", "hours")
            c.say("tls.", RD_TLEFT_SAY, calc=calc, **slots)
            ask = RD_TLEFT_ASK
            c.answer_kind = "hours"
    c.ask("q.", ask, **slots, **ask_slots)


# ---------------------------------------------------------------------------------------
# percent_discount
# ---------------------------------------------------------------------------------------
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


def percent_discount(c: Ctx) -> None:
    chosen = plan(
        c,
        [
            ("base", 1),
            ("disc", 1),
            ("sale", 1),
            ("direct", 1),
            ("tax", 2),
            ("extra", 1),
            ("end", 1),
        ],
        lambda s: (
            ("disc" in s) != ("direct" in s)
            and not ("sale" in s and "direct" in s)
            and ("sale" in s or "direct" in s or not ({"tax", "extra", "end"} & s))
        ),
    )
    p = c.person()
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his)
    c.answer_kind = "money"
    intro(c, "store", p, 0.25)
    if "base" in chosen:
        noun = c.choice([n for n in L.nouns("buy") if n.hi >= 200])
        pr = c.num("price", dollars(c, noun.lo, noun.hi, 0.6), "money")
        q = c.num("qty", c.randint(2, 10), "count")
        c.fact("pb.", PD_BASE, q=q, o=noun, pr=pr, **slots)
        P, calc = c.calc("full", f"{q.v}*{pr.v}", "money")
        c.say("pbs.", PD_BASE_SAY, calc=calc, q=q, o=noun, **slots)
        it = "them" if c.lang == "en" else noun.zh
    else:
        en, zh, cl, lo, hi = c.choice(BIG_ITEMS)
        a_item = ("an " if en[0] in "aeiou" else "a ") + en
        P = c.num("price", dollars(c, lo, hi, 0.7), "money")
        c.fact("pp.", PD_PRICE, P=P, A_item=a_item, a_item=a_item, item=zh, cl=cl, **slots)
        it = "the " + en if c.lang == "en" else zh
    pct = c.num("percent", c.choice([10, 15, 20, 25, 30, 40, 50, 5, 35, 60, 75]), "percent")
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
        o2 = c.choice(L.nouns("buy"))
        pr = c.num("extra_price", dollars(c, o2.lo, o2.hi), "money")
        c.fact("ex.", UP_EXTRA, ifable="end" not in chosen, o2=o2, pr=pr, **slots)
        cur, calc = c.calc("total", f"{cur.v}+{pr.v}", "money")
        c.say("exs.", UP_SAYX, calc=calc, o2=o2, **slots)
        ask = ASK_TOTAL
    if "end" in chosen:
        money_tail(c, p, cur, [c.choice(["change", "split"])])
        return
    c.ask("q.", ask, it=it, **slots)


# ---------------------------------------------------------------------------------------
# time_duration
# ---------------------------------------------------------------------------------------
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


def time_duration(c: Ctx) -> None:
    chosen = plan(
        c,
        [
            ("sum", 1),
            ("days", 1),
            ("extra", 1),
            ("weeks", 1),
            ("hours", 1),
            ("goal", 1),
            ("conv", 1),
            ("done", 1),
            ("parts", 1),
        ],
        lambda s: (
            (
                not ({"conv", "done", "parts"} & s)
                and ("extra" not in s or "days" in s)
                and ("weeks" not in s or "days" in s)
                and ("goal" not in s or "hours" in s)
            )
            or (
                s <= {"conv", "done", "parts"} and "conv" in s and ("parts" not in s or "done" in s)
            )
        ),
    )
    p = c.person()
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his)
    if "conv" in chosen:
        _time_movie(c, p, chosen, slots)
        return
    (v, ving, vz), (v2, ving2, vz2) = c.rng.sample(ACTIVITIES, 2)
    v, ving, v2, ving2 = (x.replace("{his}", p.his) for x in (v, ving, v2, ving2))
    slots.update(v=v, ving=ving, vz=vz, v2=v2, ving2=ving2, vz2=vz2)
    act = "on these activities" if "sum" in chosen else ving
    slots["act"] = act
    intro(c, c.choice(["sports", "school"]), p, 0.2)
    order = ["sum", "days", "extra", "weeks", "hours", "goal"]
    last = [x for x in order if x in chosen][-1]
    if "sum" in chosen:
        a = c.num("minutes_a", c.choice(range(10, 95, 5)), "minutes")
        b = c.num("minutes_b", c.choice(range(10, 65, 5)), "minutes")
        c.fact("su.", TD_SUM_SESSION if "days" in chosen else TD_SUM, a=a, b=b, **slots)
        cur, calc = c.calc("daily", f"{a.v}+{b.v}", "minutes")
        c.say("sus.", TD_SUM_SAY, calc=calc, **slots)
        ask, scope, zscope = TD_SUM_ASK, "each day", "每天"
        if "days" in chosen:
            slots["act"] = "in each session"
    else:
        cur = c.num("minutes", c.choice(range(15, 125, 5)), "minutes")
        c.fact("dl.", TD_SESSION if "days" in chosen else TD_DAILY, m=cur, **slots)
        ask, scope, zscope = None, "each day", "每天"
    if "days" in chosen:
        d = c.num("days", c.randint(2, 7), "count")
        c.fact("dy.", TD_DAYS, ifable=last == "days", d=d, **slots)
        cur, calc = c.calc("weekly", f"{cur.v}*{d.v}", "minutes")
        c.say("dys.", TD_DAYS_SAY, calc=calc, **slots)
        ask, scope, zscope = TD_WEEK_ASK, "each week", "每周"
    if "extra" in chosen:
        e = c.num("extra", c.choice(range(10, 95, 5)), "minutes")
        c.fact("ex.", TD_EXTRA, ifable=last == "extra", e=e, **slots)
        cur, calc = c.calc("weekly_total", f"{cur.v}+{e.v}", "minutes")
        c.say("exs.", TD_EXTRA_SAY, calc=calc, **slots)
        ask = TD_WEEK_ASK
    if "weeks" in chosen:
        w = c.num("weeks", c.randint(2, 12), "count")
        c.fact("wk.", TD_WEEKS, ifable=last == "weeks", w=w, **slots)
        cur, calc = c.calc("all_minutes", f"{cur.v}*{w.v}", "minutes")
        c.say("wks.", TD_WEEKS_SAY, calc=calc, w=w, **slots)
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
        G = c.num("goal", int(c.v(cur)) + c.randint(2, 30), "hours")
        c.fact("gl.", TD_GOAL, ifable=True, G=G, **slots)
        cur, calc = c.calc("hours_left", f"{G.v}-{cur.v}", "hours")
        c.say("gls.", TD_GOAL_SAY, calc=calc, **slots)
        ask = TD_GOAL_ASK
    c.ask("q.", ask, scope=scope, zscope=zscope, **slots)


def _time_movie(c: Ctx, p: Person, chosen, slots) -> None:
    ev, vd, evz, vdz = c.choice(EVENTS)
    a_ev = ("an " if ev[0] in "aeiou" else "a ") + ev
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
    total = int(c.v(cur))
    x = c.num(
        "watched", c.choice(range(10, total - (39 if "parts" in chosen else 9), 5)), "minutes"
    )
    c.fact("dn.", TD_DONE, ifable="parts" not in chosen, x=x, **slots)
    cur, calc = c.calc("left", f"{cur.v}-{x.v}", "minutes")
    c.say("dns.", TD_DONE_SAY, calc=calc, **slots)
    if "parts" not in chosen:
        c.ask("dnq.", TD_DONE_ASK, **slots)
        return
    options = divisors(c.v(cur), 2, 6)
    if not options:
        raise Retry("the rest does not split evenly")
    n = c.num("parts", c.choice(options), "count")
    c.fact("pt.", TD_PARTS, ifable=True, n=n, **slots)
    cur, calc = c.calc("each", f"{cur.v}/{n.v}", "minutes")
    c.say("pts.", TD_PARTS_SAY, calc=calc, **slots)
    c.ask("ptq.", TD_PARTS_ASK, **slots)


# ---------------------------------------------------------------------------------------
# work_rate (held out by default in the presets)
# ---------------------------------------------------------------------------------------
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


def work_rate(c: Ctx) -> None:
    chosen = plan(
        c,
        [
            ("two", 1),
            ("team", 1),
            ("done", 1),
            ("days", 1),
            ("left", 1),
            ("join", 1),
            ("tleft", 1),
            ("time", 1),
        ],
        lambda s: (
            not ({"two", "team"} <= s)
            and (("time" in s) != ("done" in s))
            and ("time" not in s or not ({"days", "left", "join", "tleft"} & s))
            and ("days" not in s or "done" in s)
            and ("left" not in s or "done" in s)
            and ("tleft" not in s or "left" in s)
            and ("join" not in s or "tleft" in s)
        ),
    )
    o, v, v3, ving, vpp, vz, oz, cl, (lo, hi) = c.choice(TASKS)
    p = c.person()
    slots = dict(o=o, v=v, v3=v3, ving=ving, vpp=vpp, vz=vz, oz=oz, cl=cl, p=p, v3s=v3)
    intro(c, "work", p, 0.2)
    c.answer_kind = "count"
    single = not ({"two", "team"} & chosen)
    if single:
        rate = c.num("rate", c.randint(lo, hi), "rate")
        c.fact("one.", WR_ONE, r=rate, **slots)
        Subjz = str(p)
        slots.update(
            Subj=str(p),
            subj=p.he,
            Pron=p.He,
            vx=v3,
            do="does",
            work="works",
            keep="keeps",
            need="needs",
            them=p.him,
        )
    elif "two" in chosen:
        q = c.person()
        r1, r2 = (
            c.num("rate1", c.randint(lo, hi), "rate"),
            c.num("rate2", c.randint(lo, hi), "rate"),
        )
        c.fact("two.", WR_TWO, q=q, r1=r1, r2=r2, **slots)
        rate, calc = c.calc("rate", f"{r1.v}+{r2.v}", "rate")
        c.say("twos.", WR_TWO_SAY, calc=calc, **slots)
        Subjz = f"{p}和{q}"
        slots.update(
            Subj=f"{p} and {q}",
            subj="they",
            Pron="They",
            vx=v,
            do="do",
            work="work",
            keep="keep",
            need="need",
            them="them",
        )
        ask = WR_RATE_ASK
    else:
        n = c.num("workers", c.randint(2, 8), "people")
        r = c.num("rate_each", c.randint(lo, hi), "rate")
        c.fact("team.", WR_TEAM, n=n, r=r, **slots)
        rate, calc = c.calc("rate", f"{n.v}*{r.v}", "rate")
        c.say("teams.", WR_TEAM_SAY, calc=calc, **slots)
        Subjz = "他们"
        slots.update(
            Subj="They",
            subj="they",
            Pron="They",
            vx=v,
            do="do",
            work="work",
            keep="keep",
            need="need",
            them="them",
        )
        ask = WR_TEAM_ASK
    slots["Subjz"] = Subjz
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
    order = ["done", "days", "left", "join", "tleft"]
    last = [x for x in order if x in chosen][-1]
    h = c.num("hours", c.randint(2, 8), "hours")
    c.fact("dn.", WR_DONE, ifable=last == "done", h=h, **slots)
    cur, calc = c.calc("done", f"{rate.v}*{h.v}", "count")
    c.say("dns.", WR_DONE_SAY, calc=calc, h=h, **slots)
    ask = WR_DONE_ASK
    if "days" in chosen:
        d = c.num("days", c.randint(2, 6), "count")
        c.fact("dy.", WR_DAYS, ifable=last == "days", d=d, **slots)
        cur, calc = c.calc("done_days", f"{cur.v}*{d.v}", "count")
        c.say("dys.", WR_DAYS_SAY, calc=calc, d=d, **slots)
        ask = WR_DAYS_ASK
    if "left" in chosen:
        r3 = c.randint(lo, hi) if "join" in chosen else 0
        final_rate = c.v(rate) + r3
        rest = final_rate * c.randint(2, 6) if "tleft" in chosen else c.randint(10, 200)
        J = c.num("job", c.v(cur) + rest, "count")
        text = c.fill("job.", WR_JOB, J=J, **slots)
        pos = len(c.facts) if last == "left" else c.choice([1, len(c.facts)])
        c.facts.insert(min(pos, len(c.facts)), text)
        c.ifable = len(c.facts) - 1 if last == "left" else None
        cur, calc = c.calc("left", f"{J.v}-{cur.v}", "count")
        c.say("lfs.", WR_LEFT_SAY, calc=calc, **slots)
        ask = WR_LEFT_ASK
        if "join" in chosen:
            q3 = c.person()
            r3q = c.num("rate3", r3, "rate")
            c.fact("jn.", WR_JOIN, q3=q3, r3=r3q, **slots)
            rate, calc = c.calc("new_rate", f"{rate.v}+{r3q.v}", "rate")
            c.say("jns.", WR_JOIN_SAY, calc=calc, q3=q3, **slots)
        if "tleft" in chosen:
            cur, calc = c.calc("hours_left", f"{cur.v}/{rate.v}", "hours")
            c.say("tls.", WR_TLEFT_SAY, calc=calc, **slots)
            ask = WR_TLEFT_ASK
            c.answer_kind = "hours"
    c.ask("q.", ask, **slots)


# ---------------------------------------------------------------------------------------
# area_perimeter
# ---------------------------------------------------------------------------------------
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


def area_perimeter(c: Ctx) -> None:
    area_stages = {"rel", "area", "second", "cut", "cost", "bags"}
    chosen = plan(
        c,
        [
            ("rel", 1),
            ("area", 1),
            ("second", 2),
            ("cut", 2),
            ("cost", 1),
            ("bags", 1),
            ("perim", 1),
            ("gate", 1),
            ("pens", 1),
            ("fcost", 1),
            ("posts", 1),
        ],
        lambda s: (
            (s <= area_stages and "area" in s and not {"cost", "bags"} <= s)
            or (
                not (s & {"area", "second", "cut", "cost", "bags"})
                and "perim" in s
                and not {"fcost", "posts"} <= s
                and not {"gate", "posts"} <= s
            )
        ),
    )
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
    slots = dict(
        p=p,
        he=p.he,
        He=p.He,
        his=p.his,
        thing=thing_zh if zh else thing_en,
        things=things_en,
        u=u,
        u1=u1,
    )
    if thing_en in ("garden", "backyard", "vegetable patch"):
        intro(c, "garden", p, 0.2)
    W = c.randint(3, 30)
    w = c.num("width", W, "length")
    if "rel" in chosen:
        if c.chance(0.5):
            m = c.randint(2, 4)
            var = f"times{len(c.inputs)}"
            if zh:
                zrel = f"长是宽的{c.num(var, m, 'mult', word=False)}倍"
                rel = ""
            else:
                rel, zrel = f"{times_word(c, var, m)} its width", ""
            expr = f"{w.v}*{var}"
        else:
            k = c.num("longer", c.randint(2, 20), "length")
            rel, zrel = f"{k} {u} more than its width", f"长比宽多{k}米"
            expr = f"{w.v}+{k.v}"
        c.fact("rel.", AP_REL, w=w, rel=rel, zrel=zrel, **slots)
        length, calc = c.calc("length", expr, "length")
        c.say("rels.", AP_REL_SAY, calc=calc, **slots)
    else:
        length = c.num("length", W + c.randint(1, 25), "length")
        c.fact("dim.", AP_DIMS, l=length, w=w, **slots)
    if "perim" in chosen:
        _perimeter(c, chosen, length, w, slots)
        return
    cur, calc = c.calc("area", f"{length.v}*{w.v}", "area")
    c.say("ars.", AP_AREA_SAY, calc=calc, **slots)
    ask = AP_AREA_ASK
    c.answer_kind = "area"
    if "second" in chosen:
        t2_en, t2_zh = c.choice(SECOND[indoor])
        l2, w2 = (
            c.num("length2", c.randint(3, 20), "length"),
            c.num("width2", c.randint(2, 15), "length"),
        )
        s2 = dict(slots, thing2=t2_zh if zh else t2_en)
        c.fact("sc.", AP_SECOND, ifable=False, l2=l2, w2=w2, **s2)
        a2, calc = c.calc("area2", f"{l2.v}*{w2.v}", "area")
        c.say("scs.", AP_SECOND_SAY, calc=calc, **s2)
        cur, calc = c.calc("total_area", f"{cur.v}+{a2.v}", "area")
        c.say("bts.", AP_BOTH_SAY, calc=calc, **s2)
        ask, slots = AP_BOTH_ASK, s2
    if "cut" in chosen:
        ob_en, ob_zh = c.choice(OBSTACLES[indoor])
        a = c.num("obs_length", c.randint(2, max(2, min(int(c.v(length)) - 1, 12))), "length")
        b = c.num("obs_width", c.randint(2, max(2, min(W - 1, 10))), "length")
        s3 = dict(
            slots, obs=ob_zh if zh else ob_en, where=slots["thing"], prep="on" if indoor else "in"
        )
        c.fact("ct.", AP_CUT, ifable=False, a=a, b=b, **s3)
        ob, calc = c.calc("obstacle", f"{a.v}*{b.v}", "area")
        c.say("cts.", AP_CUT_SAY, calc=calc, **s3)
        cur, calc = c.calc("open_area", f"{cur.v}-{ob.v}", "area")
        if c.v(cur) < 1:
            raise Retry("obstacle bigger than the area")
        c.say("lfs.", AP_LEFT_SAY, calc=calc, **s3)
        ask, slots = AP_LEFT_ASK, s3
    if "cost" in chosen:
        mat_en, mat_zh = c.choice(MATERIALS[indoor])
        mat = mat_zh if zh else mat_en
        pr = c.num(
            "price_per",
            c.choice([1, 2, 3, 4, 5, Fraction(3, 2), Fraction(5, 2), Fraction(1, 2)]),
            "money",
        )
        c.fact("co.", AP_COST, ifable=True, pr=pr, mat=mat, Mat=mat.capitalize(), **slots)
        cur, calc = c.calc("cost", f"{cur.v}*{pr.v}", "money")
        c.say("cos.", AP_COST_SAY, calc=calc, mat=mat, **slots)
        ask, slots = AP_COST_ASK, dict(slots, mat=mat)
        c.answer_kind = "money"
    if "bags" in chosen:
        options = [d for d in divisors(c.v(cur), 5, 50) if c.v(cur) / d >= 2]
        if not options:
            raise Retry("area does not divide into bags")
        cov = c.num("coverage", c.choice(options), "area")
        c.fact("bg.", AP_BAGS, ifable=True, cov=cov, **slots)
        cur, calc = c.calc("bags", f"{cur.v}/{cov.v}", "count")
        c.say("bgs.", AP_BAGS_SAY, calc=calc, **slots)
        ask = AP_BAGS_ASK
        c.answer_kind = "count"
    c.ask("q.", ask, **slots)


def _perimeter(c: Ctx, chosen, length: Q, w: Q, slots) -> None:
    cur, calc = c.calc("perimeter", f"2*({length.v}+{w.v})", "length")
    c.say("pes.", AP_PERIM_SAY, calc=calc, **slots)
    ask = AP_PERIM_ASK
    c.answer_kind = "length"
    order = ["gate", "pens", "fcost", "posts"]
    present = [x for x in order if x in chosen]
    last = present[-1] if present else "perim"
    if "gate" in chosen:
        g = c.num("gate", c.randint(2, 6), "length")
        c.fact("gt.", AP_GATE, ifable=last == "gate", g=g, **slots)
        cur, calc = c.calc("fence", f"{cur.v}-{g.v}", "length")
        c.say("gts.", AP_GATE_SAY, calc=calc, **slots)
        ask = AP_FENCE_ASK
    if "pens" in chosen:
        n = c.num("copies", c.randint(2, 5), "count")
        c.fact("pn.", AP_PENS, ifable=last == "pens", n=n, **slots)
        cur, calc = c.calc("all_fence", f"{cur.v}*{n.v}", "length")
        c.say("pns.", AP_PENS_SAY, calc=calc, **slots)
        ask = AP_FENCE_ASK
    if "fcost" in chosen:
        pr = c.num(
            "price_per",
            c.choice([2, 3, 4, 5, 6, 8, 10, 12, Fraction(5, 2), Fraction(15, 2)]),
            "money",
        )
        c.fact("fc.", AP_FCOST, ifable=True, pr=pr, **slots)
        cur, calc = c.calc("cost", f"{cur.v}*{pr.v}", "money")
        c.say("fcs.", AP_FCOST_SAY, calc=calc, **slots)
        ask = AP_FCOST_ASK
        c.answer_kind = "money"
    if "posts" in chosen:
        options = [d for d in divisors(c.v(cur), 2, 12) if c.v(cur) / d >= 4]
        if not options:
            raise Retry("posts do not fit evenly")
        sp = c.num("spacing", c.choice(options), "length")
        c.fact("po.", AP_POSTS, ifable=True, sp=sp, **slots)
        cur, calc = c.calc("posts", f"{cur.v}/{sp.v}", "count")
        c.say("pos.", AP_POSTS_SAY, calc=calc, **slots)
        ask = AP_POSTS_ASK
        c.answer_kind = "count"
    c.ask("q.", ask, **slots)


# ---------------------------------------------------------------------------------------
# fraction_remaining: "sold a third of them, then gave 25% of the rest away"
# ---------------------------------------------------------------------------------------
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
NICE = [
    12,
    20,
    24,
    30,
    36,
    40,
    48,
    60,
    72,
    80,
    90,
    96,
    100,
    120,
    144,
    150,
    160,
    180,
    200,
    240,
    300,
    360,
]


def fraction_remaining(c: Ctx) -> None:
    s = c.target_steps
    ops: list[str] = []
    r = s
    if s >= 2 and c.chance(0.3):
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
        r -= {"frac": 2, "pct": 2, "sub": 1, "part": 1, "split": 1}[op]
        first = False
    p = c.person()
    noun = c.choice([n for n in L.nouns("collect") + L.nouns("bake") + L.nouns("farm")])
    box = c.choice(L.CONTAINERS)
    food = bool({"bake", "food"} & noun.tags) or noun.sg in ("strawberry", "apple", "orange")
    slots = dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his, o=noun, box=box)
    got = "baked" if "bake" in noun.tags else ("picked" if "farm" in noun.tags else "collected")
    intro(
        c, "farm" if "farm" in noun.tags else ("bakery" if "bake" in noun.tags else "store"), p, 0.2
    )
    if ops[0] == "src":
        a = c.num("boxes", c.randint(2, 10), "count")
        b = c.num("per_box", c.choice([6, 10, 12, 15, 20, 24, 30]), "count")
        c.fact("src.", FR_SRC, a=a, b=b, **slots)
        cur, calc = c.calc("total", f"{a.v}*{b.v}", "count")
        c.say("srcs.", FR_SRC_SAY, calc=calc, **slots)
        ops = ops[1:]
    else:
        cur = c.num("total", c.choice(NICE), "count")
        c.fact("st.", FR_START, T=cur, got=got, **slots)
    them_first = True
    used_verbs: list[tuple[str, str, str]] = []
    for i, op in enumerate(ops):
        last = i == len(ops) - 1
        value = c.v(cur)
        them = (
            ("它们的" if them_first else "剩下的")
            if c.lang == "zh"
            else (
                "them"
                if them_first
                else c.choice(["the rest", f"the remaining {noun.pl}", "what was left"])
            )
        )
        pool = FR_FOOD_VERBS if food and value <= 40 else FR_VERBS
        verbs = [vv for vv in pool if vv not in used_verbs] or FR_VERBS
        verb, vb, vz = c.choice(verbs)
        used_verbs.append((verb, vb, vz))
        vslots = dict(slots, verb=verb, vb=vb, vz=vz, them=them)
        if op in ("frac", "pct", "part"):
            if op == "pct" or (op == "part" and c.chance(0.4)):
                opts = [
                    x
                    for x in (10, 20, 25, 40, 50, 60, 75, 30)
                    if (value * x / 100).denominator == 1 and 0 < value * x / 100 < value
                ]
                if not opts:
                    raise Retry("no percent fits")
                pq = c.num("percent", c.choice(opts), "percent")
                f, expr = str(pq), f"{cur.v}*{pq.v}/100"
            else:
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
                expr = f"{cur.v}*{qa.v}/{qb.v}"
            c.fact("pt.", FR_PART, ifable=last, f=f, **vslots)
            part, calc = c.calc("part", expr, "count")
            c.say("pts.", FR_PART_SAY, calc=calc, f=f, cur=cur, **vslots)
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
            c.fact("sb.", FR_SUB, ifable=last, k=k, q=q, **vslots)
            cur, calc = c.calc("left", f"{cur.v}-{k.v}", "count")
            c.say("sbs.", FR_SUB_SAY, calc=calc, **vslots)
        else:
            options = [d for d in divisors(value, 2, 10) if value / d >= 2]
            if not options:
                raise Retry("the rest does not split")
            n = c.num("parts", c.choice(options), "count")
            bag, bags = c.choice(BAGS[:2] + [("basket", "baskets")])
            c.fact("sp.", FR_SPLIT, ifable=True, n=n, bag=bag, bags=bags, **vslots)
            cur, calc = c.calc("each", f"{cur.v}/{n.v}", "count")
            c.say("sps.", FR_SPLIT_SAY, calc=calc, bag=bag, **vslots)
            c.ask("spq.", FR_SPLIT_ASK, bag=bag, **vslots)
            return
    c.ask("q.", FR_REST_ASK, **slots)


# ---------------------------------------------------------------------------------------
# savings_earnings
# ---------------------------------------------------------------------------------------
JOBS = [
    ("babysitting", "照看小孩"),
    ("mowing lawns", "修剪草坪"),
    ("walking dogs", "遛狗"),
    ("tutoring", "做家教"),
    ("washing cars", "洗车"),
    ("working at a cafe", "在咖啡店打工"),
    ("delivering newspapers", "送报纸"),
]
# (en, zh, lowest price, highest price) in dollars
GOALS = [
    ("a pair of skates", "一双溜冰鞋", 40, 200),
    ("a guitar", "一把吉他", 100, 600),
    ("a new bike", "一辆新自行车", 150, 900),
    ("a video game console", "一台游戏机", 250, 600),
    ("a tablet", "一台平板电脑", 200, 1000),
    ("a camera", "一台相机", 300, 1500),
    ("a laptop", "一台笔记本电脑", 500, 2500),
    ("a used car", "一辆二手车", 2000, 20000),
    ("a trip abroad", "一次出国旅行", 1000, 8000),
]


def _goal_item(c: Ctx, price: Fraction) -> tuple[str, str]:
    fits = [(en, zh) for en, zh, lo, hi in GOALS if lo <= price <= hi]
    if not fits:
        raise Retry("no goal item at this price")
    return c.choice(fits)


SPEND_ON = [("lunch", "午饭"), ("bus fare", "车费"), ("snacks", "零食"), ("movies", "看电影")]
SE_WAGE = T(
    [
        "{p} earns {h} an hour {job}. {He} works {t} hours a day.",
        "{p} makes {h} per hour {job} and works {t} hours each day.",
        "{p} gets paid {h} an hour for {job}, and {he} works {t} hours a day.",
    ],
    ["{p}{jobz}每小时挣{h}，每天工作{t}小时。", "{p}每天{jobz}{t}小时，每小时{h}。"],
)
SE_WAGE_SAY = T(
    ["{He} earns {calc} a day.", "Each day {he} makes {calc}.", "In one day, {p} earns {calc}."],
    ["{p.ta}每天挣{calc}。", "一天能挣{calc}。"],
)
SE_WAGE_ASK = T(
    ["How much does {p} earn in a day?", "How much money does {p} make each day?"],
    ["{p}每天挣多少钱？", "{p}一天能挣多少元？"],
)
SE_DAILY = T(
    ["{p} earns {D} a day {job}.", "{p} makes {D} each day from {job}."],
    ["{p}{jobz}每天挣{D}。", "{p}每天{jobz}能挣{D}。"],
)
SE_DAYS = T(
    ["{He} works {d} days a week.", "{p} works {d} days every week."],
    ["{p.ta}每周工作{d}天。", "{p}一周干{d}天。"],
)
SE_DAYS_SAY = T(
    ["{He} earns {calc} a week.", "In a week, that is {calc}."],
    ["{p.ta}每周挣{calc}。", "一周能挣{calc}。"],
)
SE_DAYS_ASK = T(
    ["How much does {p} earn in a week?", "What are {p}'s weekly earnings?"],
    ["{p}每周挣多少钱？", "{p}一周能挣多少元？"],
)
SE_BONUS = T(
    [
        "{He} also gets {b} in tips every {per}.",
        "On top of that, {he} receives a {b} bonus each {per}.",
    ],
    ["{p.ta}每{perz}还能拿到{b}小费。", "另外{p.ta}每{perz}有{b}奖金。"],
)
SE_BONUS_SAY = T(
    ["With the extra money, {he} makes {calc} a {per}.", "So {he} gets {calc} each {per}."],
    ["加上这笔钱，每{perz}一共{calc}。", "所以每{perz}能拿到{calc}。"],
)
SE_BONUS_ASK = T(
    ["How much does {p} make each {per} in total?", "How much money does {p} get every {per}?"],
    ["{p}每{perz}一共能拿到多少钱？", "{p}每{perz}总共收入多少元？"],
)
SE_SPEND = T(
    [
        "{He} spends {s} of it each {per} on {thing}.",
        "Every {per}, {p} spends {s} on {thing} and saves the rest.",
    ],
    ["{p.ta}每{perz}要花{s}在{thingz}上。", "每{perz}{p}花掉{s}买{thingz}，其余的存起来。"],
)
SE_SPEND_SAY = T(
    ["{He} saves {calc} each {per}.", "That leaves {calc} to save every {per}."],
    ["每{perz}能存{calc}。", "{p.ta}每{perz}存下{calc}。"],
)
SE_SPEND_ASK = T(
    ["How much does {p} save each {per}?", "How much money does {p} put away every {per}?"],
    ["{p}每{perz}能存多少钱？", "{p}每{perz}存下多少元？"],
)
SE_REPEAT = T(
    ["{He} does this for {n} {per}s.", "{p} keeps this up for {n} {per}s."],
    ["{p.ta}这样坚持了{n}{perz2}。", "{p}一共这样干了{n}{perz2}。"],
)
SE_REPEAT_SAY = T(
    ["After {n} {per}s, {he} has {calc}.", "Over {n} {per}s, that adds up to {calc}."],
    ["{n}{perz2}一共{calc}。", "总共有{calc}。"],
)
SE_REPEAT_ASK = T(
    [
        "How much money does {p} have at the end?",
        "How much does {p} {earn} in all?",
        "How much money does {p} {earn} over that time?",
    ],
    ["最后{p}一共有多少钱？", "{p}总共{earnz}了多少元？"],
)
SE_GOAL = T(
    ["{He} wants to buy {item} that costs {G}.", "{p} is saving up for {item}, which costs {G}."],
    ["{p.ta}想买{itemz}，价格是{G}。", "{p}在攒钱买{itemz}，售价{G}。"],
)
SE_GOAL_SAY = T(
    ["{He} still needs {calc}.", "{p} is {calc} short."], ["还差{calc}。", "{p.ta}还需要{calc}。"]
)
SE_GOAL_ASK = T(
    ["How much more money does {p} need?", "How much more does {he} have to save to buy it?"],
    ["{p}还差多少钱？", "{p.ta}还需要攒多少元？"],
)
SE_WEEKS_SAY = T(
    ["{He} needs {calc} {per}s.", "It takes {calc} {per}s."],
    ["需要{calc}{perz2}。", "{p.ta}要攒{calc}{perz2}。"],
)
SE_WEEKS_ASK = T(
    [
        "How many {per}s will it take {p} to save enough?",
        "How many {per}s does {p} need to work to afford it?",
    ],
    ["{p}需要多少{perz2}才能攒够？", "要攒几{perz2}才够？"],
)


def savings_earnings(c: Ctx) -> None:
    chosen = plan(
        c,
        [
            ("wage", 1),
            ("days", 1),
            ("bonus", 1),
            ("spend", 1),
            ("repeat", 1),
            ("goal", 1),
            ("goal_n", 1),
        ],
        lambda s: not {"goal", "goal_n"} <= s and not ("goal_n" in s and "repeat" in s),
    )
    p = c.person()
    job, jobz = c.choice(JOBS)
    slots = dict(
        p=p,
        he=p.he,
        He=p.He,
        him=p.him,
        his=p.his,
        job=job,
        jobz=jobz,
        per="day",
        perz="天",
        perz2="天",
    )
    intro(c, "saving", p, 0.25)
    c.answer_kind = "money"
    order = ["wage", "days", "bonus", "spend", "repeat", "goal", "goal_n"]
    last = [x for x in order if x in chosen][-1]
    if "wage" in chosen:
        h = c.num("hourly", c.choice([8, 9, 10, 11, 12, 12.5, 14, 15, 16, 18, 20, 7.5]), "money")
        t = c.num("hours", c.randint(2, 8), "hours")
        c.fact("wg.", SE_WAGE, h=h, t=t, **slots)
        cur, calc = c.calc("daily", f"{h.v}*{t.v}", "money")
        c.say("wgs.", SE_WAGE_SAY, calc=calc, **slots)
        ask = SE_WAGE_ASK
    else:
        cur = c.num("daily", c.choice(range(20, 161, 5)), "money")
        c.fact("dl.", SE_DAILY, D=cur, **slots)
        ask = None
    if "days" in chosen:
        d = c.num("days", c.randint(2, 6), "count")
        c.fact("dy.", SE_DAYS, ifable=last == "days", d=d, **slots)
        cur, calc = c.calc("weekly", f"{cur.v}*{d.v}", "money")
        c.say("dys.", SE_DAYS_SAY, calc=calc, **slots)
        ask = SE_DAYS_ASK
        slots.update(per="week", perz="周", perz2="周")
    if "bonus" in chosen:
        b = c.num("tips", c.choice(range(5, 55, 5)), "money")
        c.fact("bn.", SE_BONUS, ifable=last == "bonus", b=b, **slots)
        cur, calc = c.calc("with_tips", f"{cur.v}+{b.v}", "money")
        c.say("bns.", SE_BONUS_SAY, calc=calc, **slots)
        ask = SE_BONUS_ASK
    if "spend" in chosen:
        thing, thingz = c.choice(SPEND_ON)
        hi = int(c.v(cur) * Fraction(2, 3))
        if hi < 5:
            raise Retry("too little to spend")
        s_ = c.num("spent", c.randint(2, min(hi, 100)), "money")
        c.fact("sp.", SE_SPEND, ifable=last == "spend", s=s_, thing=thing, thingz=thingz, **slots)
        cur, calc = c.calc("saved", f"{cur.v}-{s_.v}", "money")
        c.say("sps.", SE_SPEND_SAY, calc=calc, **slots)
        ask = SE_SPEND_ASK
    earn, earnz = ("save", "存") if "spend" in chosen else ("earn", "挣")
    if "repeat" in chosen:
        n = c.num("periods", c.randint(2, 10), "count")
        c.fact("rp.", SE_REPEAT, ifable=last == "repeat", n=n, **slots)
        cur, calc = c.calc("total", f"{cur.v}*{n.v}", "money")
        c.say("rps.", SE_REPEAT_SAY, calc=calc, n=n, **slots)
        ask = SE_REPEAT_ASK
    if "goal" in chosen:
        G = c.num("goal", int(c.v(cur)) + c.randint(5, 300), "money")
        item, itemz = _goal_item(c, c.v(G))
        c.fact("gl.", SE_GOAL, ifable=True, G=G, item=item, itemz=itemz, **slots)
        cur, calc = c.calc("needed", f"{G.v}-{cur.v}", "money")
        c.say("gls.", SE_GOAL_SAY, calc=calc, **slots)
        ask = SE_GOAL_ASK
    if "goal_n" in chosen:
        G = c.num("goal", c.v(cur) * c.randint(2, 12), "money")
        item, itemz = _goal_item(c, c.v(G))
        c.fact("gn.", SE_GOAL, ifable=True, G=G, item=item, itemz=itemz, **slots)
        cur, calc = c.calc("periods_needed", f"{G.v}/{cur.v}", "count")
        c.say("gns.", SE_WEEKS_SAY, calc=calc, **slots)
        ask = SE_WEEKS_ASK
        c.answer_kind = "count"
    c.ask("q.", ask, earn=earn, earnz=earnz, **slots)


BUILDERS: dict[str, Callable[[Ctx], None]] = {
    "shopping_total": shopping_total,
    "unit_price": unit_price,
    "change_money": change_money,
    "percent_discount": percent_discount,
    "sharing_division": sharing_division,
    "comparison": comparison,
    "ages": ages,
    "rate_distance": rate_distance,
    "time_duration": time_duration,
    "work_rate": work_rate,
    "area_perimeter": area_perimeter,
    "fraction_remaining": fraction_remaining,
    "savings_earnings": savings_earnings,
}
