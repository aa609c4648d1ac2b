"""Where things live: the repository, the cache, the default run folder."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the cwd.

    $MATHLAB_ROOT overrides it (a copy of the notebooks and params elsewhere).
    """
    env = os.environ.get("MATHLAB_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[1]
    if (here / "params").is_dir() and (here / "notebooks").is_dir():
        return here
    return Path.cwd().resolve()


def cache_dir() -> Path:
    """$MATHLAB_CACHE, default ~/.cache/mathlab: converted models and other derived files."""
    path = Path(os.environ.get("MATHLAB_CACHE") or Path.home() / ".cache" / "mathlab")
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_run_dir(preset: str) -> Path:
    return repo_root() / "runs" / preset
