r"""Real math sets mapped onto the Problem contract, with a report of every skipped row.

One entry point, :func:`load_real`, reads a local file (or folder) or, where the machine
reaches the Hugging Face hub, a hub dataset, and returns ``(problems, LoadReport)``:

==================  ==================================================================
kind                format (fields of one row)
==================  ==================================================================
gsm8k               JSONL ``question``, ``answer`` = solution with ``<<a*b=c>>``, ``#### N``
math / math500      JSONL/JSON ``problem``, ``solution`` (last ``\boxed{}`` = answer) and
                    ``type``/``level`` (MATH) or ``answer``, ``subject``, ``level``,
                    ``unique_id`` (MATH-500); also MATH's folder of one-JSON-per-problem
svamp               JSON array of ``ID``, ``Body``, ``Question``, ``Equation``, ``Answer`` (float)
asdiv               XML ``<Problem ID=..><Body/><Question/><Solution-Type/><Answer>9 (apples)
                    </Answer><Formula/></Problem>``
cmath               JSONL ``id``, ``grade``, ``input`` or ``question``, ``golden`` (``2/6`` kept)
gsm_plus            JSONL ``question``, ``solution``, ``answer``, ``perturbation_type``,
                    ``seed_question``, ``seed_solution``, ``seed_answer``
metamath_backward   JSONL, per row either ``query``/``response`` (MetaMathQA, response ends
                    ``The answer is: N``) or ``question``/``answer`` (a number or ``#### N``)
==================  ==================================================================

Every row becomes ``Problem(id="<set>-<n>", question, answer, solution, source=<set>,
split="test", meta)`` where ``n`` is the row's position in the file, ``answer`` is the
final answer as given (thousands separators in groups of three removed: ``2,125`` ->
``2125``; floats written without a useless ``.0``; unreduced fractions kept) and ``meta``
keeps every other field of the row under its own name, plus ``kind``, ``row``, ``lang``,
``source_id`` (the set's own id), ``raw_answer`` (when the answer was rewritten) and
``steps`` (where the format says).

Each gold answer is validated with :func:`mathlab.answers.check_gold` (GSM-style sets
also require a number). A row that cannot be used (invalid JSON, a missing field, no or
an unparseable gold answer, ...) is skipped and recorded in the LoadReport with where it
was and why (``strict=True`` raises instead, naming file, line and field). Nothing is
dropped silently; a file in which no row can be used is an error.

Hub names (``openai/gsm8k``, ``HuggingFaceH4/MATH-500``, or a bare ``gsm8k``) load with
``datasets.load_dataset`` only when a 2-second probe reaches huggingface.co; otherwise the
hub is switched to offline mode (the local HF cache still works) and a set that is not
cached gives an error that names it and says to pass a local path.

This module holds the entry point, the kinds and the LoadReport; each format's row
mapper is in :mod:`mathlab.data.real_formats`, the file readers and the hub access in
:mod:`mathlab.data.real_sources` (their public names are importable from here too).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathlab.data.real_formats import (
    MAPPERS,
    SkipRow,
    clean_number,
    format_float,
    last_boxed,
    to_problem,
)
from mathlab.data.real_sources import (
    HUB_CONFIGS,
    HUB_DEFAULTS,
    LoadError,
    Record,
    hub_reachable,
    looks_like_hub,
    parse_hub_spec,
    read_file,
    read_hub,
)
from mathlab.data.records import Problem, RecordError

__all__ = [
    "HUB_CONFIGS",
    "HUB_DEFAULTS",
    "KINDS",
    "MAPPERS",
    "LoadError",
    "LoadReport",
    "SkipRow",
    "clean_number",
    "format_float",
    "hub_reachable",
    "kind_from_name",
    "last_boxed",
    "load_real",
    "parse_hub_spec",
    "sniff_kind",
    "to_problem",
]

KINDS = ("gsm8k", "math", "math500", "svamp", "asdiv", "cmath", "gsm_plus", "metamath_backward")

# name patterns -> kind, most specific first (gsm_plus before gsm8k, cmath before math)
_NAME_PATTERNS = [
    ("gsm_plus", r"gsm[-_ ]?plus"),
    ("metamath_backward", r"metamath|fobar|backward"),
    ("math500", r"math[-_ ]?500"),
    ("cmath", r"cmath"),
    ("asdiv", r"asdiv"),
    ("svamp", r"svamp"),
    ("gsm8k", r"gsm"),
    ("math", r"(?:^|[^a-z])math(?:$|[^a-z])|hendrycks|competition[-_]math"),
]


# --------------------------------------------------------------------------- the report
@dataclass
class LoadReport:
    """What a load read, kept and skipped (with where and why)."""

    name: str
    kind: str
    source: str  # the file path or hub id
    n_rows: int = 0  # rows in the source (all of them, good or bad)
    n_examined: int = 0  # rows mapped (fewer than n_rows when `limit` stopped early)
    n_loaded: int = 0
    limit: int | None = None
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (where, code, detail)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    @property
    def reasons(self) -> dict[str, int]:
        """Skip counts per reason category."""
        return dict(Counter(code for _, code, _ in self.skipped).most_common())

    def add_skip(self, where: str, exc: SkipRow) -> None:
        self.skipped.append((where, exc.code, exc.detail))

    def summary(self) -> str:
        part = f", {self.n_examined} examined (limit {self.limit})" if self.limit else ""
        line = f"{self.name} [{self.kind}] from {self.source}: {self.n_rows} rows{part}, "
        line += f"{self.n_loaded} loaded, {self.n_skipped} skipped"
        if self.skipped:
            line += " (" + "; ".join(f"{k}: {v}" for k, v in self.reasons.items()) + ")"
        return line

    def to_dict(self, max_examples: int = 20) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "n_rows": self.n_rows,
            "n_examined": self.n_examined,
            "n_loaded": self.n_loaded,
            "n_skipped": self.n_skipped,
            "limit": self.limit,
            "reasons": self.reasons,
            "skipped": [
                {"where": w, "reason": c, "detail": d} for w, c, d in self.skipped[:max_examples]
            ],
        }

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------- kinds
def kind_from_name(name: str | None) -> str | None:
    """The kind a name suggests (`gsm8k_test` -> gsm8k, `MATH-500` -> math500), or None."""
    if not name:
        return None
    low = name.lower()
    for kind, pattern in _NAME_PATTERNS:
        if re.search(pattern, low):
            return kind
    return None


def sniff_kind(row: dict) -> str | None:
    """The kind a row's fields suggest, or None."""
    keys = set(row)
    if "perturbation_type" in keys:
        return "gsm_plus"
    if {"query", "response"} <= keys:
        return "metamath_backward"
    if "problem" in keys and ("solution" in keys or "answer" in keys):
        return "math500" if "answer" in keys else "math"
    if {"Body", "Question"} <= keys:
        return "svamp"
    if "golden" in keys:
        return "cmath"
    if {"question", "answer"} <= keys:
        answer = row["answer"]
        return "gsm8k" if isinstance(answer, str) and "####" in answer else "metamath_backward"
    return None


