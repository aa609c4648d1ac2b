r"""How each real set's rows map onto the Problem contract (one mapper per format).

A mapper takes one raw row (a dict) and returns ``(question, answer, solution, meta,
used keys)``, or raises :class:`SkipRow` saying why the row cannot be used (the category,
the detail and the field). :func:`to_problem` runs the kind's mapper, normalises and
checks the gold answer (:func:`mathlab.answers.check_gold`; GSM-style sets also require a
number) and keeps every field the mapper did not use in ``meta``. The formats themselves
are described in :mod:`mathlab.data.loaders`; reading files and the hub is
:mod:`mathlab.data.real_sources`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mathlab.data.records import Problem

_NUMERIC_KINDS = {"gsm8k", "svamp", "asdiv", "gsm_plus"}  # golds must be numbers
_LANG = {"cmath": "zh"}


class SkipRow(Exception):
    """One row that cannot become a Problem: ``code`` is the category, ``detail`` the rest."""

    def __init__(self, code: str, detail: str = "", field: str | None = None):
        self.code, self.detail, self.field = code, detail, field
        super().__init__(f"{code}: {detail}" if detail else code)


# --------------------------------------------------------------------------- small helpers
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def clean_number(text: str) -> str:
    """Drop thousands separators when they come in complete groups of three.

    >>> clean_number("2,125"), clean_number("-1,000,000.5"), clean_number("3,5")
    ('2125', '-1000000.5', '3,5')
    """
    s = text.strip()
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    return s


def format_float(x: float | int) -> str:
    """8.0 -> '8', 2.5 -> '2.5', 0.1 -> '0.1' (the shortest exact repr)."""
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return repr(x)


def last_boxed(text: str) -> str | None:
    r"""The content of the last ``\boxed{...}`` (or ``\fbox{}``), nested braces included.

    >>> last_boxed(r"so $\boxed{\frac{1}{2}}$ and not \boxed{3")
    '\\frac{1}{2}'
    >>> last_boxed(r"The answer is $\boxed 5$.")
    '5'
    """
    for m in reversed(list(re.finditer(r"\\(?:boxed|fbox)", text))):
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            depth = 0
            for j in range(i, len(text)):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    return text[i + 1 : j].strip()
            continue  # unbalanced: try an earlier box
        if i > m.end():  # `\boxed 5`
            token = re.match(r"[^\s$]+", text[i:])
            if token:
                return token.group(0)
    return None


def _require(row: dict, name: str, alt: tuple[str, ...] = ()) -> Any:
    for key in (name, *alt):
        if key in row and row[key] is not None:
            return row[key]
    names = " or ".join(repr(k) for k in (name, *alt))
    raise SkipRow(
        "missing field", f"{names} (row has {', '.join(map(repr, row)) or 'none'})", field=name
    )


def _text(row: dict, name: str, alt: tuple[str, ...] = ()) -> str:
    value = _require(row, name, alt)
    if not isinstance(value, str):
        raise SkipRow(
            "mistyped field", f"{name!r} should be a string, got {value!r:.60}", field=name
        )
    if not value.strip():
        raise SkipRow("empty field", repr(name), field=name)
    return value


def _count_steps(solution: str) -> int:
    body = solution.split("####")[0]
    return sum(1 for line in body.splitlines() if line.strip())


def _after_hashes(text: str) -> str | None:
    if "####" not in text:
        return None
    tail = text.rsplit("####", 1)[1].strip()
    return tail.splitlines()[0].strip() if tail else ""


_ANSWER_IS = re.compile(r"The answer is:?\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)


def _answer_is(text: str) -> str | None:
    idx = [m.start() for m in re.finditer(r"The answer is", text, re.IGNORECASE)]
    if not idx:
        return None
    m = _ANSWER_IS.match(text[idx[-1] :])
    if not m:
        return None
    return m.group(1).strip().rstrip(".").strip().strip("$").strip()


# --------------------------------------------------------------------------- row mappers
# Each takes a raw row (a dict) and returns (question, answer, solution, meta, used keys);
# fields not in `used` are copied into meta by the caller.
Mapped = tuple[str, str, str, dict[str, Any], set[str]]


def _map_gsm8k(row: dict) -> Mapped:
    question = _text(row, "question")
    text = _text(row, "answer")
    final = _after_hashes(text)
    if not final:
        raise SkipRow("no final answer", "the 'answer' field has no '#### N' line", "answer")
    return question, final, text, {"steps": _count_steps(text)}, {"question", "answer"}


def _map_math(row: dict) -> Mapped:
    question = _text(row, "problem")
    solution = row.get("solution") or ""
    if not isinstance(solution, str):
        raise SkipRow("mistyped field", "'solution' should be a string", "solution")
    used = {"problem", "solution"}
    meta: dict[str, Any] = {}
    if isinstance(row.get("answer"), str) and row["answer"].strip():
        answer = row["answer"].strip()
        used.add("answer")
    else:
        if not solution:
            raise SkipRow("missing field", "neither 'answer' nor 'solution'", "solution")
        answer = last_boxed(solution)
        if answer is None:
            raise SkipRow("no final answer", "no \\boxed{} in 'solution'", "solution")
        meta["answer_from"] = "boxed"
    return question, answer, solution, meta, used


def _map_svamp(row: dict) -> Mapped:
    body = _text(row, "Body")
    q = _text(row, "Question")
    raw = _require(row, "Answer")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise SkipRow("mistyped field", f"'Answer' should be a number, got {raw!r:.60}", "Answer")
    if isinstance(raw, str):
        try:
            raw = float(clean_number(raw))
        except ValueError:
            raise SkipRow("non-numeric answer", repr(raw), "Answer") from None
    body = body.strip()
    question = f"{body} {q.strip()}" if body else q.strip()
    meta = {"source_id": row.get("ID"), "raw_answer": raw}
    return question, format_float(raw), "", meta, {"Body", "Question", "Answer", "ID"}


_ASDIV_ANSWER = re.compile(
    r"\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:/\d+)?)"
    r"\s*(?:\(([^()]*)\))?\s*"
)


def _map_asdiv(row: dict) -> Mapped:
    body = _text(row, "Body").strip()
    q = _text(row, "Question").strip()
    raw = _text(row, "Answer")
    m = _ASDIV_ANSWER.fullmatch(raw)
    if not m or not re.search(r"\d", m.group(1)):
        raise SkipRow("non-numeric answer", repr(raw), "Answer")
    meta = {"source_id": row.get("ID"), "raw_answer": raw, "unit": m.group(2)}
    question = f"{body} {q}" if body else q
    return question, clean_number(m.group(1)), "", meta, {"Body", "Question", "Answer", "ID"}


def _map_cmath(row: dict) -> Mapped:
    question = _text(row, "input", ("question",))
    raw = _require(row, "golden", ("answer",))
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise SkipRow("mistyped field", f"'golden' should be a string, got {raw!r:.60}", "golden")
    answer = format_float(raw) if isinstance(raw, int | float) else raw.strip()
    meta: dict[str, Any] = {"source_id": row.get("id")}
    if isinstance(row.get("reasoning_step"), int):
        meta["steps"] = row["reasoning_step"]
    return question, answer, "", meta, {"input", "question", "golden", "answer", "id"}


def _map_gsm_plus(row: dict) -> Mapped:
    question = _text(row, "question")
    raw = row.get("answer")
    kind = row.get("perturbation_type")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "none", "null")):
        raise SkipRow("no gold answer", f"answer={raw!r} (perturbation_type={kind!r})", "answer")
    answer = format_float(raw) if isinstance(raw, int | float) else str(raw)
    solution = row.get("solution") or ""
    if not isinstance(solution, str):
        raise SkipRow("mistyped field", "'solution' should be a string", "solution")
    return question, answer, solution, {}, {"question", "answer", "solution"}


def _map_metamath(row: dict) -> Mapped:
    if "query" in row or "response" in row:
        question = _text(row, "query")
        response = _text(row, "response")
        answer = _answer_is(response)
        if not answer:
            raise SkipRow("no final answer", "response has no 'The answer is: N'", "response")
        return question, answer, response, {"layout": "metamathqa"}, {"query", "response"}
    if "question" in row and "answer" in row:
        question = _text(row, "question")
        raw = row["answer"]
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return (
                question,
                format_float(raw),
                "",
                {"layout": "question_answer"},
                {"question", "answer"},
            )
        text = _text(row, "answer")
        final = _after_hashes(text)
        if final is None:
            return question, text.strip(), "", {"layout": "question_answer"}, {"question", "answer"}
        meta = {"layout": "question_answer", "steps": _count_steps(text)}
        return question, final, text, meta, {"question", "answer"}
    raise SkipRow(
        "unrecognized layout", f"expected query/response or question/answer, row has {sorted(row)}"
    )


MAPPERS: dict[str, Callable[[dict], Mapped]] = {
    "gsm8k": _map_gsm8k,
    "math": _map_math,
    "math500": _map_math,
    "svamp": _map_svamp,
    "asdiv": _map_asdiv,
    "cmath": _map_cmath,
    "gsm_plus": _map_gsm_plus,
    "metamath_backward": _map_metamath,
}


def to_problem(
    row: Any,
    kind: str,
    set_name: str,
    index: int,
    split: str = "test",
    orig_split: str | None = None,
) -> Problem:
    """One raw row -> Problem, or SkipRow saying why not (gold checked with check_gold)."""
    if not isinstance(row, dict):
        raise SkipRow("not an object", f"a row must be a JSON object, got {type(row).__name__}")
    question, raw_answer, solution, own, used = MAPPERS[kind](row)
    answer = _checked_answer(raw_answer, kind)
    if raw_answer != answer and "raw_answer" not in own:
        own["raw_answer"] = raw_answer
    return Problem(
        id=f"{set_name}-{index}",
        question=question.strip(),
        answer=answer,
        solution=solution,
        source=set_name,
        split=split,
        meta=_row_meta(row, kind, index, orig_split, own, used),
    )


def _checked_answer(raw_answer: str, kind: str) -> str:
    """The gold without thousands separators, checked (a number for GSM-style sets)."""
    from mathlab.answers import GoldAnswerError, check_gold, parse_number

    answer = clean_number(raw_answer)
    if kind in _NUMERIC_KINDS and parse_number(answer) is None:
        raise SkipRow("non-numeric answer", repr(raw_answer), "answer")
    try:
        check_gold(answer)
    except GoldAnswerError as exc:
        raise SkipRow("unparseable gold", str(exc), "answer") from None
    return answer


def _row_meta(
    row: dict,
    kind: str,
    index: int,
    orig_split: str | None,
    own: dict[str, Any],
    used: set[str],
) -> dict[str, Any]:
    """kind, row, lang (and orig_split), the mapper's own fields, then every field of the
    row the mapper did not use, under its name (``orig_<name>`` where that is taken)."""
    meta: dict[str, Any] = {"kind": kind, "row": index, "lang": _LANG.get(kind, "en")}
    if orig_split:
        meta["orig_split"] = orig_split
    meta.update({k: v for k, v in own.items() if v is not None})
    for key, value in row.items():
        if key in used:
            continue
        meta[key if key not in meta else f"orig_{key}"] = _jsonable(value)
    return meta


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return str(value)
