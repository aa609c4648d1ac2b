"""The row contracts (docs/ARCHITECTURE.md, "Data contracts") and their JSONL form.

Problem: `id` (`<source>-<n>`), `question`, `answer` (a string: the canonical final
answer), `solution` (GSM8K style: one line per step with `<<expr=value>>` annotations,
then `#### N`), `source`, `split` (`train|dev|test`), `meta` (family, steps, lang,
program, parent_id, evolve_op, ...: any JSON-serializable dict).

Sample, Pair and StepLabels are the rows that sampling, preference and process-label
stages write. Every file goes through `write_jsonl` (validated, atomic) and comes back
through `read_jsonl` / `read_rows`, which validate each row and name the file, line and
field of anything wrong. With ``lenient=True`` a bad row is skipped and recorded with its
reason in ``.skipped``; nothing is dropped silently. The files load with
``datasets.load_dataset("json", data_files=path)``.

>>> p = Problem("gen-0", "Ann has 2 apples and buys 3. How many now?", "5", source="gen")
>>> p.validate()
>>> Problem.from_row({"id": "x-1", "question": "q", "answer": "5"}, check_answer=False).id
Traceback (most recent call last):
...
mathlab.data.records.RecordError: field 'solution': missing
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from types import UnionType
from typing import Any, ClassVar, TypeVar, get_args, get_origin, get_type_hints

from mathlab.runs import atomic_write_text

SPLITS = ("train", "dev", "test")
STYLES = ("cot", "pot", "hybrid", "tir", "calc", "rfft")


class RecordError(ValueError):
    """A row that breaks its contract; the message names file, line and field."""

    def __init__(
        self,
        reason: str,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        self.reason, self.path, self.line, self.field = reason, path, line, field
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        elif line is not None:
            where = f"row {line}: "
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}{what}{reason}")

    def at(self, path: str | Path | None, line: int | None) -> RecordError:
        """The same error, located in a file."""
        return RecordError(self.reason, path, line, self.field)

    @property
    def short(self) -> str:
        """`field 'x': reason` without the location (for skip reports)."""
        return f"field '{self.field}': {self.reason}" if self.field else self.reason


# --------------------------------------------------------------------------- validation
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    dict: "an object (dict)",
    list: "a list",
    type(None): "null",
}


def _typename(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:  # True is an int in Python, not here
        return False
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def check_json_value(value: Any, where: str) -> None:
    """Raise ValueError unless `value` is plain JSON (str/int/float/bool/None/list/dict).

    NaN and infinity are not JSON; dict keys must be strings.
    """
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which JSON cannot hold")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has a non-string key {key!r}")
            check_json_value(item, f"{where}.{key}")
        return
    raise ValueError(f"{where} is a {type(value).__name__}, which is not JSON-serializable")


def _check_row(row: Any, spec: dict[str, tuple[type, ...]], optional: dict[str, Any]) -> None:
    """Types and presence of every field; unknown fields are errors (put them in meta)."""
    if not isinstance(row, dict):
        raise RecordError(f"a row must be a JSON object, got {type(row).__name__}")
    for name, types in spec.items():
        if name not in row:
            if name in optional:
                continue
            raise RecordError("missing", field=name)
        if not _is_instance(row[name], types):
            raise RecordError(
                f"expected {_typename(types)}, got {row[name]!r:.80} ({type(row[name]).__name__})",
                field=name,
            )
    extra = sorted(set(row) - set(spec))
    if extra:
        raise RecordError(
            f"unknown field (expected only {', '.join(spec)}; extra data belongs in 'meta')",
            field=extra[0],
        )
    if "meta" in spec and "meta" in row:
        try:
            check_json_value(row["meta"], "meta")
        except ValueError as exc:
            raise RecordError(str(exc), field="meta") from None


def check_answer_field(answer: str) -> None:
    """The gold answer must parse (mathlab.answers.check_gold); else RecordError('answer')."""
    from mathlab.answers import GoldAnswerError, check_gold

    try:
        check_gold(answer)
    except GoldAnswerError as exc:
        raise RecordError(f"unparseable gold answer {answer!r}: {exc}", field="answer") from None


class _Row:
    """Shared JSON plumbing for the row dataclasses."""

    SPEC: ClassVar[dict[str, tuple[type, ...]]] = {}  # field -> accepted types (_with_spec)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def _optional(cls) -> dict[str, Any]:
        """Fields with a default may be absent from a row."""
        return {
            f.name: True
            for f in fields(cls)  # type: ignore[arg-type]
            if f.default is not MISSING or f.default_factory is not MISSING
        }

    def validate(self) -> None:
        _check_row(self.to_dict(), self.SPEC, {})

    @classmethod
    def from_row(cls, row: Any, **_: Any):
        """Validate a decoded JSON row and build the record (RecordError names the field)."""
        _check_row(row, cls.SPEC, cls._optional())
        return cls(**row)


_R = TypeVar("_R", bound=_Row)


def _json_types(hint: Any) -> tuple[type, ...]:
    """The types a row field accepts, from its annotation: ``str`` -> (str,),
    ``str | None`` -> (str, NoneType), ``dict[str, Any]`` -> (dict,)."""
    if isinstance(hint, UnionType):
        return tuple(t for arg in get_args(hint) for t in _json_types(arg))
    return (get_origin(hint) or hint,)


def _with_spec(cls: type[_R]) -> type[_R]:
    """Set a row dataclass's SPEC (field -> accepted types, in field order) from its
    annotations, so the contract is written once, in the fields."""
    hints = get_type_hints(cls)
    cls.SPEC = {f.name: _json_types(hints[f.name]) for f in fields(cls)}  # type: ignore[arg-type]
    return cls


# --------------------------------------------------------------------------- Problem
@_with_spec
@dataclass
class Problem(_Row):
    id: str
    question: str
    answer: str
    solution: str = ""
    source: str = ""
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Problem:
        """Build without validation, tolerating missing optional fields (trusted input)."""
        return cls(**{k: row[k] for k in cls.SPEC if k in row})

    def validate(self, check_answer: bool = True) -> None:
        """Raise RecordError naming the first field that breaks the contract."""
        _validate_problem(self.to_dict(), check_answer)

    @classmethod
    def from_row(cls, row: Any, check_answer: bool = True) -> Problem:
        """A strictly validated Problem from a decoded JSON row (all seven fields required)."""
        _validate_problem(row, check_answer)
        return cls(**row)


def _validate_problem(row: Any, check_answer: bool) -> None:
    _check_row(row, Problem.SPEC, {})
    if not row["id"].strip():
        raise RecordError("empty id", field="id")
    if not row["question"].strip():
        raise RecordError("empty question", field="question")
    if row["split"] not in SPLITS:
        raise RecordError(
            f"split must be one of {'|'.join(SPLITS)}, got {row['split']!r}", field="split"
        )
    if not row["answer"].strip():
        raise RecordError("empty gold answer", field="answer")
    if check_answer:
        check_answer_field(row["answer"])


# --------------------------------------------------------------------------- other rows
@_with_spec
@dataclass
class Sample(_Row):
    """One model completion for one problem (a line of samples/<stage>__<set>__<style>.jsonl)."""

    problem_id: str
    model: str
    style: str  # cot | pot | hybrid | tir | calc | rfft
    prompt: str
    completion: str
    pred: str | None  # extracted answer (None: nothing extractable)
    correct: bool
    n_tokens: int
    seed: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        _check_row(self.to_dict(), self.SPEC, {})
        if self.style not in STYLES:
            raise RecordError(
                f"style must be one of {'|'.join(STYLES)}, got {self.style!r}", field="style"
            )

    @classmethod
    def from_row(cls, row: Any, **_: Any) -> Sample:
        sample = super().from_row(row)
        sample.validate()
        return sample


@_with_spec
@dataclass
class Pair(_Row):
    """A preference pair for DPO / reward-model training."""

    prompt: str
    chosen: str
    rejected: str
    problem_id: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@_with_spec
@dataclass
class StepLabels(_Row):
    """A solution split into steps with one label per step (PRM training)."""

    prompt: str
    steps: list[str]
    labels: list[float]
    method: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        _check_row(self.to_dict(), self.SPEC, {})
        _check_steps(self.steps, self.labels)

    @classmethod
    def from_row(cls, row: Any, **_: Any) -> StepLabels:
        rec = super().from_row(row)
        _check_steps(rec.steps, rec.labels)
        return rec


def _check_steps(steps: list, labels: list) -> None:
    if not all(isinstance(s, str) for s in steps):
        raise RecordError("every step must be a string", field="steps")
    if not all(_is_instance(x, (float,)) for x in labels):
        raise RecordError("every label must be a number", field="labels")
    if len(steps) != len(labels):
        raise RecordError(f"{len(steps)} steps but {len(labels)} labels", field="labels")


# --------------------------------------------------------------------------- JSONL io
class RowList(list):
    """The rows read from a file (a list), plus what was skipped and why.

    `.skipped` is a list of ``(line, reason)``; `.path` the file read.
    """

    def __init__(
        self,
        rows: Iterable = (),
        skipped: list[tuple[int, str]] | None = None,
        path: str | Path | None = None,
    ):
        super().__init__(rows)
        self.skipped: list[tuple[int, str]] = skipped or []
        self.path = path

    @property
    def problems(self) -> list:
        return list(self)

    @property
    def rows(self) -> list:
        return list(self)


def write_jsonl(path: str | Path, records: Iterable[Any], check_answer: bool = True) -> Path:
    """Validate every record and write them as JSONL, atomically (temp file + rename).

    `records`: Problem / Sample / Pair / StepLabels objects (or plain dicts, written as
    given after a JSON check). A bad record raises RecordError naming its index and field,
    and nothing is written.
    """
    path = Path(path)
    lines = []
    for i, rec in enumerate(records):
        try:
            if isinstance(rec, Problem):
                rec.validate(check_answer=check_answer)
            elif isinstance(rec, _Row):
                rec.validate()
            row = rec.to_dict() if isinstance(rec, _Row) else rec
            if not isinstance(row, dict):
                raise RecordError(f"cannot write a {type(rec).__name__} as a JSONL row")
            try:
                lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
            except (TypeError, ValueError) as exc:
                check_json_value(row, "row")  # names the offending field
                raise RecordError(str(exc)) from None
        except (RecordError, ValueError) as exc:
            ident = getattr(rec, "id", None) or getattr(rec, "problem_id", None)
            label = f"record {i}" + (f" (id {ident!r})" if ident else "")
            fld = exc.field if isinstance(exc, RecordError) else None
            reason = exc.reason if isinstance(exc, RecordError) else str(exc)
            raise RecordError(
                f"{reason} (nothing written)", f"writing {path}: {label}", field=fld
            ) from None
    return atomic_write_text(path, "".join(line + "\n" for line in lines))


def read_rows(
    path: str | Path,
    cls: type = None,
    lenient: bool = False,  # type: ignore[assignment]
    **kwargs: Any,
) -> RowList:
    """Read a JSONL file of `cls` rows (default Problem), validating each line.

    Strict (default): the first bad line raises RecordError("<file>:<line>: field 'x': ...").
    Lenient: bad lines are skipped and listed in `.skipped` as (line, reason).
    Blank lines are ignored (they carry no row).
    """
    cls = cls or Problem
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rows, skipped = [], []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise RecordError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
                rows.append(cls.from_row(raw, **kwargs))
            except RecordError as exc:
                if not lenient:
                    raise exc.at(path, lineno) from None
                skipped.append((lineno, exc.short))
    return RowList(rows, skipped, path)


def read_jsonl(path: str | Path, lenient: bool = False, check_answer: bool = True) -> RowList:
    """Problems from a JSONL file written by `write_jsonl` (see `read_rows`).

    Returns a list of Problem with `.skipped` [(line, reason)] (empty unless lenient).
    `check_answer` validates each gold with mathlab.answers.check_gold.
    """
    return read_rows(path, Problem, lenient=lenient, check_answer=check_answer)
