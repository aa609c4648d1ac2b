"""Helpers every family uses: stage plans, the usual stage, slots, prices, divisors, and
number and fraction words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.program import Ctx, Person, Q, Retry

KW = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
BAGS = [("bag", "bags"), ("box", "boxes"), ("bundle", "bundles"), ("jar", "jars")]
# a/b -> (en, zh), for the fractions a question may write in words
FRACTION_WORDS = {
    (1, 2): ("half", "一半"),
    (1, 3): ("a third", "三分之一"),
    (1, 4): ("a quarter", "四分之一"),
    (2, 3): ("two thirds", "三分之二"),
    (3, 4): ("three quarters", "四分之三"),
    (1, 5): ("a fifth", "五分之一"),
    (2, 5): ("two fifths", "五分之二"),
}
FRACTION_WORDS_EN = {ab: en for ab, (en, _) in FRACTION_WORDS.items()}
FRACTION_WORDS_ZH = {ab: zh for ab, (_, zh) in FRACTION_WORDS.items()}


def T(en: list[str], zh: list[str]) -> dict[str, list[str]]:
    """The English and Chinese templates of one sentence role."""
    return {"en": en, "zh": zh}


# ---------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------
_PLANS: dict[tuple, list[frozenset]] = {}


def plan(c: Ctx, stages: str, valid: Callable[[frozenset], bool] | None = None) -> frozenset:
    """Draw a subset of ``stages`` whose steps add up to ``c.target_steps``.

    ``stages`` names the optional stages in order, each one step unless written
    ``name:steps`` (``"speed leg1 leg2:2 again"``). The valid subsets are enumerated once
    per (family, stages, steps) and cached; the ``valid`` rule must depend on the subset
    only.
    """
    key = (c.family, stages, c.target_steps)
    options = _PLANS.get(key)
    if options is None:
        parsed = [(n, int(k or 1)) for n, _, k in (s.partition(":") for s in stages.split())]
        options = []
        n = len(parsed)
        for mask in range(1, 1 << n):
            picked = [parsed[i] for i in range(n) if mask >> i & 1]
            if sum(cost for _, cost in picked) != c.target_steps:
                continue
            chosen = frozenset(name for name, _ in picked)
            if valid is None or valid(chosen):
                options.append(chosen)
        _PLANS[key] = options
    if not options:
        raise ValueError(f"family {c.family!r} cannot be written with {c.target_steps} steps")
    return options[c.rng.randrange(len(options))]


def last_of(chosen: frozenset, order: list[str], default: str | None = None) -> str | None:
    """The last stage of ``order`` that was chosen (``default`` when none was)."""
    present = [x for x in order if x in chosen]
    return present[-1] if present else default


def stage(
    c: Ctx,
    role: str,
    fact: dict,
    say: dict,
    var: str,
    expr: str,
    kind: str,
    ifable: bool = False,
    **slots,
) -> Q:
    """The usual stage: a question sentence from ``fact`` (template role ``role``, e.g.
    ``"dy."``; ``ifable``: it may become the If-clause of the question), the step
    ``var = expr`` of ``kind``, and its solution line from ``say`` (role ``"dys."``).
    Both templates get the same ``slots``."""
    c.fact(role, fact, ifable=ifable, **slots)
    cur, calc = c.calc(var, expr, kind)
    c.say(role[:-1] + "s.", say, calc=calc, **slots)
    return cur


@dataclass(frozen=True)
class Link:
    """A stage that combines the running value with one new given number: the templates
    (as :func:`stage`), the step ``var = expr`` of ``kind`` (``expr`` writes the running
    value as ``{cur}`` and the given number as ``{q}``), and the given number's variable,
    kind and template slot. Calling it, ``link(c, cur, value, ifable, **slots)``, registers
    ``value`` as the given number, writes the stage and returns the step's quantity."""

    role: str
    fact: dict
    say: dict
    var: str
    expr: str
    kind: str
    given: str
    given_kind: str
    slot: str

    def __call__(self, c: Ctx, cur: Q, value, ifable: bool = False, **slots) -> Q:
        q = c.num(self.given, value, self.given_kind)
        expr = self.expr.format(cur=cur.v, q=q.v)
        slots[self.slot] = q
        return stage(c, self.role, self.fact, self.say, self.var, expr, self.kind, ifable, **slots)


def intro(c: Ctx, setting: str, p: Person, prob: float = 0.3) -> None:
    """Maybe open with a sentence that sets the scene (no numbers)."""
    if setting in L.INTROS and c.chance(prob):
        c.fact(f"intro.{setting}.", L.INTROS[setting], p=p, his=p.his)


# ---------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------
def pronouns(p: Person, **extra) -> dict:
    """The slots a template about ``p`` may use (``{p}``, ``{he}``, ``{His}``...), plus ``extra``."""
    return dict(p=p, he=p.he, He=p.He, him=p.him, his=p.his, himself=p.himself, **extra)


def join_names(people: list, zh: bool) -> str:
    """``A, B and C`` (en) or ``A、B和C`` (zh)."""
    sep, last = ("、", "和") if zh else (", ", " and ")
    return sep.join(str(x) for x in people[:-1]) + last + str(people[-1])


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def a_or_an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def is_food(noun) -> bool:
    return bool({"bake", "food"} & noun.tags) or noun.sg in ("apple", "orange", "strawberry")


def times_word(c: Ctx, var: str, m: int, lang: str | None = None) -> str:
    """``twice`` / ``three times`` / ``⟦m⟧ times`` for a multiplier input (registers it)."""
    lang = lang or c.lang
    if lang == "zh":
        return f"{c.num(var, m, 'mult', word=False)}"
    if m == 2 and c.chance(0.7):
        c.hidden(var, m, "mult")
        return "twice"
    if m in (3, 4, 5) and c.chance(0.5):
        c.hidden(var, m, "mult")
        return f"{KW[m]} times"
    return f"{c.num(var, m, 'mult', word=False)} times"


def fraction_text(c: Ctx, a: int, b: int) -> tuple[Q, Q, str]:
    """Register a fraction a/b as two inputs and return how the question writes it."""
    words = FRACTION_WORDS_ZH if c.lang == "zh" else FRACTION_WORDS_EN
    if (a, b) in words and ((a, b) == (1, 2) or c.chance(0.6)):
        qa, qb = c.hidden("frac_num", a, "mult"), c.hidden("frac_den", b, "mult")
        return qa, qb, words[(a, b)]
    qa, qb = c.num("frac_num", a, "mult", word=False), c.num("frac_den", b, "mult", word=False)
    return qa, qb, f"{qa}/{qb}"


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------
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


def even_splits(value: Fraction, lo: int, hi: int, at_least: int, why: str) -> list[int]:
    """Divisors of ``value`` in [lo, hi] that leave at least ``at_least`` in each part
    (:class:`Retry` with ``why`` when there are none)."""
    options = [d for d in divisors(value, lo, hi) if value / d >= at_least]
    if not options:
        raise Retry(why)
    return options
