"""shopping_total: items bought (some in quantity), their total, maybe money follow-ups."""

from __future__ import annotations

from mathlab.data.families._common import intro, pronouns
from mathlab.data.families._money import (
    ASK_TOTAL,
    SETTINGS_BUY,
    buy_total,
    draw_shop_plan,
    money_tail,
    tail_options,
)
from mathlab.data.program import Ctx


def build(c: Ctx) -> None:
    p = c.person()
    setting = c.choice(SETTINGS_BUY)
    k, m, tail = draw_shop_plan(c, 0, tail_options(3, change=False))
    intro(c, setting, p)
    total = buy_total(c, p, k, m, setting)
    c.answer_kind = "money"
    if tail:
        money_tail(c, p, total, tail)
    else:
        c.ask("q.", ASK_TOTAL, **pronouns(p))
