"""Data builders for 06_rfft: Leave-Square-Out splits and the three answer formats.

Hu et al. 2024, "Case-Based or Rule-Based: How Do Transformers Do the Math?"
(arXiv 2402.17709) ask whether a model that learned addition generalizes by rule or
by neighbouring cases. Two experiments:

* **Leave-Square-Out (LSO)**: train `a+b=` on every pair of the grid [0, n) x [0, n)
  except a square (|a-c| <= h and |b-c| <= h), test inside the square. A rule-based
  learner fills the square; a case-based one leaves a hole. Controls: a random split
  and several random non-overlapping holes.
* **Rule-Following Fine-Tuning (RFFT)**: multi-digit addition in three formats on the
  same problems: the direct answer, a scratchpad (one line per digit with its carry),
  and rule following (the rule is given in the input as python-like code; the output
  recites each rule line, then states the variables it changed).

Every format has a builder (`format_example`) and a parser (`parse_answer`) that reads
the final answer back from a target or from a model's output; `check_rule_trace`
re-executes a recited rule trace line by line. Everything is pure python and seeded.

>>> format_example("direct", 29, 57)
('29+57=', '86')
>>> format_example("scratchpad", 29, 57)
('29+57=', '\\n9+7+0=16\\n2+5+1=08\\n86')
>>> parse_answer("scratchpad", format_example("scratchpad", 29, 57)[1])
86
>>> len(square_split(half=10).test)
441
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np

FORMATS = ("direct", "scratchpad", "rule")
SPLIT_KINDS = ("square", "random", "holes")


# --------------------------------------------------------------------------- LSO splits
@dataclass
class Split:
    """A train/test split of the grid [0, n) x [0, n) of addition pairs (a, b).

    `heldout` is an n x n boolean mask (row a, column b) of the test pairs; `boxes`
    are the held-out rectangles `(a0, a1, b0, b1)` (inclusive) to outline on a heatmap
    (empty for the random split).
    """

    kind: str
    n: int
    heldout: np.ndarray
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def train(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in zip(*np.nonzero(~self.heldout))]

    @property
    def test(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in zip(*np.nonzero(self.heldout))]

    def describe(self) -> str:
        return f"{self.kind}: {len(self.train)} train / {len(self.test)} held-out pairs of {self.n}x{self.n}"


def _check_grid(n: int, what: str = "grid") -> None:
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"{what} must be an int >= 2 (numbers 0..n-1), got {n!r}")


def square_split(half: int = 10, center: int | None = None, n: int = 100) -> Split:
    """Hold out the square |a - center| <= half and |b - center| <= half."""
    _check_grid(n)
    center = n // 2 if center is None else center
    if half < 0 or center - half < 0 or center + half >= n:
        raise ValueError(
            f"square center={center} half={half} does not fit the grid 0..{n - 1} "
            f"(rfft.lso_half / rfft.lso_grid)"
        )
    mask = np.zeros((n, n), dtype=bool)
    lo, hi = center - half, center + half
    mask[lo : hi + 1, lo : hi + 1] = True
    return Split("square", n, mask, [(lo, hi, lo, hi)])


def random_split(test_frac: float = 0.3, seed: int = 0, n: int = 100) -> Split:
    """Hold out a random `test_frac` of all pairs (the i.i.d. control)."""
    _check_grid(n)
    if not 0.0 < test_frac < 1.0:
        raise ValueError(f"random split test_frac must be in (0, 1), got {test_frac!r}")
    rng = np.random.default_rng(seed)
    flat = np.zeros(n * n, dtype=bool)
    flat[rng.choice(n * n, size=round(test_frac * n * n), replace=False)] = True
    return Split("random", n, flat.reshape(n, n))


def holes_split(n_holes: int = 3, side: int = 21, seed: int = 0, n: int = 100) -> Split:
    """Hold out `n_holes` random side x side squares that do not overlap (or touch)."""
    _check_grid(n)
    if side < 1 or side > n:
        raise ValueError(f"hole side must be in 1..{n}, got {side!r}")
    rng = random.Random(seed)
    for _attempt in range(300):
        boxes: list[tuple[int, int, int, int]] = []
        for _ in range(n_holes):
            for _try in range(200):
                a0, b0 = rng.randrange(n - side + 1), rng.randrange(n - side + 1)
                box = (a0, a0 + side - 1, b0, b0 + side - 1)
                if all(not _boxes_touch(box, other) for other in boxes):
                    boxes.append(box)
                    break
        if len(boxes) == n_holes:
            mask = np.zeros((n, n), dtype=bool)
            for a0, a1, b0, b1 in boxes:
                mask[a0 : a1 + 1, b0 : b1 + 1] = True
            return Split("holes", n, mask, boxes)
    raise ValueError(
        f"cannot place {n_holes} non-overlapping {side}x{side} holes in a {n}x{n} grid"
    )


def _boxes_touch(p: tuple[int, int, int, int], q: tuple[int, int, int, int]) -> bool:
    """True when two inclusive boxes overlap or share an edge."""
    return not (p[1] + 1 < q[0] or q[1] + 1 < p[0] or p[3] + 1 < q[2] or q[3] + 1 < p[2])


def make_split(
    kind: str,
    n: int = 100,
    half: int = 10,
    center: int | None = None,
    test_frac: float = 0.3,
    n_holes: int = 3,
    hole_side: int = 21,
    seed: int = 0,
) -> Split:
    """One of SPLIT_KINDS with its parameters (the others are ignored)."""
    if kind == "square":
        return square_split(half, center, n)
    if kind == "random":
        return random_split(test_frac, seed, n)
    if kind == "holes":
        return holes_split(n_holes, hole_side, seed, n)
    raise ValueError(f"unknown split kind {kind!r}; expected one of {SPLIT_KINDS}")


# --------------------------------------------------------------------------- formats
RULE_LINES = (
    "c=0",
    "r=[]",
    "while a or b:",
    "x=a.pop() if a else 0",
    "y=b.pop() if b else 0",
    "s=x+y+c",
    "c=s//10",
    "r.insert(0,s%10)",
    "if c:",
    "r.insert(0,c)",
    "return r",
)
# The rule as the model reads it: a python function (one space of indent per level).
RULE_CODE = (
    "def add(a,b):\n c=0\n r=[]\n while a or b:\n  x=a.pop() if a else 0\n"
    "  y=b.pop() if b else 0\n  s=x+y+c\n  c=s//10\n  r.insert(0,s%10)\n"
    " if c:\n  r.insert(0,c)\n return r\n"
)


def digits(x: int) -> list[int]:
    return [int(ch) for ch in str(x)]


def _list(ds: list[int]) -> str:
    return "[" + ",".join(map(str, ds)) + "]"


def scratch_lines(a: int, b: int) -> list[str]:
    """One line per digit, least significant first: `x+y+c=t` with t = carry-out, digit."""
    da, db = digits(a)[::-1], digits(b)[::-1]
    carry, lines = 0, []
    for i in range(max(len(da), len(db))):
        x = da[i] if i < len(da) else 0
        y = db[i] if i < len(db) else 0
        s = x + y + carry
        lines.append(f"{x}+{y}+{carry}={s // 10}{s % 10}")
        carry = s // 10
    return lines


def rule_trace(a: int, b: int) -> list[str]:
    """The recited execution of RULE_CODE on add(digits(a), digits(b)).

    Each line is `<rule line>:<state after it>`; the state names only the variables the
    line changed (the state before is the previous line's), a test shows True/False,
    and `return r` shows the number the returned digits spell.
    """
    av, bv = digits(a), digits(b)
    out = ["c=0:c=0", "r=[]:r=[]"]
    c, r = 0, []
    while av or bv:
        out.append("while a or b:True")
        x = av.pop() if av else 0
        out.append(f"x=a.pop() if a else 0:x={x} a={_list(av)}")
        y = bv.pop() if bv else 0
        out.append(f"y=b.pop() if b else 0:y={y} b={_list(bv)}")
        s = x + y + c
        out.append(f"s=x+y+c:s={x}+{y}+{c}={s}")
        c = s // 10
        out.append(f"c=s//10:c={c}")
        r.insert(0, s % 10)
        out.append(f"r.insert(0,s%10):r={_list(r)}")
    out.append("while a or b:False")
    out.append(f"if c:{bool(c)}")
    if c:
        r.insert(0, c)
        out.append(f"r.insert(0,c):r={_list(r)}")
    out.append("return r:" + "".join(map(str, r)))
    return out


def format_example(fmt: str, a: int, b: int, reverse: bool = False) -> tuple[str, str]:
    """(prompt, target) for a+b in one of FORMATS.

    `reverse=True` writes the final answer of `direct` and `scratchpad` least
    significant digit first (easier for a small model trained from scratch); `rule`
    always ends with the answer in the natural order (the trace builds it that way).
    """
    if a < 0 or b < 0:
        raise ValueError(f"operands must be non-negative, got {a}+{b}")
    answer = str(a + b)[::-1] if reverse else str(a + b)
    if fmt == "direct":
        return f"{a}+{b}=", answer
    if fmt == "scratchpad":
        return f"{a}+{b}=", "\n" + "\n".join(scratch_lines(a, b)) + "\n" + answer
    if fmt == "rule":
        return RULE_CODE + f"add({_list(digits(a))},{_list(digits(b))})\n", "\n".join(
            rule_trace(a, b)
        )
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def parse_answer(fmt: str, text: str, reverse: bool = False) -> int | None:
    """The final answer in a target or a model's output, or None if there is none.

    direct: the whole text is the number; scratchpad: the last line; rule: the number
    after the last `return r:`. Anything else (empty, extra characters) is None.
    """
    if fmt == "direct":
        tail = text.strip()
    elif fmt == "scratchpad":
        tail = text.rstrip("\n").rsplit("\n", 1)[-1].strip()
    elif fmt == "rule":
        if "return r:" not in text:
            return None
        tail = text.rsplit("return r:", 1)[1].strip()
        reverse = False
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if not re.fullmatch(r"\d+", tail):
        return None
    return int(tail[::-1] if reverse else tail)


# --------------------------------------------------------------------------- rule check
class TraceError(ValueError):
    """A recited rule trace that does not follow the rule; says which line and why."""


_NEXT = {  # control flow of RULE_CODE: line -> the line that must follow it
    "c=0": "r=[]",
    "r=[]": "while a or b:",
    "x=a.pop() if a else 0": "y=b.pop() if b else 0",
    "y=b.pop() if b else 0": "s=x+y+c",
    "s=x+y+c": "c=s//10",
    "c=s//10": "r.insert(0,s%10)",
    "r.insert(0,s%10)": "while a or b:",
    "r.insert(0,c)": "return r",
}


_TESTS = {"while a or b:": "a or b", "if c:": "c"}  # test lines and the condition they test


_VALUE = re.compile(r"(?:\d+|\[(?:\d(?:,\d)*)?\])")


def _state_values(text: str) -> dict[str, object]:
    """`x=6 a=[4,5]` -> {"x": 6, "a": [4, 5]}; `s=6+8+0=14` -> {"s": 14}.

    Raises TraceError on anything else (a model's output can be any string).
    """
    values: dict[str, object] = {}
    for part in text.split(" "):
        name, eq, value = part.partition("=")
        value = value.rsplit("=", 1)[-1]
        if not eq or not name.isidentifier() or not _VALUE.fullmatch(value):
            raise TraceError(f"cannot read the stated value {part!r}")
        if value.startswith("["):
            values[name] = [int(v) for v in value[1:-1].split(",") if v]
        else:
            values[name] = int(value)
    return values


def check_rule_trace(a: int, b: int, trace: str) -> int:
    """Execute every recited rule line and check the stated variables; return the sum.

    Each recited line must be a line of RULE_CODE, in the order its control flow
    dictates; the line is executed (only the fixed RULE_LINES are ever executed) and
    every value stated after it must equal the executed value. Raises TraceError naming
    the first line (1-based) that breaks the rule.
    """
    try:
        return _check_rule_trace(a, b, trace)
    except TraceError:
        raise
    except (ValueError, TypeError, NameError, IndexError) as exc:  # malformed values
        raise TraceError(f"trace cannot be executed: {exc}") from None


def _check_rule_trace(a: int, b: int, trace: str) -> int:
    env: dict[str, object] = {"a": digits(a), "b": digits(b)}
    expected = "c=0"
    for no, line in enumerate(trace.split("\n"), 1):
        test = next((t for t in _TESTS if line.startswith(t)), None)
        code, sep, stated = (test, ":", line[len(test) :]) if test else line.rpartition(":")
        if not sep or code not in RULE_LINES:
            raise TraceError(f"trace line {no} {line!r}: not a rule line")
        if code != expected:
            raise TraceError(f"trace line {no} {line!r}: expected rule line {expected!r}")
        if test:
            truth = bool(eval(_TESTS[test], {}, env))  # noqa: S307 - fixed rule text only
            if stated != str(truth):
                raise TraceError(f"trace line {no} {line!r}: the test is {truth}")
            if code == "while a or b:":
                expected = "x=a.pop() if a else 0" if truth else "if c:"
            else:
                expected = "r.insert(0,c)" if truth else "return r"
            continue
        if code == "return r":
            result = int("".join(map(str, env["r"])))  # type: ignore[arg-type]
            if stated != str(result):
                raise TraceError(f"trace line {no} {line!r}: r spells {result}")
            if no != len(trace.split("\n")):
                raise TraceError(f"trace line {no}: lines follow `return r`")
            return result
        if code == "s=x+y+c":  # the stated terms must be the current x, y and c
            terms = stated.partition("=")[2].rpartition("=")[0]
            if terms != f"{env.get('x')}+{env.get('y')}+{env.get('c')}":
                raise TraceError(
                    f"trace line {no} {line!r}: x+y+c is {env.get('x')}+{env.get('y')}+{env.get('c')}"
                )
        exec(code, {}, env)  # noqa: S102 - only the fixed RULE_LINES reach here
        try:
            stated_values = _state_values(stated)
        except TraceError as exc:
            raise TraceError(f"trace line {no} {line!r}: {exc}") from None
        for name, value in stated_values.items():
            if env.get(name) != value:
                raise TraceError(
                    f"trace line {no} {line!r}: {name} is {env.get(name)!r}, stated {value!r}"
                )
        expected = _NEXT[code]
    raise TraceError("trace ends before `return r`")


# --------------------------------------------------------------------------- RFFT problems
def sample_problems(
    n_digits: int, count: int, rng: random.Random, exclude: set[tuple[int, int]] | None = None
) -> list[tuple[int, int]]:
    """`count` distinct pairs (a, b), both with exactly n_digits digits, none in `exclude`.

    Returns fewer than `count` when the digit count has fewer pairs left (1 digit: 100).
    """
    if n_digits < 1:
        raise ValueError(f"n_digits must be >= 1, got {n_digits}")
    lo, hi = (0 if n_digits == 1 else 10 ** (n_digits - 1)), 10**n_digits - 1
    exclude = exclude or set()
    total = (hi - lo + 1) ** 2
    if total <= 4 * (count + len(exclude)):  # small space: enumerate it
        pool = [
            (x, y) for x in range(lo, hi + 1) for y in range(lo, hi + 1) if (x, y) not in exclude
        ]
        rng.shuffle(pool)
        return pool[:count]
    seen: set[tuple[int, int]] = set()
    out = []
    while len(out) < count:
        pair = (rng.randint(lo, hi), rng.randint(lo, hi))
        if pair not in seen and pair not in exclude:
            seen.add(pair)
            out.append(pair)
    return out


def rfft_problems(
    train_digits: tuple[int, int],
    test_digits: tuple[int, int],
    n_train: int,
    n_test_per_digit: int,
    seed: int = 0,
) -> tuple[list[tuple[int, int]], dict[int, list[tuple[int, int]]]]:
    """Training pairs (the same number for every train digit count) and test pairs per count.

    Test pairs are drawn first and never appear in training. A digit count with few pairs
    (1 digit: 100) gives the test at most half of them, and its remaining pairs are
    repeated in training so that every digit count keeps its share of the training set.
    """
    rng = random.Random(seed)
    test = {
        d: sample_problems(d, min(n_test_per_digit, _n_pairs(d) // 2), rng)
        for d in range(test_digits[0], test_digits[1] + 1)
    }
    held = {p for pairs in test.values() for p in pairs}
    span = list(range(train_digits[0], train_digits[1] + 1))
    train: list[tuple[int, int]] = []
    for i, d in enumerate(span):
        want = n_train // len(span) + (1 if i < n_train % len(span) else 0)
        pool = sample_problems(d, want, rng, exclude=held)
        train.extend(pool[j % len(pool)] for j in range(want))
    rng.shuffle(train)
    return train, test


def _n_pairs(n_digits: int) -> int:
    """How many pairs (a, b) of n-digit numbers there are."""
    per = 10 if n_digits == 1 else 9 * 10 ** (n_digits - 1)
    return per * per
