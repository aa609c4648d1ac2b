"""shopping_total: items bought (some in quantity), their total, maybe money follow-ups."""

from __future__ import annotations

from mathlab.data.families._common import intro
from mathlab.data.families._money import (
    ASK_TOTAL,
    SAY_SUM,
    SETTINGS_BUY,
    buy_items,
    money_tail,
    shop_plans,
    tail_options,
)
from mathlab.data.program import Ctx


def build(c: Ctx) -> None:
    p = c.person()
    setting = c.choice(SETTINGS_BUY)
    options = shop_plans(c.target_steps, 0, tail_options(3, change=False))
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
