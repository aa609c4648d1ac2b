"""A run folder: `runs/<name>/` with data, samples, models, metrics and figures.

Layout (docs/ARCHITECTURE.md, "The run folder")::

    params.yaml           resolved config of the run (written by the runner)
    provenance.json       git SHA, pip freeze, CPU, threads, times (runner)
    notebooks/            executed notebooks (runner)
    params/<notebook>.yaml  the config each notebook resolved
    data/                 train.jsonl, test.jsonl, real/<set>.jsonl, card.md
    samples/              <stage>__<set>__<style>.jsonl
    models/<stage>/       save_pretrained folders or PEFT adapters
    metrics/NN_name.json  one file per notebook (the contract: mathlab.metrics)
    figures/              PNG figures, <notebook>__<name>.png

Every write is atomic (temp file + rename), so a killed process never leaves a half-written
file that a later step trusts. `collect(run_dir)` reads every notebook's metrics back as
tables (evals, comparisons) for the analysis and the report.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathlab import registry
from mathlab.metrics import (
    EVAL_KEY,
    Comparison,
    MetricsError,
    empty_metrics,
    validate_comparison,
    validate_eval,
    validate_metrics,
)


class MissingArtifact(FileNotFoundError):
    """An upstream file is missing; the message names the notebook that provides it."""


# --------------------------------------------------------------------------- atomic io
def atomic_write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(
        path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"
    )


def stable_hash(obj: Any) -> str:
    """A short hash of any JSON-able object (keys sorted): cache keys for stages."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and waited-for children), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


# --------------------------------------------------------------------------- the run
def samples_file(run_dir: str | Path, stage: str, dataset: str, style: str) -> Path:
    """Where a run folder keeps one stage's samples on one set in one decoding style."""
    return Path(run_dir) / "samples" / f"{stage}__{dataset}__{style}.jsonl"


def _folder(name: str) -> property:
    """A read-only property: the run folder's subfolder `name`."""
    return property(lambda self: self.path / name, doc=f"RUN_DIR/{name}/")


class Run:
    """One run folder, seen from one notebook (`notebook` like "02_sft")."""

    def __init__(self, path: str | Path, notebook: str = "", preset: str = "", seed: int = 0):
        self.path = Path(path).resolve()
        self.notebook = notebook
        self.preset = preset
        self.seed = seed
        self.started = time.time()
        for sub in ("data", "samples", "models", "metrics", "figures"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, notebook={self.notebook!r})"

    # folders (created with the run)
    data_dir = _folder("data")
    samples_dir = _folder("samples")
    models_dir = _folder("models")
    figures_dir = _folder("figures")

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics" / f"{self.notebook}.json"

    def samples_path(self, stage: str, dataset: str, style: str) -> Path:
        return samples_file(self.path, stage, dataset, style)

    # upstream artifacts
    def require(self, relpath: str | Path, provided_by: str | None = None) -> Path:
        """The path of an upstream artifact, or an error naming who provides it."""
        path = self.path / relpath
        if not path.exists():
            if provided_by is None:
                provided_by = registry.provider_of(str(relpath)) or "an earlier notebook"
            raise MissingArtifact(
                f"{path} is missing: run notebook {provided_by} first into this run folder "
                f"({self.path}), e.g. `mathlab run --preset {self.preset or 'cpu'} "
                f"--run-dir {self.path} --only {provided_by[:2]}`"
            )
        return path

    # metrics
    def load_metrics(self) -> dict[str, Any]:
        if self.metrics_path.exists():
            metrics = json.loads(self.metrics_path.read_text())
            metrics.setdefault("comparisons", [])
            return metrics
        return empty_metrics(self.notebook, self.preset, self.seed)

    def _save_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.metrics_path, metrics)

    def reset_metrics(self) -> None:
        """Start this notebook's metrics afresh (setup does this once per execution)."""
        self.metrics_path.unlink(missing_ok=True)

    def add_eval(self, record: dict[str, Any]) -> None:
        """Add an eval record (checked against mathlab.metrics' contract first); one with
        the same stage/model/dataset/style/k is replaced."""
        validate_eval(record, f"{self.metrics_path.name}: new eval record")
        metrics = self.load_metrics()
        key = tuple(record.get(k) for k in EVAL_KEY)
        metrics["evals"] = [
            e for e in metrics["evals"] if tuple(e.get(k) for k in EVAL_KEY) != key
        ] + [record]
        self._save_metrics(metrics)

    def add_comparison(self, comparison: Comparison | dict[str, Any]) -> dict[str, Any]:
        """Add a paired comparison of two stages; one for the same a/b/dataset is replaced."""
        if isinstance(comparison, Comparison):
            comparison = comparison.to_dict()
        validate_comparison(comparison, f"{self.metrics_path.name}: new comparison")
        metrics = self.load_metrics()
        key = (comparison["a"], comparison["b"], comparison["dataset"])
        metrics["comparisons"] = [
            c for c in metrics["comparisons"] if (c["a"], c["b"], c["dataset"]) != key
        ] + [comparison]
        self._save_metrics(metrics)
        return comparison

    def set_details(self, **details: Any) -> None:
        metrics = self.load_metrics()
        metrics["details"].update(details)
        self._save_metrics(metrics)

    def finish(self, **details: Any) -> dict[str, Any]:
        """Record wall time and peak memory; returns the metrics written."""
        metrics = self.load_metrics()
        metrics["details"].update(details)
        metrics.update(
            notebook=self.notebook,
            preset=self.preset,
            seed=self.seed,
            wall_s=round(time.time() - self.started, 1),
            peak_rss_mb=peak_rss_mb(),
        )
        validate_metrics(metrics, str(self.metrics_path))
        self._save_metrics(metrics)
        return metrics

    # figures
    def savefig(self, fig, name: str, dpi: int = 120) -> Path:
        """Save a matplotlib/seaborn figure as figures/<notebook>__<name>.png."""
        stem = f"{self.notebook}__{name}" if self.notebook else name
        path = self.figures_dir / f"{stem}.png"
        fig = getattr(fig, "figure", fig)  # accept seaborn grids and axes
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        return path


