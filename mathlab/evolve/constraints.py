"""WizardMath's "add a constraint" as exact edits of a generated problem's program.

The question's last sentence (the question itself) gets one more condition, and the program
one more step applied to the answer quantity: ``How much does Felix pay?`` ->
``How much does Felix pay, including a $7 delivery fee?`` with the step
``with_extra = sale_price + extra``. The condition is chosen by the *role* of the answer,
the base name of the program's answer variable (``left``, ``change``, ``share``, ``age``,
``remaining``, ...), so that it means something for that quantity, and only among the
clauses whose pattern fits the question's wording; a question no clause fits is skipped
(:class:`NoClause`), never forced. Most clauses are appended before the final ``?``; a few
rewrite the question (``How old is Ravi?`` -> ``How old will Ravi be in 5 years?``,
``... each day?`` -> ``... in 4 days?``, ``How much did Ana pay, if the bill is split
equally among 3 people, Ana included?``).

Numbers are markers (``⟦extra⟧``) in ``meta.surface`` like every other input, so the child
can be transformed again (a backward question, a distractor). English only.
"""

from __future__ import annotations

import operator
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mathlab.calculator import evaluate
from mathlab.data import lexicon
from mathlab.data.program import (
    INTEGER_KINDS,
    SINGULAR_OK,
    Q,
    fill_markers,
    fmt,
    number_json,
    substitute,
)

__all__ = ["CLAUSES", "ROLES", "Clause", "NoClause", "constrain"]


class NoClause(Exception):
    """No clause fits this question (its reason is the message)."""


@dataclass(frozen=True)
class Clause:
    """One way to add a condition: the operation on the answer, the new number's kind, the
    question text and the solution line.

    ``pattern`` must fullmatch the question sentence; ``text`` is formatted with its named
    groups and the slots ``k`` (the new number's marker), ``noun``, ``unit``, ``unit1``
    (singular), ``sq``, ``sq1``, ``name``, ``he``, ``period``, ``source``. ``solution`` holds
    ``{calc}`` (the annotated step) and may use the same slots. ``need`` must be found in the
    sentence, ``avoid`` must not.
    """

    op: str  # + - * /
    kind: str
    text: str
    solution: str
    pattern: str = r"(?P<body>[^?]*?)(?P<end>[?.])"
    need: str | None = None
    avoid: str | None = None

    @property
    def appends_if(self) -> bool:
        return self.pattern == Clause.pattern and self.text.startswith("{body}, if ")


_APPEND = "{body}, "
_PAY = r"^How much (?:money )?(?:did|does|will) (?P<name>[A-Z][a-z]+) (?:pay|spend|end up paying|actually pay)\b"
_PERIOD = r"(?P<body>.*?) (?:each|every|in a) (?P<period>day|week)(?P<end>\?)"


def _c(group, op, kind, text, solution, pattern=None, **kw) -> tuple[str, Clause]:
    """A clause appended before the final ``?`` (no pattern), or a rewrite of the question."""
    if pattern is None:
        return group, Clause(op, kind, _APPEND + text + "{end}", solution, **kw)
    return group, Clause(op, kind, text, solution, pattern, **kw)


