"""A safe, exact arithmetic evaluator, and the equations of a worked solution.

Three users: GSM8K-style calculator annotations ``<<48/2=24>>`` (checked in the data, and
filled in for a model that writes ``<<48/2=`` during calculator CoT), RFT's Algorithm 1
(a reasoning path is identified by its list of equations, and a path whose equations do
not check out is rejected), and the problem generator's self-check.

:func:`evaluate` never calls ``eval``: it parses the text with :mod:`ast` and walks a
whitelist (numbers, ``+ - * / // % **``, unary signs, parentheses, ``abs``, ``round``
(half away from zero), ``min``, ``max``) with every size bounded: the expression length, the exponent, and the
magnitude of every intermediate result. Arithmetic is exact (``fractions.Fraction``), so
``7/2*2`` is exactly 7. Anything else raises :class:`CalcError`.

Text written by people and models is first tidied (:func:`_prepare`): ``$`` signs and
thousands separators (complete groups of three) are dropped, ``x``/``×`` between numbers
and ``÷`` become ``*`` and ``/``, ``^`` becomes ``**``, and ``20%`` becomes ``(20/100)``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

__all__ = [
    "MAX_EXPONENT",
    "MAX_EXPR_LEN",
    "MAX_MAGNITUDE",
    "Annotation",
    "CalcError",
    "calc_insert",
    "check_annotation",
    "equations_check_out",
    "evaluate",
    "extract_equations",
    "find_annotations",
    "format_number",
]

MAX_EXPR_LEN = 256
"""Longest expression (characters) that :func:`evaluate` accepts."""
MAX_EXPONENT = 100
"""Largest ``|exponent|`` of ``**``."""
MAX_MAGNITUDE = 10**18
"""Largest absolute value of any intermediate or final result."""
MAX_DENOMINATOR = 10**24
"""Largest denominator of any intermediate or final result (``2**-100`` is refused)."""
REL_TOL = 1e-4

Number = int | Fraction


class CalcError(ValueError):
    """An expression that is invalid, unsupported or too large to evaluate safely."""


# --------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_TIMES = re.compile(r"(?<=[\d).])\s*[xX×✕∙·]\s*(?=[\d(.])")
_PERCENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*%(?!\s*[\d(.])")


def _prepare(expr: str) -> str:
    """Turn arithmetic as people write it into Python syntax (see the module docstring)."""
    s = expr.strip()
    s = s.replace("−", "-").replace("–", "-").replace("÷", "/").replace("\\$", "")
    s = s.replace("$", "").replace("^", "**").replace("\\times", "*").replace("\\cdot", "*")
    s = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), s)
    s = _TIMES.sub("*", s)
    s = _PERCENT.sub(r"(\1/100)", s)
    return s


def _check(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE:
        raise CalcError(f"result too large (over {MAX_MAGNITUDE:.0e} in magnitude)")
    if value.denominator > MAX_DENOMINATOR:
        raise CalcError("result too small or too finely divided")
    return value


def _literal(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalcError(f"unsupported literal {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CalcError("number out of range")
        return _check(Fraction(repr(value)))  # `0.1` is exactly 1/10
    if abs(value) > MAX_MAGNITUDE:
        raise CalcError(f"number too large (over {MAX_MAGNITUDE:.0e} in magnitude)")
    return Fraction(value)


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        if base < 0:
            raise CalcError("fractional power of a negative number")
        if abs(exponent) > MAX_EXPONENT:
            raise CalcError(f"exponent larger than {MAX_EXPONENT}")
        try:
            result = float(base) ** float(exponent)
        except (OverflowError, ZeroDivisionError) as exc:
            raise CalcError(f"invalid power: {exc}") from None
        return _check(Fraction(repr(result)))
    n = int(exponent)
    if abs(n) > MAX_EXPONENT:
        raise CalcError(f"exponent larger than {MAX_EXPONENT}")
    if base == 0 and n < 0:
        raise CalcError("division by zero")
    if base not in (0, 1, -1):
        # Refuse before computing: the bit length of the result is known in advance.
        top = base.numerator if n > 0 else base.denominator
        bottom = base.denominator if n > 0 else base.numerator
        # |base**n| >= 2**(n*(bits(top)-bits(bottom)-1)) and 2**64 > MAX_MAGNITUDE;
        # denominator >= 2**(n*(bits(bottom)-1)) and 2**80 > MAX_DENOMINATOR.
        if abs(n) * (abs(top).bit_length() - abs(bottom).bit_length() - 1) > 64:
            raise CalcError(f"result too large (over {MAX_MAGNITUDE:.0e} in magnitude)")
        if abs(n) * (abs(bottom).bit_length() - 1) > 80:
            raise CalcError("result too small or too finely divided")
    return _check(base**n)


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: Fraction(a // b),
    ast.Mod: lambda a, b: a % b,
    ast.Pow: _power,
}


_FUNCTIONS = ("abs", "round", "min", "max")


def _call(name: str, args: list[Fraction]) -> Fraction:
    if name == "abs" and len(args) == 1:
        return abs(args[0])
    if name in ("min", "max") and 1 <= len(args) <= 32:
        return min(args) if name == "min" else max(args)
    if name == "round" and len(args) in (1, 2):
        digits = args[1] if len(args) == 2 else Fraction(0)
        if digits.denominator != 1 or not 0 <= digits <= 12:
            raise CalcError("round() digits must be an integer from 0 to 12")
        # Half away from zero, as people round (2.345 -> 2.35, 2.5 -> 3), not Python's
        # half-to-even: the value is exact here, so ties really are ties.
        scale = 10 ** int(digits)
        magnitude = Fraction(math.floor(abs(args[0]) * scale + Fraction(1, 2)), scale)
        return magnitude if args[0] >= 0 else -magnitude
    raise CalcError(f"unsupported call {name}() with {len(args)} argument(s)")


def _walk(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Expression):
        return _walk(node.body)
    if isinstance(node, ast.Constant):
        return _literal(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _walk(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise CalcError("division by zero")
        return _check(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
            raise CalcError("only abs(), round(), min() and max() may be called")
        return _check(_call(node.func.id, [_walk(arg) for arg in node.args]))
    if isinstance(node, ast.Name):
        raise CalcError(f"names are not allowed: {node.id!r}")
    if isinstance(node, ast.Attribute):
        raise CalcError("attribute access is not allowed")
    raise CalcError(f"unsupported syntax: {type(node).__name__}")


def evaluate(expr: str) -> Number:
    """The exact value of an arithmetic expression: an ``int`` when whole, else a Fraction.

    Raises :class:`CalcError` (a ValueError) for anything outside the whitelist or the
    limits; never evaluates text with ``eval``.

    >>> evaluate("48/2"), evaluate("7/2*2"), evaluate("1/3")
    (24, 7, Fraction(1, 3))
    >>> evaluate("$1,200 x 3"), evaluate("20% * 50"), evaluate("2^10")
    (3600, 10, 1024)
    >>> evaluate("9**9**9")
    Traceback (most recent call last):
    ...
    mathlab.calculator.CalcError: exponent larger than 100
    """
    if not isinstance(expr, str):
        raise CalcError(f"expected a string, got {type(expr).__name__}")
    if len(expr) > MAX_EXPR_LEN:
        raise CalcError(f"expression longer than {MAX_EXPR_LEN} characters")
    text = _prepare(expr)
    if not text:
        raise CalcError("empty expression")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise CalcError(f"not an arithmetic expression: {expr!r} ({type(exc).__name__})") from None
    try:
        value = _walk(tree)
    except RecursionError:
        raise CalcError("expression nested too deeply") from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        if isinstance(exc, CalcError):
            raise
        raise CalcError(f"cannot evaluate {expr!r}: {exc}") from None
    return int(value) if value.denominator == 1 else value


# --------------------------------------------------------------------------------------
# Formatting and comparison
# --------------------------------------------------------------------------------------


def format_number(x: int | float | Fraction | Decimal) -> str:
    """A number as GSM8K writes it: ``24``, ``0.5``, ``2.25``; otherwise 6 decimals.

    Whole numbers print as integers; terminating decimals of up to 10 places print
    exactly; anything else is rounded to 6 decimal places (6 significant digits when that
    would round a non-zero value to 0), trailing zeros dropped.

    >>> format_number(24), format_number(Fraction(9, 4)), format_number(2.0), format_number(Fraction(1, 3))
    ('24', '2.25', '2', '0.333333')
    """
    if isinstance(x, bool):
        raise TypeError("format_number() needs a number, not a bool")
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        x = Fraction(repr(x))
    value = Fraction(x)
    for places in range(11):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return _fixed(scaled.numerator, places)
    scaled_6 = round(value * 10**6)
    if scaled_6 == 0:
        return f"{float(value):.6g}"
    return _fixed(scaled_6, 6)


def _fixed(scaled: int, places: int) -> str:
    """``scaled / 10**places`` written out exactly, trailing zeros dropped."""
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    whole, frac = (digits[:-places], digits[-places:].rstrip("0")) if places else (digits, "")
    text = f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
    return "0" if text == "-0" else text


def _close(a: Fraction, b: Fraction) -> bool:
    return a == b or math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-9)


def _shown_decimals(value_text: str) -> int:
    m = re.search(r"\.(\d+)\s*$", value_text.replace("$", "").strip())
    return len(m.group(1)) if m else 0


def check_annotation(expr: str, value_text: str) -> bool:
    """Whether ``expr`` evaluates to ``value_text`` (relative tolerance 1e-4).

    A value written with ``d`` decimals is also right when it is the exact result rounded
    to ``d`` places, as GSM8K writes ``<<10/3=3.33>>``. Invalid or unsafe text is False.

    >>> check_annotation("48/2", "24"), check_annotation("10/3", "3.33"), check_annotation("3*4", "13")
    (True, True, False)
    """
    try:
        exact = Fraction(evaluate(expr))
        value = Fraction(evaluate(value_text))
    except CalcError:
        return False
    if _close(exact, value):
        return True
    places = _shown_decimals(value_text)
    return places > 0 and abs(exact - value) <= Fraction(1, 2 * 10**places) * (
        1 + Fraction(1, 10**6)
    )


# --------------------------------------------------------------------------------------
# Annotations and equations
# --------------------------------------------------------------------------------------


class Annotation(NamedTuple):
    """One ``<<expr=value>>`` calculator annotation and its ``(start, end)`` in the text."""

    expr: str
    value_text: str
    span: tuple[int, int]


_ANNOTATION = re.compile(r"<<([^<>]*)=([^<>=]*)>>")

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?%?|\.\d+%?"
_TERM = rf"(?:\(\s*)*(?:-\s*)?(?:\$\s*)?(?:{_NUM})(?:\s*\))*"
_OPERATOR = r"(?:[-+*/×÷^]|(?<=[\d\s)])[xX](?=[\s\d($.]))"
# The left side must end right before an `=` (searched in a window before each `=`, so a
# long text costs linear time); the right side is one number right after it.
_LHS = re.compile(rf"(?<![\w.,$])(?:{_TERM})(?:\s*{_OPERATOR}\s*(?:{_TERM}))+\s*$")
_RHS = re.compile(rf"\s*((?:-\s*)?(?:\$\s*)?(?:{_NUM}))(?![\d,.]\d)")


def find_annotations(text: str) -> list[Annotation]:
    """Every ``<<expr=value>>`` annotation in ``text``, in order.

    >>> find_annotations("She has 48/2 = <<48/2=24>>24 left.")
    [Annotation(expr='48/2', value_text='24', span=(15, 26))]
    """
    return [
        Annotation(m.group(1).strip(), m.group(2).strip(), (m.start(), m.end()))
        for m in _ANNOTATION.finditer(text)
    ]


def _canonical_value(value_text: str) -> str:
    try:
        return format_number(evaluate(value_text))
    except CalcError:
        return value_text


def _tidy(expr: str) -> str:
    s = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), expr.replace("$", ""))
    s = _TIMES.sub("*", s).replace("×", "*").replace("÷", "/")
    return re.sub(r"\s+", "", s)


def extract_equations(text: str) -> list[str]:
    """The equations of a worked solution, each as ``expr=value`` (RFT, Algorithm 1).

    The calculator annotations when there are any; otherwise the arithmetic written in the
    text (``3 * 4 = 12``, ``$12/3 = $4``, ``5 x 4 = 20``, ``1,000 + 500 = 1,500``). Spaces,
    ``$`` and thousands separators are removed, ``x``/``×`` become ``*`` and the value is
    written canonically (``12.50`` -> ``12.5``), so equal paths give equal lists.

    >>> extract_equations("Each costs $12/3 = $4, so 5 x 4 = 20 in all.")
    ['12/3=4', '5*4=20']
    """
    annotations = find_annotations(text)
    if annotations:
        return [f"{_tidy(a.expr)}={_canonical_value(_tidy(a.value_text))}" for a in annotations]
    equations = []
    previous_end = 0
    for eq in re.finditer("=", text):
        # The left side lies between the previous `=` and this one (at most MAX_EXPR_LEN).
        window_start = max(previous_end, eq.start() - MAX_EXPR_LEN)
        previous_end = eq.end()
        lhs = _LHS.search(text, window_start, eq.start())
        rhs = _RHS.match(text, eq.end())
        if lhs and rhs:  # a chain `3 + 4 = 7 + 2 = 9` gives two equations
            expr, value = _balance(_tidy(lhs.group(0))), _canonical_value(_tidy(rhs.group(1)))
            equations.append(f"{expr}={value}")
    return equations


def _balance(s: str) -> str:
    """Drop parentheses that the sentence, not the expression, opened or closed."""
    while s.startswith("(") and s.count("(") > s.count(")"):
        s = s[1:]
    while s.endswith(")") and s.count(")") > s.count("("):
        s = s[:-1]
    return s


def equations_check_out(eqs: Iterable[str]) -> bool:
    """Whether every ``expr=value`` equation is arithmetically right (vacuously True).

    >>> equations_check_out(["3*4=12", "12+5=17"]), equations_check_out(["3*4=13"])
    (True, False)
    """
    for eq in eqs:
        expr, sep, value = eq.rpartition("=")
        if not sep or not check_annotation(expr, value):
            return False
    return True


def calc_insert(expr: str) -> str | None:
    """The value to write after a model's ``<<expr=`` (the caller appends ``>>``).

    None when the expression is invalid or unsafe; the model then continues on its own.

    >>> calc_insert("48/2"), calc_insert("100/3"), calc_insert("__import__('os')")
    ('24', '33.333333', None)
    """
    try:
        return format_number(evaluate(expr))
    except CalcError:
        return None
