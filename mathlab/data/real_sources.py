"""Where a real set's rows come from: local files and folders, or the Hugging Face hub.

A reader yields ``(where, record)`` pairs, ``where`` saying which line, item or file a
record came from and ``record`` a raw row (a dict) or a :class:`SkipRow` for a row that
could not even be read (invalid JSON). Local files: JSONL, JSON (an array, a dict holding
one list, or JSONL named ``.json``), ASDiv's XML and MATH's folder of one JSON per
problem. The hub: :func:`hub_reachable` probes huggingface.co once (2 s) and switches the
hub to offline mode when it does not answer, so a set that is not in the local cache
fails at once with a message saying to pass a local path.
"""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mathlab.data.real_formats import SkipRow

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


class LoadError(ValueError):
    """A real set that cannot be loaded at all (missing file, hub unreachable, wrong kind)."""


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
            for where, rec in read_file(file):
                yield f"{rel} {where}", rec


def read_file(path: Path) -> Iterator[Record]:
    """The records of a local file or folder, by its suffix (.xml, .json, else JSONL)."""
    if path.is_dir():
        return _read_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _read_asdiv(path)
    if suffix == ".json":
        return _read_json(path)
    return _read_jsonl(path)


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


def read_hub(set_name: str, spec: str) -> tuple[str, str, Iterator[Record]]:
    """A hub set's records: (``id[:config]@split``, split, records); LoadError naming the
    set when it cannot be loaded."""
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


def looks_like_hub(spec: str) -> bool:
    """Whether ``spec`` reads as a hub id (``owner/name[:config][@split]`` or a bare kind)."""
    if spec in HUB_DEFAULTS:
        return True
    return bool(re.fullmatch(r"[\w.-]+/[\w.-]+(?::[\w.-]+)?(?:@[\w.\-\[\]:%]+)?", spec)) and not (
        spec.startswith((".", "/")) or Path(spec).suffix.lower() in (".jsonl", ".json", ".xml")
    )
