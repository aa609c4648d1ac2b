"""The program behind a generated word problem, and the context a family writes it with.

A generated problem is a small straight-line program over named quantities::

    {"inputs": {"packs": 3, "per_pack": 12, "given": 5},
     "steps": [{"var": "total", "expr": "packs*per_pack", "value": 36},
               {"var": "left", "expr": "total-given", "value": 31}],
     "answer": "left",
     "kinds": {"packs": "count", ..., "left": "count"}}

Every step is one line of the solution and one ``<<expr=value>>`` annotation, written by
substituting the values into ``expr``; :func:`execute_program` re-runs it with
:func:`mathlab.calculator.evaluate` (an AST whitelist, never ``eval``).

:class:`Ctx` is what a family builder (:mod:`mathlab.data.families`) writes with: it
registers inputs (``num``), computes steps (``calc``), picks sentence templates
(``fact``/``say``/``ask``) and keeps the question's numbers as markers (``⟦var⟧``) until
the end, so a variant (FOBAR backward question) can re-render one input as ``x``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mathlab.calculator import evaluate, format_number

__all__ = [
    "INTEGER_KINDS",
    "Ctx",
    "Person",
    "Retry",
    "execute_program",
    "fill_markers",
    "fmt",
    "join_sentences",
    "markers_in",
    "number_json",
    "program_values",
    "substitute",
]

# Quantities that count whole things: a step of one of these kinds must come out whole.
INTEGER_KINDS = frozenset({"count", "age", "area", "length", "minutes", "people", "mult"})
# Kinds where a value of exactly 1 reads fine ("$1", "1/3"); elsewhere 1 would need a singular noun.
SINGULAR_OK = frozenset({"money", "mult", "percent"})
# Kinds whose numbers may be written as words in a question ("three boxes").
WORD_KINDS = frozenset({"count", "people"})

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_MARK = re.compile(r"\u27e6([A-Za-z_][A-Za-z_0-9]*)\u27e7")
_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
}


class Retry(Exception):
    """Raised by a family builder when the numbers it drew do not fit; it draws again."""


def fmt(x: int | Fraction) -> str:
    """A number as GSM8K writes it in a solution (``24``, ``13.5``, ``0.25``)."""
    return format_number(x)


def number_json(x: Fraction) -> int | float:
    """A program value as JSON: an int when whole, else the (exactly representable) float."""
    x = Fraction(x)
    if x.denominator == 1:
        return int(x)
    f = float(x)
    if Fraction(repr(f)) != x:
        raise ValueError(f"value {x} is not a short decimal and cannot be stored exactly")
    return f


def _to_fraction(v: Any, where: str) -> Fraction:
    if isinstance(v, bool) or not isinstance(v, int | float | str | Fraction):
        raise ValueError(f"{where}: expected a number, got {v!r}")
    return Fraction(repr(v)) if isinstance(v, float) else Fraction(v)


def substitute(expr: str, env: dict[str, Fraction]) -> str:
    """``expr`` with every name replaced by its value (``packs*per_pack`` -> ``3*12``)."""

    def repl(m: re.Match) -> str:
        name = m.group(0)
        if name not in env:
            raise ValueError(f"expression {expr!r} uses unknown quantity {name!r}")
        return fmt(env[name])

    return _NAME.sub(repl, expr.replace(" ", ""))


def execute_program(program: dict[str, Any], check: bool = True) -> int | Fraction:
    """Re-run a program exactly and return the value of its answer variable.

    Each step's ``expr`` is evaluated by :func:`mathlab.calculator.evaluate` after the
    values of the inputs and earlier steps are substituted. With ``check`` (default) a
    step whose stored ``value`` differs from the recomputed one raises ValueError naming
    the step.

    >>> execute_program({"inputs": {"a": 3, "b": 12},
    ...                  "steps": [{"var": "t", "expr": "a*b", "value": 36}], "answer": "t"})
    36
    """
    for key in ("inputs", "steps", "answer"):
        if key not in program:
            raise ValueError(f"program is missing the field {key!r}")
    env = {k: _to_fraction(v, f"input {k!r}") for k, v in program["inputs"].items()}
    for i, step in enumerate(program["steps"]):
        for key in ("var", "expr"):
            if key not in step:
                raise ValueError(f"program step {i} is missing the field {key!r}")
        value = Fraction(evaluate(substitute(step["expr"], env)))
        if check and "value" in step:
            stored = _to_fraction(step["value"], f"step {i} value")
            if stored != value:
                raise ValueError(
                    f"program step {i} ({step['var']} = {step['expr']}) gives {fmt(value)}, "
                    f"but the program stores {fmt(stored)}"
                )
        env[step["var"]] = value
    answer = program["answer"]
    if answer not in env:
        raise ValueError(f"program answer {answer!r} is not an input or a step")
    value = env[answer]
    return int(value) if value.denominator == 1 else value


def program_values(program: dict[str, Any]) -> tuple[dict[str, Fraction], dict[str, str]]:
    """(every input's and step's value as an exact Fraction, the kinds) of a program."""
    values = {
        k: Fraction(repr(v)) if isinstance(v, float) else Fraction(v)
        for k, v in program["inputs"].items()
    }
    for s in program["steps"]:
        v = s["value"]
        values[s["var"]] = Fraction(repr(v)) if isinstance(v, float) else Fraction(v)
    return values, program["kinds"]


def join_sentences(sentences: list[str], lang: str) -> str:
    """A problem's sentences as one text (no spaces between Chinese sentences)."""
    return ("" if lang == "zh" else " ").join(s for s in sentences if s)