# Clauses by group, the group naming what the answer quantity is (ROLES maps roles to them).
# fmt: off
_CLAUSES = [
    _c("spend", "+", "money", "including {k} for delivery", "With {k} for delivery, that is {calc}.", avoid="fee"),
    _c("spend", "+", "money", "counting a gift bag for {k} added at the checkout", "The gift bag adds {k}: {calc}."),
    _c("spend", "+", "money", "once a service charge of {k} is added", "With the service charge, that comes to {calc}.",
       avoid="fee|charge"),
    _c("spend", "/", "count", "if the bill is split equally among {k} people, {name} included", "Split {k} ways, {name} pays {calc}.",
       need=_PAY, avoid=r"in total|altogether|in all|everything|each|share|weeks|time"),
    _c("share", "+", "money", "counting a tip of {k} from each person", "With the tip, each person pays {calc}."),
    _c("left_money", "-", "money", "after spending another {k} on a snack", "After the snack, {calc} is left."),
    _c("left_money", "+", "money", "counting {k} that a friend pays back", "With the {k} paid back, that is {calc}."),
    _c("change", "-", "money", "once a bag fee of {k} is taken out", "The bag fee comes out of the change: {calc}."),
    _c("need", "+", "money", "if the price goes up by {k} first", "With the higher price, the amount still needed is {calc}."),
    _c("need", "-", "money", "after receiving {k} as a gift", "The gift covers part of it: {calc}."),
    _c("earn_total", "+", "money", "including a gift of {k} from a relative", "With the gift, that is {calc}."),
    _c("per_period", "*", "count", "{body} in {k} {period}s{end}", "In {k} {period}s, that is {calc}{units}.", pattern=_PERIOD),
    _c("per_period_money", "+", "money", "with an extra {k} each {period}", "With the extra {k}, that is {calc}.",
       need=r"\b(?:each|every|a) (?:day|week)\?"),
    _c("discount", "+", "money", "counting an extra coupon worth {k}", "The coupon saves {k} more: {calc}.", avoid="coupon"),
    _c("unit", "+", "money", "after a price increase of {k}", "After the increase, one costs {calc}."),
    _c("count_left", "-", "count", "after {k} more {noun} are given away", "Giving away {k} more leaves {calc} {noun}."),
    _c("count_left", "+", "count", "if {k} more {noun} are bought later", "With {k} more, that is {calc} {noun}."),
    _c("count_left", "/", "count", "How many {noun} does each of {k} friends get, if the {noun} that {be} are shared equally?", "Shared among {k} friends, each gets {calc} {noun}.",
       pattern=r"How many (?P<noun>[a-z ]+?) (?P<be>are left|remain)\?"),
    _c("each", "+", "count", "counting {k} extra {noun} added to each", "With {k} extra each, that is {calc} {noun}."),
    _c("left_each", "+", "count", "if each of them is given {k} more", "With {k} more each, that is {calc} {noun}."),
    _c("job_left", "+", "count", "once {k} more {noun} are added to the job", "The job grows by {k}: {calc} {noun}."),
    _c("job_left", "-", "count", "after a helper takes care of {k} of them", "The helper does {k}, leaving {calc} {noun}."),
    _c("count_total", "+", "count", "including {k} more {noun} {source}", "Adding the {k} more gives {calc} {noun}."),
    _c("posts", "+", "count", "counting {k} extra posts for the gate", "With the gate posts, that is {calc} posts."),
    _c("bags", "+", "count", "counting {k} spare bags", "With the spare bags, that is {calc} bags."),
    _c("distance", "+", "length", "counting a {k}-{unit1} detour", "The detour adds {k} {unit}: {calc} {unit}."),
    _c("remaining", "+", "length", "if a {k}-{unit1} detour is added", "The detour adds {k} {unit}: {calc} {unit}."),
    _c("remaining", "-", "length", "after another {k} {unit} are covered", "After {k} more {unit}, {calc} {unit} are left."),
    _c("fence", "+", "length", "counting {k} extra {unit} of fencing for a small pen", "With the pen, that is {calc} {unit}."),
    _c("area", "+", "area", "including a {k}-{sq1} extension", "With the extension, that is {calc} {sq}."),
    _c("open_area", "-", "area", "after another {k} {sq} are covered", "After {k} more {sq} are covered, {calc} {sq} are open."),
    _c("trip_hours", "+", "hours", "counting a {k}-hour break", "The break adds {k} hours: {calc} hours."),
    _c("goal_hours", "+", "hours", "if the goal is raised by {k} hours", "With the higher goal, that is {calc} hours."),
    _c("goal_hours", "-", "hours", "after one more {k}-hour session", "After the session, {calc} hours are left."),
    _c("minutes_left", "-", "minutes", "after {k} more minutes go by", "After {k} more minutes, {calc} minutes are left."),
    _c("extra_session", "+", "minutes", "including one extra {k}-minute session", "The extra session adds {k} minutes: {calc} minutes.",
       ),
    _c("minutes_long", "+", "minutes", "counting a {k}-minute intermission", "With the intermission, that is {calc} minutes."),
    _c("age", "+", "age", "How old will {name} be in {k} years?", "In {k} years, {name} will be {calc} years old.",
       pattern=r"How old is (?P<name>[A-Z][a-z]+)\?"),
    _c("age", "+", "age", "What will {name}'s age be {k} years from now?", "In {k} years, {name} will be {calc} years old.",
       pattern=r"What is (?P<name>[A-Z][a-z]+)'s age\?"),
    _c("age", "+", "age", "How many years old will {name} be in {k} years?", "In {k} years, {name} will be {calc} years old.",
       pattern=r"How many years old is (?P<name>[A-Z][a-z]+)\?"),
    _c("age", "-", "age", "How old was {name} {k} years ago?", "{k} years ago, {name} was {calc} years old.",
       pattern=r"How old is (?P<name>[A-Z][a-z]+)\?"),
]
# fmt: on
CLAUSES: dict[str, list[Clause]] = {}
for _group, _clause in _CLAUSES:
    CLAUSES.setdefault(_group, []).append(_clause)
