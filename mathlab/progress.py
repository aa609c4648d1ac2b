"""Progress bars that are quiet and line-friendly when headless.

Interactive (a terminal or JupyterLab): a normal tqdm bar. Headless (the runner sets
MATHLAB_HEADLESS=1 for papermill kernels; also any non-terminal stdout outside Jupyter):
one plain line at start, then at most one line every `MATHLAB_PROGRESS_EVERY` seconds
(default 30) and one at the end — no carriage returns in logs or notebook outputs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tqdm.auto import tqdm as _tqdm


def headless() -> bool:
    flag = os.environ.get("MATHLAB_HEADLESS")
    if flag is not None:
        return flag not in ("", "0", "false")
    if "ipykernel" in sys.modules:
        return False
    return not sys.stdout.isatty()


class LineProgress:
    """A minimal tqdm-compatible progress reporter that prints whole lines."""

    def __init__(
        self,
        iterable: Iterable | None = None,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        every: float | None = None,
        **_: Any,
    ):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total, self.desc, self.unit = total, desc or "progress", unit
        self.every = (
            every if every is not None else float(os.environ.get("MATHLAB_PROGRESS_EVERY", 30))
        )
        self.n = 0
        self.start = self.last = time.time()
        self.postfix = ""
        self.closed = False
        print(f"{self.desc}: start ({total if total is not None else '?'} {unit})", flush=True)

    def __iter__(self) -> Iterator:
        for item in self.iterable or []:
            yield item
            self.update(1)
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs) -> None:
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items.items()
        )

    def set_description(self, desc: str, refresh: bool = True) -> None:
        self.desc = desc

    def _line(self, final: bool = False) -> str:
        elapsed = time.time() - self.start
        frac = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        rate = self.n / elapsed if elapsed > 0 else 0.0
        eta = ""
        if self.total and rate > 0 and not final:
            eta = f", eta {(self.total - self.n) / rate:.0f}s"
        tail = f" | {self.postfix}" if self.postfix else ""
        word = "done" if final else "at"
        return f"{self.desc}: {word} {self.n}/{self.total or '?'}{frac} in {elapsed:.0f}s ({rate:.3g} {self.unit}/s{eta}){tail}"

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.time()
        if now - self.last >= self.every:
            self.last = now
            print(self._line(), flush=True)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            print(self._line(final=True), flush=True)


def progress(
    iterable: Iterable | None = None, total: int | None = None, desc: str = "", **kwargs: Any
):
    """tqdm when interactive, LineProgress when headless. Use like tqdm."""
    if headless():
        return LineProgress(iterable, total=total, desc=desc, **kwargs)
    return _tqdm(iterable, total=total, desc=desc, **kwargs)


def quiet_libraries() -> None:
    """Silence the per-step bars of transformers/datasets/huggingface_hub when headless."""
    if not headless():
        return
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_MININTERVAL", "30")
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
