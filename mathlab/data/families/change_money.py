"""change_money: items bought, the change from a bill or a budget, then maybe a snack,
half given away, or the rest spent on more items.
"""

from __future__ import annotations

from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.families._common import T, dollars, intro, pronouns
from mathlab.data.families._money import (
    SETTINGS_BUY,
    TAIL_CHANGE,
    bill_for,
    buy_total,
    draw_shop_plan,
    follow_up,
)
from mathlab.data.program import Ctx, Retry

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


SPENDS = {"snack": CH_SNACK, "half": CH_HALF, "buymore": CH_BUYMORE}
# what happens to the change, in order; buying more items spends all of it, so it comes last
TAILS = [
    [],
    ["snack"],
    ["half"],
    ["buymore"],
    ["snack", "half"],
    ["snack", "buymore"],
    ["half", "buymore"],
]


def build(c: Ctx) -> None:
    p = c.person()
    setting = c.choice(SETTINGS_BUY)
    k, m, tail = draw_shop_plan(c, 1, TAILS, single=True)
    slots = pronouns(p)
    budget = c.chance(0.45)
    intro(c, setting, p, 0.2)
    budget_at = len(c.facts)
    total = buy_total(c, p, k, m, setting)
    value = c.v(total)
    if budget:
        b = c.num("budget", (int(value) // 10 + 1 + c.randint(0, 3)) * 10, "money")
        text = c.fill("bud.", BUDGET, b=b, **slots)
        c.facts.insert(budget_at, text)
        cur, calc = c.calc("left", f"{b.v}-{total.v}", "money")
        c.say("left.", SAY_LEFT, calc=calc, **slots)
        ask = ASK_LEFT
    else:
        b, bill = bill_for(c, value)
        cur = follow_up(
            c, "tch", TAIL_CHANGE, "change", f"{b.v}-{total.v}", b=b, bill=bill, **slots
        )
        ask = TAIL_CHANGE["ask"]
    c.answer_kind = "money"
    for op in tail:
        value = c.v(cur)
        if op == "snack":
            hi = int(value) - 1
            if hi < 1:
                raise Retry("no money left for a snack")
            s = c.num("snack", dollars(c, 100, min(hi * 100, 800), 0.5), "money")
            cur = follow_up(c, "sn", CH_SNACK, "left", f"{cur.v}-{s.v}", s=s, **slots)
        elif op == "half":
            c.hidden("half", 2, "mult")
            cur = follow_up(c, "hf", CH_HALF, "kept", f"{cur.v}/half", **slots)
        else:
            cents = int(value * 100)
            slots["o"] = c.choice([n for n in L.nouns("buy") if n.hi <= 300])
            prices = [p_ for p_ in range(25, 501, 25) if cents % p_ == 0 and 2 <= cents // p_ <= 40]
            if not prices:
                raise Retry("leftover money does not buy a whole number of items")
            pr = c.num("unit_price", Fraction(c.choice(prices), 100), "money")
            cur = follow_up(
                c, "bm", CH_BUYMORE, "bought", f"{cur.v}/{pr.v}", "count", pr=pr, **slots
            )
            c.answer_kind = "count"
        ask = SPENDS[op]["ask"]
    c.ask("q.", ask, **slots)