# The clause group of an answer role: (family, role) first, then (role, answer kind).
ROLES: dict[tuple[str, str], str] = {
    ("ages", "age"): "age",
    ("area_perimeter", "posts"): "posts",
    ("area_perimeter", "bags"): "bags",
    ("area_perimeter", "open_area"): "open_area",
    ("work_rate", "left"): "job_left",
    ("time_duration", "hours_left"): "goal_hours",
    ("time_duration", "left"): "minutes_left",
    ("time_duration", "minutes"): "minutes_long",
    ("time_duration", "all_minutes"): "extra_session",
    ("time_duration", "daily"): "per_period",
    ("time_duration", "weekly"): "per_period",
    ("time_duration", "hours"): "per_period",
    ("time_duration", "weekly_total"): "per_period",
    ("savings_earnings", "total"): "earn_total",
    ("unit_price", "saved"): "discount",
    ("savings_earnings", "saved"): "per_period_money per_period",
    ("fraction_remaining", "total"): "count_total",
    ("sharing_division", "total"): "count_total",
    ("total", "money"): "spend",
    ("cost", "money"): "spend",
    ("with_fee", "money"): "spend",
    ("after_coupon", "money"): "spend",
    ("sale_price", "money"): "spend",
    ("final", "money"): "spend",
    ("spent_weeks", "money"): "spend",
    ("share", "money"): "share",
    ("left", "money"): "left_money",
    ("kept", "money"): "left_money",
    ("change", "money"): "change",
    ("needed", "money"): "need",
    ("daily", "money"): "per_period_money per_period",
    ("weekly", "money"): "per_period_money per_period",
    ("with_tips", "money"): "per_period_money per_period",
    ("discount", "money"): "discount",
    ("unit", "money"): "unit",
    ("left", "count"): "count_left",
    ("each", "count"): "each",
    ("bags", "count"): "each",
    ("left_each", "count"): "left_each",
    ("amount", "count"): "count_total",
    ("total", "count"): "count_total",
    ("part", "count"): "count_total",
    ("done", "count"): "count_total",
    ("done_days", "count"): "count_total",
    ("distance", "length"): "distance",
    ("total", "length"): "distance",
    ("all_trips", "length"): "distance",
    ("round_trip", "length"): "distance",
    ("remaining", "length"): "remaining",
    ("fence", "length"): "fence",
    ("all_fence", "length"): "fence",
    ("area", "area"): "area",
    ("total_area", "area"): "area",
    ("hours", "hours"): "trip_hours",
    ("hours_left", "hours"): "trip_hours",
}
# Where the extra things of a count come from, by the question's verb.
_SOURCES = (
    (r"\bbak", "baked for a late order"),
    (r"\b(?:sold|sell)", "sold online"),
    (r"\bpick", "picked by a neighbor"),
    (r"\bcollect", "collected by a friend"),
    (r"\b(?:bought|buy|have|has)\b", "from a neighbor"),
    (r"\bdonat", "donated the next week"),
    (r"\bgave|\bgive", "given away the next day"),
    (r"\b(?:stuff|pack|fold|plant|assembl|la[iy])", "finished by a helper"),
    (r"\bus(?:e|ed)\b", "used the next day"),
    (r"\b(?:eat|ate)\b", "eaten the next day"),
)
_NOUN = re.compile(
    r"(?:[Hh]ow many (?:more )?|number of |[Ff]ind how many )(?P<noun>[a-z]+(?: [a-z]+)*?)"
    r"(?= (?:are|is|were|was|do|does|did|will|can|could|remain|go|went|get|got|have|has|they|he|she|in|to|still)\b| [A-Z])"
)
_UNITS = {"miles": "mile", "kilometers": "kilometer", "meters": "meter", "feet": "foot"}
_NAMES = {n: female for n, female in lexicon.names("en")}
_NAME = re.compile(r"\b(" + "|".join(sorted(_NAMES, key=len, reverse=True)) + r")\b")
# The new number's range, by kind: (lo, hi) for a small answer, then for a large one.
_RANGES = {
    "money": ((1, 5), (2, 20), (5, 60)),
    "count": ((2, 6), (2, 12), (5, 40)),
    "length": ((2, 6), (2, 20), (5, 50)),
    "area": ((5, 10), (10, 40), (10, 80)),
    "hours": ((2, 3), (2, 3), (2, 4)),
    "minutes": ((5, 10), (5, 30), (10, 45)),
    "age": ((2, 10), (2, 15), (2, 15)),
}


