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
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathlab.data.records import Problem, RecordError

KINDS = ("gsm8k", "math", "math500", "svamp", "asdiv", "cmath", "gsm_plus", "metamath_backward")

# kind -> (hub id, config, split) used for a bare name like "gsm8k".
HUB_DEFAULTS: dict[str, tuple[str, str | None, str]] = {
    "gsm8k": ("openai/gsm8k", "main", "test"),
    "math500": ("HuggingFaceH4/MATH-500", None, "test"),
    "math": ("EleutherAI/hendrycks_math", "algebra", "test"),
    "svamp": ("ChilleD/SVAMP", None, "test"),
    "gsm_plus": ("qintongli/GSM-Plus", None, "test"),
    "cmath": ("weitianwen/cmath", None, "test"),
}
# hub ids that need a config name
HUB_CONFIGS = {"openai/gsm8k": "main", "gsm8k": "main"}

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
_NUMERIC_KINDS = {"gsm8k", "svamp", "asdiv", "gsm_plus"}  # golds must be numbers
_LANG = {"cmath": "zh"}


class LoadError(ValueError):
    """A real set that cannot be loaded at all (missing file, hub unreachable, wrong kind)."""


class SkipRow(Exception):
    """One row that cannot become a Problem: ``code`` is the category, ``detail`` the rest."""

    def __init__(self, code: str, detail: str = "", field: str | None = None):
        self.code, self.detail, self.field = code, detail, field
        super().__init__(f"{code}: {detail}" if detail else code)


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
    from mathlab.answers import GoldAnswerError, check_gold, parse_number

    if not isinstance(row, dict):
        raise SkipRow("not an object", f"a row must be a JSON object, got {type(row).__name__}")
    question, answer, solution, own, used = MAPPERS[kind](row)
    raw_answer = answer
    answer = clean_number(answer)
    if kind in _NUMERIC_KINDS and parse_number(answer) is None:
        raise SkipRow("non-numeric answer", repr(raw_answer), "answer")
    try:
        check_gold(answer)
    except GoldAnswerError as exc:
        raise SkipRow("unparseable gold", str(exc), "answer") from None
    meta: dict[str, Any] = {"kind": kind, "row": index, "lang": _LANG.get(kind, "en")}
    if orig_split:
        meta["orig_split"] = orig_split
    if raw_answer != answer and "raw_answer" not in own:
        own["raw_answer"] = raw_answer
    meta.update({k: v for k, v in own.items() if v is not None})
    for key, value in row.items():  # every other field of the row, kept under its name
        if key in used:
            continue
        meta[key if key not in meta else f"orig_{key}"] = _jsonable(value)
    return Problem(
        id=f"{set_name}-{index}",
        question=question.strip(),
        answer=answer,
        solution=solution,
        source=set_name,
        split=split,
        meta=meta,
    )


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return str(value)


# --------------------------------------------------------------------------- readers
# A reader yields (where, record) pairs; a record is a dict or a SkipRow (unreadable row).
Record = tuple[str, Any]


def _read_jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {lineno}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {lineno}", SkipRow("invalid JSON", f"{exc.msg} at column {exc.colno}")