def _infer_kind(
    set_name: str | None, path: Path | None, hub_id: str | None, records: list[Record]
) -> str:
    candidates = [set_name]
    if path is not None:
        candidates += [path.stem, path.name if path.is_dir() else path.parent.name]
    candidates.append(hub_id)
    for cand in candidates:
        kind = kind_from_name(cand)
        if kind:
            return kind
    if path is not None and path.suffix.lower() == ".xml":
        return "asdiv"
    for _, rec in records[:20]:
        if isinstance(rec, dict):
            kind = sniff_kind(rec)
            if kind:
                return kind
    raise LoadError(
        f"cannot tell which kind of set {path or hub_id} is from its name or its "
        f"rows; pass kind= one of {', '.join(KINDS)}"
    )


# --------------------------------------------------------------------------- entry point
def load_real(
    name_or_path: str | Path,
    kind: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    name: str | None = None,
    split: str = "test",
    strict: bool = False,
) -> tuple[list[Problem], LoadReport]:
    """Load a real set from a local file/folder or the hub: ``(problems, report)``.

    name_or_path: a file (.jsonl/.json/.xml), a folder (MATH layout), a hub id
        (``owner/name[:config][@split]``) or a bare kind (``gsm8k``, ``math500``, ...).
    kind: one of KINDS; inferred from `name`, the file name, its folder, the hub id or the
        rows' fields when None.
    limit: keep at most this many rows, a seeded random subset (file order kept).
    name: the set's name (ids ``<name>-<n>``, source ``<name>``); default: the kind.
    split: the Problem split (``test``: real sets are evaluation sets here); the file's
        own split, when known, is kept in ``meta.orig_split``.
    strict: raise on the first bad row (file, line and field) instead of skipping it.
    """
    if kind is not None and kind not in KINDS:
        raise LoadError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if limit is not None and limit < 1:
        raise LoadError(f"limit must be a positive number of rows, got {limit}")
    source, path, hub_id, orig_split, records = _read_records(str(name_or_path), kind, name)
    kind = kind or _infer_kind(name, path, hub_id, records)
    set_name = name or kind
    report = LoadReport(name=set_name, kind=kind, source=source, n_rows=len(records), limit=limit)
    problems = _map_records(records, report, split, orig_split, seed, strict)
    if records and not problems:
        top = "; ".join(f"{w}: {c} {d}" for w, c, d in report.skipped[:3])
        raise LoadError(
            f"real set '{set_name}' ({source}) as kind '{kind}': none of its "
            f"{len(records)} rows could be used ({top}). Is it really {kind}? "
            f"Pass kind= one of {', '.join(KINDS)}"
        )
    if not records:
        raise LoadError(f"real set '{set_name}' ({source}) has no rows")
    return problems, report