def _slots(question: str, sentence: str) -> dict[str, str]:
    """The words a clause may need, read from the question (absent when not found)."""
    slots: dict[str, str] = {}
    m = _NOUN.search(sentence)
    if m:
        slots["noun"] = m.group("noun")
    for text in (sentence, question):
        u = re.search(r"\b(miles|kilometers|meters|feet)\b", text)
        if u and "unit" not in slots and not re.search(r"square " + u.group(1), text):
            slots["unit"], slots["unit1"] = u.group(1), _UNITS[u.group(1)]
        s = re.search(r"square (feet|meters)", text)
        if s and "sq" not in slots:
            slots["sq"], slots["sq1"] = s.group(0), f"square-{_UNITS[s.group(1)]}"
    period = re.search(r"\b(?:each|every|a|in a) (day|week)\?", sentence)
    if period:
        slots["period"] = period.group(1)
    name = _NAME.search(sentence)
    if name:
        slots["name"] = name.group(1)
        slots["he"] = "she" if _NAMES[name.group(1)] else "he"
    for pattern, source in _SOURCES:
        if re.search(pattern, sentence):
            slots["source"] = source
            break
    return slots


def _fits(clause: Clause, sentence: str, slots: dict[str, str]) -> dict[str, str] | None:
    """The slots filled for `clause` on `sentence`, or None when it does not fit."""
    m = re.fullmatch(clause.pattern, sentence)
    if m is None or (clause.appends_if and sentence.startswith("If ")):
        return None
    if clause.need and not re.search(clause.need, sentence):
        return None
    if clause.avoid and re.search(clause.avoid, sentence, re.IGNORECASE):
        return None
    filled = {**slots, **{k: v for k, v in m.groupdict().items() if v is not None}}
    needed = set(re.findall(r"\{(\w+)\}", clause.text + clause.solution)) - {"k", "calc", "units"}
    return filled if needed <= set(filled) else None


def _whole_ok(value: Fraction, kind: str) -> bool:
    if value <= 0 or value > 10**7 or (value == 1 and kind not in SINGULAR_OK):
        return False
    if kind in INTEGER_KINDS and value.denominator != 1:
        return False
    return (value * 100).denominator == 1


_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _draw(rng: random.Random, clause: Clause, answer: Fraction, kind: str) -> int | None:
    """A new number for `clause` that keeps the answer a valid quantity, or None."""
    if clause.op in "*/":
        options = [k for k in range(2, 9 if clause.op == "/" else 7)]
    else:
        small, mid, large = _RANGES[clause.kind]
        lo, hi = small if answer < 20 else mid if answer < 300 else large
        options = list(range(lo, hi + 1))
        if clause.kind == "minutes":
            options = [k for k in options if k % 5 == 0]
    options = [k for k in options if _whole_ok(_OPS[clause.op](answer, Fraction(k)), kind)]
    if clause.op == "-":
        options = [k for k in options if answer - k >= 2 or (kind == "money" and answer - k >= 1)]
    return rng.choice(options) if options else None


