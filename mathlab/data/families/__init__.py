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

Layout: one module per family (its templates, vocabularies and ``build(c)``), the helpers
they share in :mod:`._common` (stage plans, prices, divisors, number words) and the money
pieces of the shopping families in :mod:`._money`. To add a family, write a module with a
``build(c: Ctx) -> None`` and append it to :data:`BUILDERS`: append, never insert, since
the order of :data:`BUILDERS` is :data:`mathlab.data.generator.FAMILIES`, which seeds how
families take turns in a generated set.
"""

from __future__ import annotations

from collections.abc import Callable

from mathlab.data.families import (
    ages,
    area_perimeter,
    change_money,
    comparison,
    fraction_remaining,
    percent_discount,
    rate_distance,
    savings_earnings,
    sharing_division,
    shopping_total,
    time_duration,
    unit_price,
    work_rate,
)
from mathlab.data.program import Ctx

__all__ = ["BUILDERS"]

BUILDERS: dict[str, Callable[[Ctx], None]] = {
    "shopping_total": shopping_total.build,
    "unit_price": unit_price.build,
    "change_money": change_money.build,
    "percent_discount": percent_discount.build,
    "sharing_division": sharing_division.build,
    "comparison": comparison.build,
    "ages": ages.build,
    "rate_distance": rate_distance.build,
    "time_duration": time_duration.build,
    "work_rate": work_rate.build,
    "area_perimeter": area_perimeter.build,
    "fraction_remaining": fraction_remaining.build,
    "savings_earnings": savings_earnings.build,
}
"""Family name -> builder, in the fixed order :data:`mathlab.data.generator.FAMILIES` uses."""
