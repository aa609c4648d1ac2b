"""Helpers every family uses: stage plans, prices, divisors, number and fraction words."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.program import Ctx, Person, Q


def T(en: list[str], zh: list[str]) -> dict[str, list[str]]:
    return {"en": en, "zh": zh}


_PLANS: dict[tuple, list[frozenset]] = {}


def cap(text: str) -> str:
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


KW = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
BAGS = [("bag", "bags"), ("box", "boxes"), ("bundle", "bundles"), ("jar", "jars")]