def _fresh(name: str, taken) -> str:
    i, out = 2, name
    while out in taken:
        out, i = f"{name}{i}", i + 1
    return out


def _calc(numeric: str, value: Fraction, kind: str, solution: str) -> str:
    """``58.5 + 7 = $<<58.5+7=65.5>>65.5`` in the parent solution's own style."""
    spaced = bool(re.search(r" = \$?<<", solution))
    visible = numeric
    if spaced:
        visible = re.sub(r"(?<=[\d)])([+\-*/])(?=[\d(])", r" \1 ", numeric)
        if re.search(r"\d x \d", solution):
            visible = visible.replace(" * ", " x ")
    shown = fmt(value)
    pre = "$" if kind == "money" else ""
    return f"{visible}{' = ' if spaced else '='}{pre}<<{numeric}={shown}>>{shown}"


def constrain(
    program: dict[str, Any],
    sentences: list[str],
    question: str,
    solution: str,
    family: str,
    rng: random.Random,
) -> dict[str, Any]:
    """The parts of a child with one more condition: its program, its question sentences
    (markers kept), its new solution line and the chosen clause. Raises NoClause."""
    answer_var = program["answer"]
    kinds = dict(program["kinds"])
    kind = kinds[answer_var]
    role = re.sub(r"\d+$", "", answer_var)
    group = ROLES.get((family, role)) or ROLES.get((role, kind))
    if group is None:
        raise NoClause(f"no clause for a {kind} answer '{role}'")
    sentence = sentences[-1]
    slots = _slots(question, re.sub(r"\u27e6\w+\u27e7", "N", sentence))
    clauses = [c for name in group.split() for c in CLAUSES[name]]
    fitting = [(c, f) for c in clauses if (f := _fits(c, sentence, slots)) is not None]
    rng.shuffle(fitting)
    answer = Fraction(str(program["steps"][-1]["value"]))
    units = {"minutes": " minutes", "hours": " hours"}.get(kind, "")
    for clause, filled in fitting:
        filled["units"] = units
        k = _draw(rng, clause, answer, kind)
        if k is not None:
            return _apply(program, sentences, solution, clause, filled, k)
    raise NoClause("no clause fits the question" if not fitting else "no number fits")


def _apply(program, sentences, solution, clause: Clause, filled, k: int) -> dict[str, Any]:
    answer_var = program["answer"]
    kinds = dict(program["kinds"])
    taken = set(program["inputs"]) | {s["var"] for s in program["steps"]}
    extra = _fresh({"+": "extra", "-": "less", "*": "times", "/": "parts"}[clause.op], taken)
    step_var = _fresh("evolved", taken | {extra})
    kinds[extra], kinds[step_var] = clause.kind, kinds[answer_var]
    expr = f"{answer_var}{clause.op}{extra}"
    values = {v: Fraction(str(x)) for v, x in program["inputs"].items()}
    values.update({s["var"]: Fraction(str(s["value"])) for s in program["steps"]})
    values[extra] = Fraction(k)
    numeric = substitute(expr, values)
    value = values[step_var] = Fraction(evaluate(numeric))
    marker = str(Q(extra))
    new_sentence = clause.text.format(**{**filled, "k": marker})
    shown = fill_markers(marker, values, kinds, "en")
    calc = _calc(numeric, value, kinds[answer_var], solution)
    line = clause.solution.format(**{**filled, "k": shown, "calc": calc})
    new_program = {
        "inputs": {**program["inputs"], extra: k},
        "steps": [*program["steps"], {"var": step_var, "expr": expr, "value": number_json(value)}],
        "answer": step_var,
        "kinds": kinds,
    }
    return {
        "program": new_program,
        "values": values,
        "sentences": [*sentences[:-1], new_sentence[:1].upper() + new_sentence[1:]],
        "line": line[:1].upper() + line[1:],
        "clause": f"{clause.op}{clause.kind}",
    }