# --------------------------------------------------------------------------- reading a run
@dataclass
class RunResults:
    """Every notebook's metrics of one run folder (`collect`)."""

    run_dir: Path
    metrics: dict[str, dict[str, Any]]  # notebook -> its metrics file, validated

    def evals(self):
        """One row per eval record (breakdowns and per-sample lists left out), as a DataFrame."""
        import pandas as pd

        skip = {"by_family", "by_steps", "by_source", "pass_curve", "samples"}
        rows = [
            {"notebook": name, **{k: v for k, v in r.items() if k not in skip}}
            for name, m in self.metrics.items()
            for r in m["evals"]
        ]
        return pd.DataFrame(rows)

    def comparisons(self):
        """One row per paired comparison, with its verdict, as a DataFrame."""
        import pandas as pd

        rows = []
        for name, m in self.metrics.items():
            for c in m.get("comparisons", []):
                row = {k: v for k, v in c.items() if k != "extra"}
                rows.append({"notebook": name, **row})
        return pd.DataFrame(rows)

    def details(self, notebook: str) -> dict[str, Any]:
        return self.metrics[registry.notebook(notebook).name]["details"]

    def times(self):
        """Wall time and peak memory per notebook, as a DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            [
                {"notebook": n, "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"]}
                for n, m in self.metrics.items()
            ]
        )


def collect(run_dir: str | Path) -> RunResults:
    """Read and validate `run_dir/metrics/*.json`, in the registry's notebook order.

    A file that breaks the contract raises MetricsError naming the file and field; a
    notebook that did not run is simply absent."""
    run_dir = Path(run_dir)
    if not (run_dir / "metrics").is_dir():
        raise MissingArtifact(f"{run_dir / 'metrics'} is missing: not a run folder")
    order = {spec.name: i for i, spec in enumerate(registry.NOTEBOOKS)}
    paths = sorted(
        (run_dir / "metrics").glob("*.json"), key=lambda p: (order.get(p.stem, 99), p.stem)
    )
    metrics = {}
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise MetricsError(f"{path}: not valid JSON ({exc})") from None
        data.setdefault("comparisons", [])
        metrics[path.stem] = validate_metrics(data, str(path))
    return RunResults(run_dir.resolve(), metrics)
