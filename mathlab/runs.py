"""A run folder: `runs/<name>/` with data, samples, models, metrics and figures.

Layout (DESIGN.md, "Runs")::

    params.yaml           resolved config of the run (written by the runner)
    provenance.json       git SHA, pip freeze, CPU, threads, times (runner)
    notebooks/            executed notebooks (runner)
    data/                 train.jsonl, test.jsonl, real/<set>.jsonl, card.md
    samples/              <stage>__<set>__<style>.jsonl
    models/<stage>/       save_pretrained folders or PEFT adapters
    metrics/NN_name.json  one file per notebook (schema below)
    figures/              PNG figures

Metrics schema: ``{notebook, preset, seed, wall_s, peak_rss_mb, evals: [...], details: {}}``
where each eval is ``{stage, model, dataset, style, n, k, accuracy, maj_at_k, pass_at_k,
mean_tokens, by_family, by_steps, ...}``. Every write is atomic (temp file + rename), so a
killed process never leaves a half-written file that a later step trusts.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

NOTEBOOK_PROVIDERS = {
    "data": "00_data",
    "evolve": "01_evolve",
    "sft": "02_sft",
    "rft": "03_rft",
    "reward_models": "04_reward_models",
    "ppo_dpo": "05_ppo_dpo",
    "rfft": "06_rfft",
}


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

    # folders
    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def models_dir(self) -> Path:
        return self.path / "models"

    @property
    def figures_dir(self) -> Path:
        return self.path / "figures"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics" / f"{self.notebook}.json"

    def samples_path(self, stage: str, dataset: str, style: str) -> Path:
        return self.samples_dir / f"{stage}__{dataset}__{style}.jsonl"

    # upstream artifacts
    def require(self, relpath: str | Path, provided_by: str | None = None) -> Path:
        """The path of an upstream artifact, or an error naming who provides it."""
        path = self.path / relpath
        if not path.exists():
            if provided_by is None:
                first = Path(relpath).parts[0]
                provided_by = {"data": "00_data", "evolve": "01_evolve"}.get(
                    first, "an earlier notebook"
                )
            raise MissingArtifact(
                f"{path} is missing: run notebook {provided_by} first into this run folder "
                f"({self.path}), e.g. `mathlab run --preset {self.preset or 'cpu'} "
                f"--run-dir {self.path} --only {provided_by[:2]}`"
            )
        return path

    # metrics
    def load_metrics(self) -> dict[str, Any]:
        if self.metrics_path.exists():
            return json.loads(self.metrics_path.read_text())
        return {
            "notebook": self.notebook,
            "preset": self.preset,
            "seed": self.seed,
            "wall_s": None,
            "peak_rss_mb": None,
            "evals": [],
            "details": {},
        }

    def _save_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.metrics_path, metrics)

    def reset_metrics(self) -> None:
        """Start this notebook's metrics afresh (setup does this once per execution)."""
        self.metrics_path.unlink(missing_ok=True)

    def add_eval(self, record: dict[str, Any]) -> None:
        """Add an eval record; one with the same stage/model/dataset/style/k is replaced."""
        metrics = self.load_metrics()
        key = tuple(record.get(k) for k in ("stage", "model", "dataset", "style", "k"))
        metrics["evals"] = [
            e
            for e in metrics["evals"]
            if tuple(e.get(k) for k in ("stage", "model", "dataset", "style", "k")) != key
        ] + [record]
        self._save_metrics(metrics)

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
