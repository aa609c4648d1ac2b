"""Shared fixtures. Tests run on real components: the embedded model, tiny-random, papermill."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    """The converted embedded model folder (converted once into $MATHLAB_CACHE)."""
    from mathlab.models import convert_embedded

    return convert_embedded()


@pytest.fixture(scope="session")
def gsm8k_train_path() -> Path:
    """The real GSM8K training split, when this checkout has it beside it (never required)."""
    env = os.environ.get("MATHLAB_GSM8K_TRAIN")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
    if not path.is_file():
        pytest.skip(
            f"real GSM8K train split not found at {path} (set MATHLAB_GSM8K_TRAIN to use it)"
        )
    return path


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from more threads, and a shared CPU punishes them.

    Use per module: ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