def _read_records(
    spec: str, kind: str | None, name: str | None
) -> tuple[str, Path | None, str | None, str | None, list[Record]]:
    """Every record of a local file/folder or a hub set: (source, path, hub id, its own
    split when the name says, records)."""
    path = Path(spec).expanduser()
    if path.exists():
        stem = path.stem.lower()
        orig_split = next((s for s in ("train", "test", "dev", "validation") if s in stem), None)
        return str(path), path, None, orig_split, list(read_file(path))
    if looks_like_hub(spec):
        source, orig_split, rows = read_hub(name or kind or kind_from_name(spec) or spec, spec)
        return source, None, spec, orig_split, list(rows)
    raise LoadError(
        f"real set {name or spec!r}: {spec} does not exist (pass a local file "
        f"or folder, or a hub id such as openai/gsm8k)"
    )


def _map_records(
    records: list[Record],
    report: LoadReport,
    split: str,
    orig_split: str | None,
    seed: int,
    strict: bool,
) -> list[Problem]:
    """Map the records (a seeded subset of ``report.limit`` when set) to Problems, in file
    order; a bad one is recorded in the report (``strict``: raised as a RecordError)."""
    limit = report.limit
    order = list(range(len(records)))
    if limit is not None and limit < len(records):
        random.Random(seed).shuffle(order)
    kept: list[tuple[int, Problem]] = []
    for index in order:
        if limit is not None and len(kept) >= limit:
            break
        where, rec = records[index]
        report.n_examined += 1
        try:
            if isinstance(rec, SkipRow):
                raise rec
            problem = to_problem(rec, report.kind, report.name, index, split, orig_split)
            kept.append((index, problem))
        except SkipRow as exc:
            if strict:
                raise RecordError(
                    f"{exc.code}: {exc.detail}" if exc.detail else exc.code,
                    report.source,
                    where,
                    exc.field,
                ) from None
            report.add_skip(where, exc)
    kept.sort(key=lambda t: t[0])
    problems = [p for _, p in kept]
    report.n_loaded = len(problems)
    return problems
