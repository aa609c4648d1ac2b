"""The fast sampler's one C kernel: decode attention, built once per machine and cached.

Decode attention is memory-bound: every step reads each sequence's whole K/V cache. Torch's
batched matmuls read it at about half the memory bandwidth (hundreds of tiny products per
layer, a softmax over a padded span), which made attention a third of a decode step at
batch 128. ``_decode_attention.c`` reads each (sequence, kv head)'s cache once for all the
query heads that share it.

It is compiled with the machine's C compiler (``$CC``, else ``cc``/``gcc``/``clang``) into
``$MATHLAB_CACHE/kernels/`` under a name that hashes the source, the compiler, its flags and
the CPU (``-march=native`` code must not run on another CPU), atomically. Where there is no
compiler, the build fails or ``MATHLAB_KERNELS=0`` is set, :func:`decode_attention` returns
None and the engine uses torch's matmuls (same results within float rounding), saying so
once.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import threading
from pathlib import Path

SOURCE = Path(__file__).with_name("_decode_attention.c")
FLAGS = [
    "-O3",
    "-fno-math-errno",
    "-fassociative-math",
    "-fno-signed-zeros",
    "-fno-trapping-math",
    "-fno-strict-aliasing",
    "-fPIC",
    "-shared",
]
ENV = "MATHLAB_KERNELS"
MAX_GROUP = 64  # query heads per kv head the kernel handles (its stack array)

_lock = threading.Lock()
_loaded: dict[str, object] = {}
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _cpu_key() -> str:
    from mathlab.precision import cpu_precision

    info = cpu_precision(probe=False)
    return f"{platform.machine()}|{info.cpu_model}|{' '.join(info.flags)}"


def _build(compiler: str, target: Path) -> str | None:
    """Compile into `target` (atomically); an error message, or None on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    last = ""
    for arch in (["-march=native"], []):
        cmd = [compiler, *FLAGS, *arch, str(SOURCE), "-o", str(tmp)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            last = f"{' '.join(cmd)}: {exc}"
            continue
        if proc.returncode == 0:
            os.replace(tmp, target)
            return None
        last = f"{' '.join(cmd)}: {proc.stderr.strip()[-300:]}"
    tmp.unlink(missing_ok=True)
    return last


class DecodeAttention:
    """``kernel(q, k_layer, v_layer, slots, lens, out, scale)`` on fp32 CPU tensors (int64
    slots and lens; see the C source for the shapes); splits the work over torch's thread
    count (at most 2 here)."""

    def __init__(self, lib: ctypes.CDLL, path: Path):
        fn = lib.mathlab_decode_attention
        fn.restype = None
        i64, ptr = ctypes.c_int64, ctypes.c_void_p
        fn.argtypes = [
            ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, i64, i64, ctypes.c_float, i64, i64, ptr
        ]  # fmt: skip
        self._fn, self.path = fn, path
        self._scratch: dict[int, object] = {}

    def _buffer(self, worker: int, size: int):
        import torch

        buf = self._scratch.get(worker)
        if buf is None or buf.numel() < size:
            buf = self._scratch[worker] = torch.empty(size, dtype=torch.float32)
        return buf

    def __call__(self, q, k, v, slots, lens, out, scale: float) -> None:
        import torch

        n, kv_heads, group, head_dim = q.shape
        capacity = k.shape[2]
        items = n * kv_heads
        scratch_size = (group + 1) * capacity  # scores, then exponent bits
        args = (
            q.data_ptr(), k.data_ptr(), v.data_ptr(), slots.data_ptr(), lens.data_ptr(),
            out.data_ptr(),
            kv_heads, group, head_dim, capacity, float(scale),
        )  # fmt: skip
        threads = min(torch.get_num_threads(), 2, items)
        if threads <= 1:
            self._fn(*args, 0, items, self._buffer(0, scratch_size).data_ptr())
            return
        half = items // 2
        other = _worker_pool().submit(
            self._fn, *args, half, items, self._buffer(1, scratch_size).data_ptr()
        )
        self._fn(*args, 0, half, self._buffer(0, scratch_size).data_ptr())
        other.result()


def _worker_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mathlab-attn")
    return _pool


def decode_attention(verbose: bool = True) -> DecodeAttention | None:
    """The compiled kernel (built on first use), or None where it is unavailable; the
    reason is printed once."""
    with _lock:
        if "kernel" in _loaded:
            return _loaded["kernel"]  # type: ignore[return-value]
        kernel, why = None, None
        if os.environ.get(ENV, "1") in ("0", "false", "no", "off"):
            why = f"{ENV}=0"
        elif not SOURCE.is_file():
            why = f"{SOURCE} is missing from this installation"
        elif (compiler := _compiler()) is None:
            why = "no C compiler (cc, gcc or clang; or set CC)"
        else:
            from mathlab.paths import cache_dir

            version = subprocess.run(
                [compiler, "--version"], capture_output=True, text=True
            ).stdout.splitlines()[:1]
            key = hashlib.sha256(
                "\n".join([SOURCE.read_text(), compiler, *version, *FLAGS, _cpu_key()]).encode()
            ).hexdigest()[:16]
            target = cache_dir() / "kernels" / f"decode_attention-{key}.so"
            if not target.is_file():
                why = _build(compiler, target)
            if why is None:
                try:
                    kernel = DecodeAttention(ctypes.CDLL(str(target)), target)
                except OSError as exc:
                    why = f"{target}: {exc}"
        if kernel is None and verbose:
            print(f"fast sampler: torch attention ({why})", flush=True)
        _loaded["kernel"] = kernel
        return kernel


def _reset() -> None:
    """Forget the loaded kernel (tests)."""
    with _lock:
        _loaded.clear()