def _pronoun(female: str, male: str) -> property:
    """A Person property: ``female`` for a woman, else ``male``."""
    return property(lambda self: female if self.female else male, doc=f"{female!r} or {male!r}")


@dataclass(frozen=True)
class Person:
    """A character: a name and the pronouns a template needs (en and zh)."""

    name: str
    female: bool
    lang: str = "en"

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    # Template slots: ``{p.he}``, ``{p.He}``, ... read the female or the male form.
    he = _pronoun("she", "he")
    He = _pronoun("She", "He")
    his = _pronoun("her", "his")
    His = _pronoun("Her", "His")
    him = _pronoun("her", "him")
    himself = _pronoun("herself", "himself")
    hers = _pronoun("hers", "his")
    ta = _pronoun("她", "他")

    @property
    def poss(self) -> str:
        """``Lena's`` (en) or ``Lena的`` (zh)."""
        if self.lang == "zh":
            return f"{self.name}的"
        return f"{self.name}'" if self.name.endswith("s") else f"{self.name}'s"


@dataclass
class Q:
    """A quantity in a template: renders as its marker ``⟦var⟧`` (resolved at the end)."""

    v: str

    def __str__(self) -> str:
        return f"\u27e6{self.v}\u27e7"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _display(value: Fraction, kind: str, lang: str) -> str:
    text = fmt(value)
    if kind == "money":
        if lang == "zh":
            return f"{text}元"
        if value.denominator != 1:
            return f"${value.numerator / value.denominator:.2f}"
        return f"${text}"
    if kind == "percent":
        return f"{text}%"
    return text


def fill_markers(
    text: str,
    values: dict[str, Fraction],
    kinds: dict[str, str],
    lang: str,
    words: frozenset[str] | set[str] = frozenset(),
    masked: str | None = None,
) -> str:
    """Replace every ``⟦var⟧`` marker with the number as the reader sees it.

    ``words``: inputs written as English words (``three``); ``masked``: the input written
    as the unknown ``x`` (``$x`` for money in English, ``x元`` in Chinese).
    """

    def repl(m: re.Match) -> str:
        var = m.group(1)
        kind = kinds[var]
        if var == masked:
            if kind == "money":
                return "x元" if lang == "zh" else "$x"
            return "x%" if kind == "percent" else "x"
        if var in words:
            word = _WORDS[int(values[var])]
            at_start = m.start() == 0 or text[: m.start()].rstrip().endswith((".", "?", "!"))
            return word.capitalize() if at_start else word
        return _display(values[var], kind, lang)

    out = _MARK.sub(repl, text)
    if lang == "en":  # "a 8% tax" -> "an 8% tax", "a x% discount" -> "an x% discount"
        out = _AN.sub(lambda m: m.group(1) + "n ", out)
    return out


