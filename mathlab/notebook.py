"""The one setup call every notebook makes right after its `parameters` cell.

    cfg, run = setup("02_sft", preset=preset, run_dir=run_dir, overrides={"sft.lr": lr},
                     extra=overrides)

It merges the preset with every non-None override (rejecting unknown keys and wrong
types), seeds everything from `cfg.seed`, sets torch threads, plot style and headless
progress, writes the resolved config to `run_dir/params/<notebook>.yaml`, and returns the
config and the Run (folders, metrics, figures). Call `run.finish()` in the last cell.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mathlab.config import Config, load_config, seed_everything
from mathlab.paths import default_run_dir
from mathlab.progress import quiet_libraries
from mathlab.runs import Run, atomic_write_text


def setup(
    notebook: str,
    preset: str | None = None,
    run_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Config, Run]:
    """`overrides`: the notebook's own knobs ({"sft.lr": lr}, None values ignored);
    `extra`: the `overrides` parameter the runner injects for `mathlab run -p key=value`
    (any config key). The knobs win over `extra`, which wins over the preset."""
    preset = preset or os.environ.get("MATHLAB_PRESET") or "cpu"
    if extra is None:  # the runner also passes its -p overrides through the environment
        extra = json.loads(os.environ.get("MATHLAB_OVERRIDES") or "{}")
    merged = dict(extra)
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    cfg = load_config(preset, merged)
    seed_everything(cfg.seed)
    _set_threads(cfg.threads)
    quiet_libraries()
    _plot_style()
    run = Run(
        run_dir or default_run_dir(cfg.preset), notebook=notebook, preset=cfg.preset, seed=cfg.seed
    )
    run.reset_metrics()
    atomic_write_text(run.path / "params" / f"{notebook}.yaml", cfg.to_yaml())
    print(f"{notebook}: preset={cfg.preset} seed={cfg.seed} model={cfg.model} run_dir={run.path}")
    return cfg, run


def _set_threads(threads: int | None) -> None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(threads or os.cpu_count() or 1)


def _plot_style() -> None:
    try:
        import matplotlib

        if os.environ.get("MATHLAB_HEADLESS") == "1":
            matplotlib.use("Agg")
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="notebook")
    except ImportError:  # pragma: no cover
        pass