def _read_json(path: Path) -> Iterator[Record]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{") and "\n" in text.strip():  # JSONL named .json
            yield from _read_jsonl(path)
            return
        raise LoadError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
        elif {"problem", "question", "query", "Body"} & set(data):
            data = [data]
    if not isinstance(data, list):
        raise LoadError(f"{path}: expected a JSON array of rows, got {type(data).__name__}")
    for i, row in enumerate(data):
        yield f"item {i}", row


def _read_asdiv(path: Path) -> Iterator[Record]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise LoadError(f"{path}: not valid XML ({exc})") from None
    problems = root.iter("Problem")
    for i, node in enumerate(problems):
        row: dict[str, Any] = dict(node.attrib)
        for child in node:
            row[child.tag] = (child.text or "").strip()
        yield f"Problem {i} (ID={row.get('ID', '?')})", row


def _read_folder(path: Path) -> Iterator[Record]:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl", ".xml"))
    if not files:
        raise LoadError(f"{path}: a folder with no .json/.jsonl/.xml files")
    for file in files:
        rel = file.relative_to(path)
        if file.suffix == ".json":
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                yield str(rel), SkipRow("invalid JSON", f"{exc.msg} at line {exc.lineno}")
                continue
            if isinstance(data, list):
                for i, row in enumerate(data):
                    yield f"{rel} item {i}", row
            else:
                yield str(rel), data
        else:
            for where, rec in _read_file(file):
                yield f"{rel} {where}", rec


def _read_file(path: Path) -> Iterator[Record]:
    if path.is_dir():
        return _read_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _read_asdiv(path)
    if suffix == ".json":
        return _read_json(path)
    return _read_jsonl(path)


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


# --------------------------------------------------------------------------- the hub
_PROBE: dict[str, bool] = {}


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether huggingface.co:443 answers within `timeout` seconds (DNS included).

    False at once when HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set. The result is cached
    for the process. When the hub is unreachable, offline mode is switched on so that
    datasets/huggingface_hub use the local cache instead of retrying for minutes.
    """
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false") or os.environ.get(
        "HF_DATASETS_OFFLINE", "0"
    ) not in ("", "0", "false"):
        return False
    if "ok" in _PROBE:
        return _PROBE["ok"]
    result = {"ok": False}

    def probe() -> None:
        import socket

        try:
            with socket.create_connection(("huggingface.co", 443), timeout=timeout):
                result["ok"] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)  # bounds DNS resolution too
    _PROBE["ok"] = result["ok"]
    if not result["ok"]:
        _go_offline()
    return result["ok"]


def _go_offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    for module, attr in (
        ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
        ("datasets.config", "HF_HUB_OFFLINE"),
        ("datasets.config", "HF_DATASETS_OFFLINE"),
    ):
        import sys

        mod = sys.modules.get(module)
        if mod is not None and hasattr(mod, attr):
            setattr(mod, attr, True)


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """`owner/name[:config][@split]` (or a bare kind such as `gsm8k`) -> (id, config, split)."""
    split = "test"
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
    config = None
    if ":" in spec:
        spec, config = spec.split(":", 1)
    if spec in HUB_DEFAULTS:
        hub_id, default_config, _ = HUB_DEFAULTS[spec]
        return hub_id, config or default_config, split
    return spec, config or HUB_CONFIGS.get(spec), split


def _read_hub(set_name: str, spec: str) -> tuple[str, str, Iterator[Record]]:
    hub_id, config, split = parse_hub_spec(spec)
    reachable = hub_reachable()
    import datasets

    if not reachable:
        _go_offline()
    try:
        ds = datasets.load_dataset(hub_id, config, split=split)
    except Exception as exc:  # noqa: BLE001 - any failure becomes one clear message
        why = (
            "the Hugging Face hub is not reachable from this machine and the set is not in "
            "the local HF cache"
            if not reachable
            else f"{type(exc).__name__}: {exc}"
        )
        raise LoadError(
            f"real set '{set_name}': cannot load '{hub_id}' (config={config}, split={split}) "
            f"from the hub: {why} (and no local file or folder '{spec}' exists). Pass a local "
            f"file instead, e.g. real_sets: {{{set_name}: /path/to/{set_name}.jsonl}}"
        ) from None
    label = f"{hub_id}{':' + config if config else ''}@{split}"
    return label, split, ((f"row {i}", dict(row)) for i, row in enumerate(ds))


def _looks_like_hub(spec: str) -> bool:
    if spec in HUB_DEFAULTS:
        return True
    return bool(re.fullmatch(r"[\w.-]+/[\w.-]+(?::[\w.-]+)?(?:@[\w.\-\[\]:%]+)?", spec)) and not (
        spec.startswith((".", "/")) or Path(spec).suffix.lower() in (".jsonl", ".json", ".xml")
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
    spec = str(name_or_path)
    path = Path(spec).expanduser()
    if kind is not None and kind not in KINDS:
        raise LoadError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if limit is not None and limit < 1:
        raise LoadError(f"limit must be a positive number of rows, got {limit}")
    if path.exists():
        source, hub_id = str(path), None
        records = list(_read_file(path))
        stem = path.stem.lower()
        orig_split = next((s for s in ("train", "test", "dev", "validation") if s in stem), None)
    elif _looks_like_hub(spec):
        source, orig_split, rows = _read_hub(name or kind or kind_from_name(spec) or spec, spec)
        hub_id, path = spec, None
        records = list(rows)
    else:
        raise LoadError(
            f"real set {name or spec!r}: {spec} does not exist (pass a local file "
            f"or folder, or a hub id such as openai/gsm8k)"
        )
    kind = kind or _infer_kind(name, path, hub_id, records)
    set_name = name or kind
    report = LoadReport(name=set_name, kind=kind, source=source, n_rows=len(records), limit=limit)

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
            kept.append((index, to_problem(rec, kind, set_name, index, split, orig_split)))
        except SkipRow as exc:
            if strict:
                raise RecordError(
                    f"{exc.code}: {exc.detail}" if exc.detail else exc.code,
                    source,
                    where,
                    exc.field,
                ) from None
            report.add_skip(where, exc)
    kept.sort(key=lambda t: t[0])
    problems = [p for _, p in kept]
    report.n_loaded = len(problems)
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