_AN = re.compile(r"\b([Aa]) (?=(?:8\d*|11|18|x)(?![\w.])|(?:8\d*|11|18|x)[%-])")


def markers_in(text: str) -> list[str]:
    """The variables whose markers occur in ``text``, in order (with repeats)."""
    return _MARK.findall(text)


@dataclass
class _Style:
    """How one problem writes arithmetic in its solution: ``3*12=``, ``3 * 12 = ``, ``3 x 12 = ``."""

    spaced: bool
    times: str

    def visible(self, numeric: str) -> str:
        s = numeric
        if self.spaced:
            s = re.sub(r"(?<=[\d)])([+\-*/])(?=[\d(])", r" \1 ", s)
            if self.times == "x":
                s = s.replace(" * ", " x ")
        return s

    @property
    def eq(self) -> str:
        return " = " if self.spaced else "="


class Ctx:
    """Everything one problem is written with (see the module docstring).

    A family builder calls ``num`` for each given number, ``calc`` for each step (it returns
    the step's ``visible = <<expr=value>>value`` text), and ``fact``/``say``/``ask`` to pick
    and fill a question sentence, a solution line and the question. It raises
    :class:`Retry` when the numbers do not fit (a division that is not exact, a negative
    count); the generator then draws again from the same random stream.
    """

    def __init__(self, rng: random.Random, lang: str, family: str, steps: int, lexicon: Any):
        self.rng = rng
        self.lang = lang
        self.family = family
        self.target_steps = steps
        self.lex = lexicon
        self.inputs: dict[str, Fraction] = {}
        self.values: dict[str, Fraction] = {}
        self.kinds: dict[str, str] = {}
        self.steps: list[dict[str, Any]] = []
        self.facts: list[str] = []
        self.ifable: int | None = None  # index of a fact that may become "If ..., how many ...?"
        self.question: str | None = None
        self.solution: list[str] = []
        self.tids: list[str] = []
        self.words: set[str] = set()
        self.used_names: set[str] = set()
        self.used_templates: dict[str, set[int]] = {}
        self.answer_kind: str = "count"
        self.order_free: list[tuple[int, int]] = []  # fact ranges whose order may be shuffled
        spaced = rng.random() < 0.6
        self.style = _Style(spaced=spaced, times=rng.choice(["*", "x"]) if spaced else "*")

    # ---- quantities ------------------------------------------------------------------
    def _fresh(self, var: str) -> str:
        if var not in self.values:
            return var
        i = 2
        while f"{var}{i}" in self.values:
            i += 1
        return f"{var}{i}"

    def num(self, var: str, value: int | Fraction | str, kind: str, word: bool = True) -> Q:
        """Register a given number; returns its marker for a template."""
        value = Fraction(value)
        if value <= 0:
            raise Retry(f"input {var} = {value} is not positive")
        if value == 1 and kind not in SINGULAR_OK:
            raise Retry(f"input {var} is 1 (the text would say '1 hours')")
        var = self._fresh(var)
        self.inputs[var] = value
        self.values[var] = value
        self.kinds[var] = kind
        if (
            word
            and self.lang == "en"
            and kind in WORD_KINDS
            and value.denominator == 1
            and 2 <= value <= 12
            and self.rng.random() < 0.12
        ):
            self.words.add(var)
        return Q(var)

    def hidden(self, var: str, value: int | Fraction, kind: str) -> Q:
        """A given number that the text states in words only (``twice``, ``half``)."""
        q = self.num(var, value, kind, word=False)
        return q

    def calc(self, var: str, expr: str, kind: str, integer: bool | None = None) -> tuple[Q, str]:
        """Compute one step; returns (its quantity, its ``3*12=<<3*12=36>>36`` text)."""
        numeric = substitute(expr, self.values)
        value = Fraction(evaluate(numeric))
        if value < 0:
            raise Retry(f"step {var} = {numeric} is negative")
        if value == 1 and kind not in SINGULAR_OK:
            raise Retry(f"step {var} = {numeric} is 1 (the text would say '1 hours')")
        if integer is None:
            integer = kind in INTEGER_KINDS
        if integer and value.denominator != 1:
            raise Retry(f"step {var} = {numeric} is not whole")
        if (value * 100).denominator != 1:
            raise Retry(f"step {var} = {numeric} has more than two decimals")
        if value > 10**7:
            raise Retry(f"step {var} = {numeric} is too large")
        var = self._fresh(var)
        self.values[var] = value
        self.kinds[var] = kind
        self.steps.append({"var": var, "expr": expr, "value": value})
        shown = fmt(value)
        pre = "$" if kind == "money" and self.lang == "en" else ""
        post = "元" if kind == "money" and self.lang == "zh" else ""
        text = (
            f"{self.style.visible(numeric)}{self.style.eq}{pre}<<{numeric}={shown}>>{shown}{post}"
        )
        return Q(var), text

    def v(self, q: Q | str) -> Fraction:
        return self.values[q.v if isinstance(q, Q) else q]

    # ---- random helpers --------------------------------------------------------------
    def choice(self, seq):
        """A random element; an empty choice means the numbers drawn so far do not fit."""
        options = list(seq)
        if not options:
            raise Retry("nothing to choose from")
        return self.rng.choice(options)

    def randint(self, lo: int, hi: int) -> int:
        """A random integer in [lo, hi]; an empty range means the numbers do not fit."""
        if lo > hi:
            raise Retry(f"empty range [{lo}, {hi}]")
        return self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def person(self, female: bool | None = None) -> Person:
        pool = self.lex.names(self.lang)
        for _ in range(200):
            name, fem = self.rng.choice(pool)
            if name not in self.used_names and (female is None or fem == female):
                self.used_names.add(name)
                return Person(name, fem, self.lang)
        raise Retry("ran out of names")

    # ---- templates -------------------------------------------------------------------
    def _pick(self, role: str, variants: dict[str, list[str]]) -> str:
        """Pick a template, preferring ones this problem has not used yet."""
        options = variants[self.lang]
        used = self.used_templates.setdefault(role, set())
        fresh = [i for i in range(len(options)) if i not in used] or list(range(len(options)))
        i = fresh[self.rng.randrange(len(fresh))]
        used.add(i)
        self.tids.append(f"{role}{i}")
        return options[i]

    def fill(self, role: str, variants: dict[str, list[str]], **slots: Any) -> str:
        text = self._pick(role, variants).format(**slots)
        return _capitalize(text)

    def fact(self, role: str, variants: dict[str, list[str]], ifable: bool = False, **slots) -> str:
        """Add a sentence to the question (``ifable``: may be folded into an If-question)."""
        text = self.fill(role, variants, **slots)
        self.facts.append(text)
        self.ifable = len(self.facts) - 1 if ifable else None
        return text

    def say(self, role: str, variants: dict[str, list[str]], **slots) -> None:
        """Add a solution line; it must hold exactly one ``{calc}``."""
        template = self._pick(role, variants)
        if template.count("{calc}") != 1:
            raise AssertionError(f"solution template {role!r} needs exactly one {{calc}}")
        self.solution.append(_capitalize(template.format(**slots)))

    def ask(self, role: str, variants: dict[str, list[str]], **slots) -> None:
        self.question = self.fill(role, variants, **slots)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text
