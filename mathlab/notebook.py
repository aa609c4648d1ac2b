"""The one setup call every notebook makes right after its `parameters` cell.

    cfg, run = setup("02_sft", preset=preset, run_dir=run_dir,
                     knobs={"sft.lr": lr}, overrides=overrides)

One override path, one precedence: **preset < parameters**. A notebook's parameters are
its named knobs (`lr = 1e-4` in the `parameters` cell: edited in JupyterLab, or papermill's
`-p lr 1e-4`) and its `overrides` dict of dotted config keys (what `mathlab run -p
sft.lr=1e-4` passes, or papermill's `-y "overrides: {sft.lr: 1e-4}"`). A key set both ways
to different values is an error that names both, never a silent winner.

It merges the preset with every non-None parameter (rejecting unknown keys and wrong
types), seeds everything from `cfg.seed`, sets torch threads, plot style and headless
progress, writes the resolved config to `run_dir/params/<notebook>.yaml`, and returns the
config and the Run (folders, metrics, figures). Call `run.finish()` in the last cell.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mathlab.config import Config, ConfigError, load_config, seed_everything
from mathlab.paths import default_run_dir
from mathlab.progress import quiet_libraries
from mathlab.runs import Run, atomic_write_text


def setup(
    notebook: str,
    preset: str | None = None,
    run_dir: str | Path | None = None,
    knobs: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Config, Run]:
    """`knobs`: the notebook's named parameters by config key ({"sft.lr": lr}; None means
    "the preset's value"); `overrides`: the `overrides` parameter, dotted keys (any config
    key). Both win over the preset; the same key given both ways must agree."""
    cfg = load_config(preset or "cpu", merge_parameters(knobs, overrides))
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


def merge_parameters(
    knobs: dict[str, Any] | None, overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """The notebook's knobs (None values dropped) and its `overrides`, as one dict; a key
    given both ways with different values raises ConfigError naming both."""
    merged = {k: v for k, v in (knobs or {}).items() if v is not None}
    for key, value in (overrides or {}).items():
        if key in merged and merged[key] != value:
            raise ConfigError(
                f"{key} is set twice: {merged[key]!r} by the notebook's parameter and "
                f"{value!r} in `overrides` (mathlab run -p): set it once"
            )
        merged[key] = value
    return merged


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
