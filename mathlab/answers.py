r"""Final-answer extraction, normalisation and grading.

Every accuracy number in mathlab (greedy accuracy, maj@k, pass@k, RFT filtering, the
rule-based rewards of PPO/GRPO) goes through :func:`is_correct`; the model for it is
Qwen2.5-Math's evaluation (``evaluation/parser.py`` and ``grader.py``) with math-verify
as the symbolic back end, and TRL's ``accuracy_reward`` for the reward signature.

Extraction (:func:`extract_answer`) looks for the final answer in this priority order and
stops at the first rule that yields a non-empty answer:

1. ``The answer is:`` / ``The answer is`` (also ``The final answer is``; case-insensitive;
   last occurrence): what follows on that line, up to the end of the sentence, without a
   trailing period, ``$`` signs or spaces (a ``\boxed{}`` there is opened).  This is the
   CoT prompt format of the project.
2. ``####`` (GSM8K; last occurrence): the rest of that line.
3. The last ``\boxed{...}`` or ``\fbox{...}``, nested braces included.
4. ``答案是`` / ``答案：`` / ``答案:`` (Chinese; last occurrence): the rest of that line.
5. The whole text when it already *is* a bare answer (``18``, ``\frac{3}{4}``,
   ``x^2+1``, ``9 apples``), so :func:`is_correct` also accepts extracted answers.
6. The last number in the text (thousands separators only in groups of three).

An "answer" longer than ``MAX_ANSWER_CHARS`` is no answer; every step is linear in the
length of the text, so a hostile completion costs milliseconds here.

Grading (:func:`is_correct`) then

* normalises both sides (:func:`normalize`: ``$``, ``\text{}``, units, ``\dfrac``,
  ``x = 5`` -> ``5``, thousands separators only in groups of three, ``18.0`` -> ``18``);
* compares numerically when both sides are numbers: two integers exactly (``10001`` is
  not ``10000``, however large; ``10000.0``, ``1,0000`` written ``10,000``, ``1e4``,
  ``\frac{20000}{2}`` and ``1000000%`` are all the integer 10000), anything else within a
  relative tolerance of 1e-4 (absolute 1e-9 near zero: ``0.33333`` is ``1/3``; a program's
  ``10000.000000000002`` is ``10000``); when either side carries a ``%`` its value is also
  tried times 100, so ``50%`` equals both ``50`` and ``0.5``, as in Qwen2.5-Math's grader.
  (Qwen2.5-Math applies the tolerance to integers too, so from 10,000 up an off-by-one
  answer counts as right there: 252 of GSM8K's 7,473 training golds accept gold + 1 under
  that rule, none here.)  This path never leaves the process and grades several thousand
  answers per second;
* otherwise asks math-verify, in a separate worker process with a hard wall-clock
  timeout (:mod:`mathlab.answers_symbolic`).  math-verify's own timeout uses ``signal.alarm``, which only works in the main
  thread and would cancel any alarm of the caller, so it is disabled
  (``parsing_timeout=None``, ``timeout_seconds=None``) and the worker is killed and
  replaced when a comparison overruns.  A timed-out comparison is wrong, never a hang, and
  grading is safe from any thread.  The worst case of one call is about the timeout plus
  a worker start (~1 s), twice that when a new gold answer must be parsed first.

A completion without an answer is wrong.  A gold answer that cannot be parsed is an error
(:class:`GoldAnswerError`), never a free reward: loaders call :func:`check_gold` at load
time and the correctness reward (:func:`mathlab.rewards.correctness`) returns ``None`` for
such rows, as TRL's does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from mathlab.answers_symbolic import (  # noqa: F401 - re-exported (tests, benchmarks)
    SYMBOLIC_WORKERS,
    _get_pool,
    _symbolic,
    _symbolic_cached,
    _WorkerTimeout,
    shutdown_symbolic_workers,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_ANSWER_CHARS",
    "REL_TOL",
    "GoldAnswerError",
    "check_gold",
    "extract_answer",
    "is_correct",
    "majority_vote",
    "normalize",
    "parse_number",
    "shutdown_symbolic_workers",
]

DEFAULT_TIMEOUT_S = 3.0
"""Wall-clock limit, in seconds, for one symbolic (math-verify) call."""

REL_TOL = 1e-4
"""Relative tolerance of a numeric comparison unless both sides are integers (then exact)."""
ABS_TOL = 1e-9
_MAX_NUMBER_CHARS = 400
MAX_ANSWER_CHARS = 1000
"""A longer extracted answer is no answer (and a longer gold is an error)."""


class GoldAnswerError(ValueError):
    """A gold (reference) answer that cannot be parsed; grading against it is meaningless."""


# --------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------

_ANSWER_IS = re.compile(r"the\s+(?:final\s+)?answer\s+is\s*[:：]?", re.IGNORECASE)
_HASHES = re.compile(r"####")
_CHINESE = re.compile(r"答案(?:是|：|:)\s*[:：]?")
_BOX = re.compile(r"\\(?:boxed|fbox)")
# A number as written in text: thousands separators only in complete groups of three.
_NUMBER_IN_TEXT = re.compile(
    r"(?:(?<![\w.])-)?(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d+)?(?:/\d+)?%?"
    r"|(?:(?<![\w.])-)?(?<![\d.])\.\d+%?"
)
_SENTENCE_END = re.compile(r"\.\s|。")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[A-Za-z]+\*?\}")


def _last_boxed(text: str) -> str | None:
    r"""Content of the last complete ``\boxed{...}``/``\fbox{...}`` (nested braces), or None.

    One linear pass pairs the braces, so a text full of unclosed boxes costs O(n).
    """
    boxes = list(_BOX.finditer(text))
    if not boxes:
        return None
    closing: dict[int, int] = {}
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            closing[stack.pop()] = i
    for m in reversed(boxes):
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            if i in closing:
                return text[i + 1 : closing[i]].strip()
            continue  # unclosed (a truncated completion): try an earlier box
        if m.end() < len(text) and text[m.end()] == " ":  # `\boxed 5`
            token = text[m.end() :].strip().split("$")[0].split()
            if token:
                return token[0]
    return None


def _clean_segment(segment: str) -> str:
    """The answer in the text after a marker: its line, its sentence, minus ``$ .``."""
    segment = segment.strip().split("\n", 1)[0]
    if "\\boxed" in segment or "\\fbox" in segment:
        boxed = _last_boxed(segment)
        if boxed is not None:
            return boxed
    segment = _SENTENCE_END.split(segment, 1)[0]
    return segment.strip().rstrip(" .。$").lstrip(" $:：").strip()


def _after_last(pattern: re.Pattern[str], text: str) -> str | None:
    match = None
    for match in pattern.finditer(text):  # noqa: B007 - we want the last one
        pass
    if match is None:
        return None
    return _clean_segment(text[match.end() :]) or None


def _is_bare_answer(text: str) -> bool:
    """True when ``text`` is itself an answer (``18``, ``x = 5``, ``9 apples``), not prose."""
    if not text or "\n" in text or len(text) > 200:
        return False
    if "=" in text and not re.match(r"\s*[A-Za-z](?:_\{?\w+\}?)?\s*=[^=]*$", text):
        return False
    if not re.search(r"[A-Za-z]{2,}", _LATEX_COMMAND.sub(" ", _ENVIRONMENT.sub(" ", text))):
        return True  # a formula: `x^2+2x+1`, `\frac{\sqrt{2}}{2}`, `(1,2)`, `x = 5`
    if re.fullmatch(r"[A-Za-z]+", _TEXT_MACRO.sub(r"\1", text).strip()):
        return True  # a one-word answer: `Monday`, `\text{yes}`
    return parse_number(text) is not None  # a number with units: `9 apples`, `$1,234.50`


def extract_answer(text: str | None) -> str | None:
    r"""The final answer in a model completion, or None when it has none.

    See the module docstring for the priority order. The answer is returned as written
    (``\frac{3}{4}``, ``1,000``); :func:`normalize` canonicalises it.

    >>> extract_answer("Half of 48 is 24. The answer is: 24.")
    '24'
    >>> extract_answer(r"So the area is $\boxed{\frac{3}{4}}$.")
    '\\frac{3}{4}'
    >>> extract_answer("She pays 3 * 4 = 12 dollars.\n#### 12")
    '12'
    >>> extract_answer("no answer here") is None
    True
    """
    if text is None:
        return None
    answer = _extract(str(text))
    return answer if answer and len(answer) <= MAX_ANSWER_CHARS else None


def _extract(text: str) -> str | None:
    for pattern in (_ANSWER_IS, _HASHES):
        found = _after_last(pattern, text)
        if found:
            return found
    boxed = _last_boxed(text)
    if boxed:
        return boxed
    found = _after_last(_CHINESE, text)
    if found:
        return found
    stripped = text.strip().rstrip(".。").strip()
    if _is_bare_answer(stripped):
        return stripped
    number = None
    for number in _NUMBER_IN_TEXT.finditer(text):  # noqa: B007 - we want the last one
        pass
    return number.group(0) if number else None


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])(?!\.\d*,)")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_TEXT_MACRO = re.compile(
    r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|operatorname)\s*\{([^{}]*)\}"
)
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°")
_VARIABLE_LHS = re.compile(r"\s*[A-Za-z](?:_\{?\w+\}?)?\s*=\s*([^=]+)")
_MATH_WORDS = {"pi", "infty", "inf", "infinity", "sqrt", "frac", "sin", "cos", "tan", "log", "ln"}
_ATTACHED_UNITS = (
    "cm|mm|km|kg|mg|ml|ft|lb|lbs|mph|kph|kmh|hr|hrs|min|mins|sec|secs|oz|sq|yd|yds|in|mi"
)
_NUMBER_WITH_UNITS = re.compile(
    r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:/\d+)?%?)"
    r"(?:\s*(?P<attached>(?:" + _ATTACHED_UNITS + r")(?:\^?\{?[23]\}?|[²³])?)"
    r"|\s+(?P<words>[A-Za-z]{2,}'?(?:[ \-/][A-Za-z]+'?){0,3}(?:\^?\{?[23]\}?|[²³])?\.?))"
)
_SPACES = re.compile(r"(\\[A-Za-z]+)?\s+(?=([A-Za-z])?)")
_NULL_ANSWERS = {"", "none", "null", "nan", "n/a", "na", "undefined", "unknown", "?", "-"}


def _canonical_decimal(s: str) -> str:
    """``18.0`` -> ``18``, ``0.50`` -> ``0.5``, ``.5`` -> ``0.5``, ``-0`` -> ``0``."""
    try:
        d = Decimal(s)
    except InvalidOperation:
        return s
    out = format(d.normalize(), "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "+0", "") else out


def _strip_outer_braces(s: str) -> str:
    while len(s) >= 2 and s[0] == "{" and s[-1] == "}":
        depth = 0
        for i, ch in enumerate(s):
            depth += ch == "{"
            depth -= ch == "}"
            if depth == 0 and i < len(s) - 1:
                return s  # `{a}+{b}`: the outer braces are not a pair
        s = s[1:-1].strip()
    return s


def normalize(ans: str | None) -> str:
    r"""Canonical string form of an extracted answer (``""`` for no answer).

    Removes ``$``, ``\(\)``, spacing macros (``\!``, ``\,``), ``\left``/``\right``,
    degrees, a wrapping ``\boxed{}``, ``\text{}``-like wrappers and trailing unit words
    after a number (``9 apples`` -> ``9``); turns ``\dfrac``/``\tfrac`` into ``\frac``,
    ``\%`` and ``percent`` into ``%``, ``x = 5`` into ``5``; drops thousands separators
    only in complete groups of three (``12,345,678`` -> ``12345678`` but ``3,5`` stays,
    so it compares unequal to ``35``); writes plain numbers canonically (``18.0`` ->
    ``18``); and removes spaces (except where one ends a macro: ``\pi r``).

    >>> normalize(r"$\dfrac{1}{2}$")
    '\\frac{1}{2}'
    >>> normalize("1,000.50 dollars"), normalize("3,5"), normalize("x = 5")
    ('1000.5', '3,5', '5')
    """
    if ans is None:
        return ""
    s = str(ans).strip()
    if not s or len(s) > MAX_ANSWER_CHARS:
        return s  # too long to be an answer: left as is (bounded work)
    if "\\boxed" in s or "\\fbox" in s:
        boxed = _last_boxed(s)
        if boxed is not None:
            s = boxed
    s = s.replace("\n", " ").replace("−", "-").replace("–", "-")
    s = s.replace("\\!", "")
    s = re.sub(r"(?<!\\)\\[,;: ]|\\q?quad(?![A-Za-z])|~", " ", s)  # not a `\\` row break
    s = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", s)
    s = re.sub(r"\\(?:left|right)(?![A-Za-z])", "", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\%", "%").replace("\\$", "").replace("$", "")
    s = re.sub(r"(?<!\\)\\[()\[\]]", "", s)
    for _ in range(3):  # nested wrappers such as \text{\textbf{5}}
        s = _TEXT_MACRO.sub(r"\1", s)
    s = re.sub(r"\bpercent\b", "%", s, flags=re.IGNORECASE)
    s = s.strip().rstrip(".。").lstrip(":：").strip()
    s = _strip_outer_braces(s)
    if s.count("=") == 1:
        m = _VARIABLE_LHS.fullmatch(s)
        if m:
            s = m.group(1).strip()
    if not re.fullmatch(r"[(\[].*[)\]]", s):  # `(102,103]` is an interval, not 102103
        s = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), s)
    m = _NUMBER_WITH_UNITS.fullmatch(s)
    if m and (m.group("attached") or m.group("words").split()[0].lower() not in _MATH_WORDS):
        s = m.group("num")
    s = re.sub(r"\s*%$", "%", s)
    s = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\sqrt\s*(\d+)", r"\\sqrt{\1}", s)
    m = re.fullmatch(r"\(([A-Za-z])\)", s)
    if m:  # multiple choice `(C)`
        s = m.group(1)
    s = _SPACES.sub(
        lambda m: (m.group(1) + " ") if m.group(1) and m.group(2) else (m.group(1) or ""), s
    )
    if _PLAIN_NUMBER.fullmatch(s):
        s = _canonical_decimal(s)
    elif s.endswith("%") and _PLAIN_NUMBER.fullmatch(s[:-1]):
        s = _canonical_decimal(s[:-1]) + "%"
    return s


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------

_DEC = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?"
_DECIMAL_RE = re.compile(_DEC)
_SLASH_RE = re.compile(rf"({_DEC})/({_DEC})")
_FRAC_RE = re.compile(rf"([+-]?)\\frac\{{({_DEC})\}}\{{({_DEC})\}}")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


class _Number(NamedTuple):
    """A plain number read from a normalised answer."""

    value: float  # a percentage divided by 100: ``50%`` is 0.5
    percent: bool
    exact: Fraction  # the same value exactly (a decimal literal is an exact rational)

    def candidates(self) -> tuple[tuple[float, Fraction], ...]:
        """The values it may stand for: a percentage also times 100 (``50%``: 0.5 and 50)."""
        if self.percent:
            return ((self.value, self.exact), (self.value * 100.0, self.exact * 100))
        return ((self.value, self.exact),)


def _exact(literal: str) -> Fraction:
    return Fraction(Decimal(literal))


def _number_of_normalized(s: str) -> _Number | None:
    """The number a normalised string is when it is a plain number, else None.

    Only literals are read (``float``/``Decimal`` of a bounded string whose exponent has at
    most three digits): no power is ever evaluated.
    """
    if not s or len(s) > _MAX_NUMBER_CHARS:
        return None
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    value: float | None = None
    exact: Fraction | None = None
    try:
        if _DECIMAL_RE.fullmatch(s):
            value = _finite(float(s))
            exact = _exact(s) if value is not None else None
        elif m := _SLASH_RE.fullmatch(s):
            den = float(m.group(2))
            value = _finite(float(m.group(1)) / den) if den else None
            exact = _exact(m.group(1)) / _exact(m.group(2)) if value is not None else None
        elif m := _FRAC_RE.fullmatch(s):
            den = float(m.group(3))
            value = _finite(float(m.group(2)) / den) if den else None
            exact = _exact(m.group(2)) / _exact(m.group(3)) if value is not None else None
            if value is not None and m.group(1) == "-":
                value, exact = -value, -exact
    except (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
        return None
    if value is None or exact is None:
        return None
    return _Number(value / 100.0, True, exact / 100) if percent else _Number(value, False, exact)


def parse_number(s: str | None) -> float | None:
    r"""The value of an answer that is a plain number, else None.

    Reads integers, decimals, negatives, ``a/b``, ``\frac{a}{b}``, percentages (``50%`` is
    0.5) and thousands separators in complete groups of three (``1,000`` but not ``3,5``),
    after :func:`normalize`. Bounded work: powers such as ``9^9^9`` are not numbers here.

    >>> parse_number("$1,234.50"), parse_number(r"\frac{3}{4}"), parse_number("50%")
    (1234.5, 0.75, 0.5)
    >>> parse_number("3,5") is None
    True
    """
    info = _number_of_normalized(normalize(s))
    return None if info is None else info.value


def _same_value(a: tuple[float, Fraction], b: tuple[float, Fraction]) -> bool:
    """``(float, exact)`` values: two integers exactly, otherwise within the tolerance."""
    if a[1].denominator == 1 and b[1].denominator == 1:
        return a[1] == b[1]
    return math.isclose(a[0], b[0], rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _numbers_equal(a: _Number, b: _Number) -> bool:
    return any(_same_value(x, y) for x in a.candidates() for y in b.candidates())


# --------------------------------------------------------------------------------------
# Gold answers and grading
# --------------------------------------------------------------------------------------


def _gold_text(gold: object) -> str:
    if gold is None or isinstance(gold, bool):
        raise GoldAnswerError(f"gold answer {gold!r} cannot be parsed: not an answer")
    if isinstance(gold, float) and not math.isfinite(gold):
        raise GoldAnswerError(f"gold answer {gold!r} cannot be parsed: not a finite number")
    text = str(gold).strip()
    # A full reference solution is accepted too: take its marked final answer.
    if _ANSWER_IS.search(text) or "####" in text or _BOX.search(text) or _CHINESE.search(text):
        marked = extract_answer(text)
        if marked:
            return marked
    return text


@lru_cache(maxsize=65536)
def _check_gold_cached(text: str, timeout: float) -> tuple[str, str | None, _Number | None]:
    """``(normalised, error or None, number info)`` for a gold answer's text.

    Raises _WorkerTimeout (so that a timeout is not cached) when math-verify overran.
    """
    norm = normalize(text)
    if len(norm) > MAX_ANSWER_CHARS:
        return norm, f"longer than {MAX_ANSWER_CHARS} characters", None
    if norm.lower() in _NULL_ANSWERS or not re.search(r"\w", norm):
        return norm, "empty or placeholder answer", None
    info = _number_of_normalized(norm)
    if info is not None:
        return norm, None, info
    result = _symbolic("gold", norm, "", timeout)
    if result is None:
        raise _WorkerTimeout
    if not result[0]:
        return norm, "neither a number nor an expression math-verify can parse", None
    return norm, None, None


def _checked_gold(gold: object, timeout: float) -> tuple[str, _Number | None]:
    try:
        norm, error, info = _check_gold_cached(_gold_text(gold), float(timeout))
    except _WorkerTimeout:
        norm, error, info = "", f"math-verify did not parse it within {timeout:g} s", None
    if error is not None:
        shown = repr(gold) if len(repr(gold)) <= 80 else repr(gold)[:76] + "...'"
        raise GoldAnswerError(f"gold answer {shown} cannot be parsed: {error}")
    return norm, info


def check_gold(gold: object, *, timeout: float = DEFAULT_TIMEOUT_S) -> str:
    r"""The normalised gold answer, or raise :class:`GoldAnswerError` naming it.

    Loaders call this on every row at load time, so a bad gold fails loudly there and not
    as a silent reward later. Accepts a bare answer (``18``, ``\frac{1}{2}``, ``(1,2)``)
    or a full reference solution with a marked answer (``#### 18``, ``\boxed{18}``).

    >>> check_gold("#### 1,000")
    '1000'
    >>> check_gold("None")
    Traceback (most recent call last):
    ...
    mathlab.answers.GoldAnswerError: gold answer 'None' cannot be parsed: empty or placeholder answer
    """
    return _checked_gold(gold, timeout)[0]


def is_correct(pred_text: str | None, gold: object, *, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
    r"""Whether a completion (or an already extracted answer) matches the gold answer.

    Numeric comparison first (integers exactly, other numbers within a relative tolerance
    of 1e-4; ``%`` also tried times 100), then
    math-verify in a worker process limited to ``timeout`` seconds (a timeout is False).
    A completion with no answer is False; an unparseable gold raises GoldAnswerError.

    >>> is_correct("48 / 2 = 24 cookies. The answer is: 24", "24")
    True
    >>> is_correct("50%", "0.5"), is_correct("1,000", "1000"), is_correct("3,5", "35")
    (True, True, False)
    >>> is_correct("10,001", "10000"), is_correct("0.33333", "1/3")
    (False, True)
    """
    gold_norm, gold_info = _checked_gold(gold, timeout)
    answer = extract_answer(pred_text)
    if answer is None:
        return False
    pred_norm = normalize(answer)
    if not pred_norm:
        return False
    if pred_norm == gold_norm or (pred_norm.isalpha() and pred_norm.lower() == gold_norm.lower()):
        return True
    pred_info = _number_of_normalized(pred_norm)
    if pred_info is not None and gold_info is not None:
        return _numbers_equal(pred_info, gold_info)
    if gold_info is not None and not re.search(r"[\d\\]", pred_norm):
        return False  # words or a bare variable can't equal a number: skip math-verify
    result = _symbolic("eq", gold_norm, pred_norm, float(timeout))
    return bool(result and result[1])


def majority_vote(answers: Sequence[str | None]) -> str | None:
    """The most common answer (maj@k), grouping equivalent answers; None if none.

    Answers are extracted answers (e.g. ``Sample.pred``). Two answers fall in one group
    when their numbers are equal as grading compares them (integers exactly, others within
    the tolerance; by value: ``50%`` groups with ``0.5``) or, for non-numbers, when their normalised strings are equal. Ties go
    to the group seen first; the group's first answer, as written, is returned.

    >>> majority_vote(["1,000", "999", "1000.0", None, "1000"])
    '1,000'
    """
    groups: list[tuple[str, _Number | None, list[str]]] = []  # (norm, number, members)
    for answer in answers:
        if answer is None:
            continue
        norm = normalize(answer)
        if not norm:
            continue
        number = _number_of_normalized(norm)
        for g_norm, g_number, members in groups:
            if number is not None and g_number is not None:
                same = _same_value(number.candidates()[0], g_number.candidates()[0])
            else:
                same = number is None and g_number is None and norm == g_norm
            if same:
                members.append(answer)
                break
        else:
            groups.append((norm, number, [answer]))
    if not groups:
        return None
    best = max(groups, key=lambda g: len(g[2]))  # max keeps the first among ties
    return best[2][0]
