"""Precision by hardware: whether bf16 compute pays on this CPU, decided once per process.

bf16 autocast on CPU is a large speed-up where the CPU computes bf16 natively (x86
``avx512_bf16`` or ``amx_bf16``; aarch64 ``bf16``): a matmul about 2.7x faster than fp32 on
an AVX512-BF16 Xeon. Elsewhere torch *emulates* bf16 and it is ruinous: on an AVX2-only
AMD EPYC a bf16 matmul runs ~1.3 GFLOP/s against ~118 in fp32 (SFT 112 s/step instead of
8). So nothing hard-codes it:

* :func:`cpu_precision` reads the CPU's flags (``/proc/cpuinfo``; the model name with a
  fallback to :mod:`platform`), asks torch for its kernel level
  (``torch.backends.cpu.get_cpu_capability()``) and times a short matmul in fp32 and bf16
  (well under a second, even where bf16 is emulated). bf16 counts as fast when it is native
  by the flags *and* the probe shows it at least :data:`FAST_RATIO` x fp32. Where the flags
  cannot be read (no ``/proc/cpuinfo``) the probe alone decides. The hardware facts are
  measured once per process; the environment variable ``MATHLAB_CPU_BF16=1|0`` forces the
  decision either way (read at every call, so a test or a user can set it at any time).
* :func:`train_bf16` (training autocast) and :func:`sample_bf16` (decoding autocast) apply
  it: an explicit request (``sft.bf16``, ``rfft.bf16``, ``--autocast``) always wins; greedy
  decoding stays exact fp32 unless asked (bf16 flips greedy texts).
* :func:`announce` prints the choice in one line (and the hardware line once per process),
  so every notebook shows it; the runner records :meth:`CPUPrecision.to_dict` in the run's
  ``provenance.json``.

>>> parse_cpuinfo("model name : Some CPU\\nflags : fpu sse avx2 fma avx512f avx512_bf16\\n")
('Some CPU', ('fma', 'avx2', 'avx512f', 'avx512_bf16'))
>>> bf16_native_by_flags("x86_64", ("avx2", "fma"))
False
"""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ENV = "MATHLAB_CPU_BF16"
FAST_RATIO = 1.2  # bf16 must beat fp32 by this factor in the probe to be used
PROBE_BUDGET_S = 0.15  # seconds of timed matmuls per dtype and size (the whole probe < ~1 s)

# flags that matter for the speed of fp32/bf16 matmuls, in the order they are reported
X86_FLAGS = (
    "sse4_2",
    "avx",
    "f16c",
    "fma",
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
X86_BF16 = ("avx512_bf16", "amx_bf16")
ARM_FLAGS = ("asimd", "asimdhp", "fphp", "sve", "sve2", "bf16", "svebf16", "i8mm", "sme")
ARM_BF16 = ("bf16",)


class PrecisionError(ValueError):
    """A bad precision setting (e.g. MATHLAB_CPU_BF16=maybe); the message names it."""


# --------------------------------------------------------------------------- parsing (pure)
def parse_cpuinfo(text: str) -> tuple[str, tuple[str, ...]]:
    """(CPU model, relevant flags in :data:`X86_FLAGS`/:data:`ARM_FLAGS` order) of a
    ``/proc/cpuinfo`` text: the first ``model name`` (x86) or ``Model``/``CPU part`` line,
    and the first ``flags`` (x86) or ``Features`` (aarch64) line."""
    model, found = "", None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "model name" and not model:
            model = value
        elif key == "model" and not model and not value.isdigit():
            model = value  # aarch64 boards: "Model : Raspberry Pi 5 ..."
        elif key in ("flags", "features") and found is None:
            found = set(value.split())
    if found is None:
        return model, ()
    order = X86_FLAGS + tuple(f for f in ARM_FLAGS if f not in X86_FLAGS)
    return model, tuple(f for f in order if f in found)


def bf16_native_by_flags(arch: str, flags: tuple[str, ...] | list[str]) -> bool:
    """Whether the CPU computes bf16 natively, by its flags (x86: avx512_bf16 or amx_bf16;
    aarch64/arm64: the bf16 feature)."""
    wanted = ARM_BF16 if _is_arm(arch) else X86_BF16
    return any(f in flags for f in wanted)


def _is_arm(arch: str) -> bool:
    return arch.lower().startswith(("aarch64", "arm"))


def _bf16_flag_names(arch: str) -> str:
    return "bf16" if _is_arm(arch) else "/".join(X86_BF16)


def parse_env(value: str | None) -> bool | None:
    """MATHLAB_CPU_BF16: "1" forces bf16 on, "0" off, unset or empty decides by hardware."""
    if value is None or value.strip() == "":
        return None
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise PrecisionError(
        f"{ENV}={value!r}: expected 1 (force bf16 compute on CPU) or 0 (force fp32); "
        f"unset it to decide by hardware"
    )


def check_env() -> bool | None:
    """The MATHLAB_CPU_BF16 setting of this process (raises PrecisionError when it is bad)."""
    return parse_env(os.environ.get(ENV))


# --------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class CPUPrecision:
    """What this CPU is, how fast it multiplies in fp32 and bf16, and the decision."""

    cpu_model: str
    arch: str
    flags: tuple[str, ...]  # the speed-relevant flags found (X86_FLAGS / ARM_FLAGS)
    torch_capability: str  # torch.backends.cpu.get_cpu_capability(): torch's kernel level
    bf16_native: bool  # by the flags
    fp32_gflops: float | None  # probe (None: not probed)
    bf16_gflops: float | None
    bf16_fast: bool  # THE decision: use bf16 compute on this CPU
    source: str  # "flags+probe", "flags (no probe)", "probe (flags unknown)", "forced by ..."
    probe_threads: int | None = None  # torch threads during the probe

    @property
    def ratio(self) -> float | None:
        """bf16 / fp32 matmul throughput in the probe."""
        if self.fp32_gflops and self.bf16_gflops is not None:
            return self.bf16_gflops / self.fp32_gflops
        return None

    def reason(self) -> str:
        """Why bf16_fast is what it is, in a few words."""
        if self.source.startswith("forced"):
            return self.source
        names = _bf16_flag_names(self.arch)
        ratio = self.ratio
        probe = f"{ratio:.2g}x fp32 in the probe" if ratio is not None else "not probed"
        if self.source.startswith("probe"):
            return f"flags unknown; bf16 {probe}"
        if not self.bf16_native:
            return f"no {names}: bf16 is emulated" + (
                f" ({ratio:.2g}x fp32 in the probe)" if ratio is not None else ""
            )
        native = "/".join(f for f in self.flags if f in (ARM_BF16 + X86_BF16))
        if ratio is None:
            return f"native bf16 ({native}), {probe}"
        if not self.bf16_fast:
            return f"native bf16 ({native}) but only {probe} (< {FAST_RATIO}x)"
        return f"native bf16 ({native}), {probe}"

    def describe(self) -> str:
        """One line: the CPU, the relevant flags, the probe, the decision and why."""
        probe = (
            f"probe fp32 {self.fp32_gflops:.3g} / bf16 {self.bf16_gflops:.3g} GFLOP/s "
            f"({self.probe_threads} threads)"
            if self.fp32_gflops is not None and self.bf16_gflops is not None
            else "not probed"
        )
        flags = " ".join(self.flags) or "flags unknown"
        decision = "bf16 compute" if self.bf16_fast else "fp32 compute"
        return (
            f"{self.cpu_model or 'unknown CPU'} ({self.arch}, torch {self.torch_capability}; "
            f"{flags}); {probe}; {decision}: {self.reason()}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["flags"] = list(self.flags)
        d["reason"] = self.reason()
        d["describe"] = self.describe()
        return d


# --------------------------------------------------------------------------- facts (cached)
_lock = threading.Lock()
_facts: dict[str, Any] = {}  # "hw": (model, arch, flags, flags_known, capability); "probe": ...


def _read_hardware() -> tuple[str, str, tuple[str, ...], bool, str]:
    arch = platform.machine() or "unknown"
    model, flags, known = "", (), False
    try:
        model, flags = parse_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
        known = bool(flags)
    except OSError:
        pass
    if not known and platform.system() == "Darwin":
        model, flags, known = _darwin(model)
    if not model:
        model = platform.processor() or arch
    try:
        import torch

        capability = str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # pragma: no cover - very old torch
        capability = "unknown"
    return model, arch, flags, known, capability


def _darwin(model: str) -> tuple[str, tuple[str, ...], bool]:  # pragma: no cover - macOS only
    def sysctl(name: str) -> str:
        try:
            out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
            return out.stdout.strip() if out.returncode == 0 else ""
        except (OSError, subprocess.TimeoutExpired):
            return ""

    model = model or sysctl("machdep.cpu.brand_string")
    if platform.machine() == "arm64":
        flags = ("asimd",) + (("bf16",) if sysctl("hw.optional.arm.FEAT_BF16") == "1" else ())
        return model, flags, True
    return model, (), False


def _time_matmul(dtype, n: int, budget_s: float) -> float:
    """GFLOP/s of n x n matmuls in `dtype`, timed for about `budget_s` after one warm-up."""
    import torch

    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(dtype)
    b = torch.randn(n, n, generator=g).to(dtype)
    with torch.no_grad():
        torch.matmul(a, b)  # warm-up: first-call dispatch, packing, thread pool
        reps, start = 0, time.perf_counter()
        while True:
            torch.matmul(a, b)
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget_s or reps >= 200:
                break
    return 2 * n**3 * reps / elapsed / 1e9


def probe_gflops(budget_s: float = PROBE_BUDGET_S) -> tuple[float, float]:
    """(fp32, bf16) matmul GFLOP/s on this CPU with the current torch threads.

    256 x 256 first (an emulated bf16 matmul takes ~25 ms there); when bf16 turns out fast,
    again at 512 x 512 where native bf16 kernels (AMX) show their real advantage. At most
    about 4 x (budget_s + one matmul): under a second.
    """
    import torch

    fp32 = _time_matmul(torch.float32, 256, budget_s)
    bf16 = _time_matmul(torch.bfloat16, 256, budget_s)
    if bf16 > 0.5 * fp32:  # not emulated: measure where small-size overheads matter less
        fp32 = max(fp32, _time_matmul(torch.float32, 512, budget_s))
        bf16 = max(bf16, _time_matmul(torch.bfloat16, 512, budget_s))
    return round(fp32, 2), round(bf16, 2)


def _hardware() -> tuple[str, str, tuple[str, ...], bool, str]:
    with _lock:
        if "hw" not in _facts:
            _facts["hw"] = _read_hardware()
        return _facts["hw"]


def _probe() -> tuple[float | None, float | None, int | None]:
    with _lock:
        if "probe" not in _facts:
            try:
                import torch

                threads = torch.get_num_threads()
                _facts["probe"] = (*probe_gflops(), threads)
            except Exception as exc:  # a broken probe must not stop training; flags decide
                print(f"precision: matmul probe failed ({exc}); deciding by CPU flags", flush=True)
                _facts["probe"] = (None, None, None)
        return _facts["probe"]


def decide(
    arch: str,
    flags: tuple[str, ...],
    fp32_gflops: float | None,
    bf16_gflops: float | None,
    flags_known: bool = True,
    forced: bool | None = None,
) -> tuple[bool, bool, str]:
    """(bf16_native, bf16_fast, source) from the facts; pure, so it is tested on any input."""
    native = bf16_native_by_flags(arch, flags)
    probed = fp32_gflops is not None and bf16_gflops is not None and fp32_gflops > 0
    faster = probed and bf16_gflops >= FAST_RATIO * fp32_gflops
    if forced is not None:
        return native, forced, f"forced by {ENV}={int(forced)}"
    if not flags_known:
        if probed:
            return native, faster, "probe (flags unknown)"
        return native, False, "no flags, no probe"
    if probed:
        return native, native and faster, "flags+probe"
    return native, native, "flags (no probe)"


def cpu_precision(probe: bool = True) -> CPUPrecision:
    """This CPU's precision record: facts measured once per process, MATHLAB_CPU_BF16 read now.

    `probe=False` skips the matmul timing (flags decide) unless it already ran in this
    process. :func:`cpu_precision.cache_clear` (or :func:`_reset`) forgets the facts.
    """
    forced = check_env()
    model, arch, flags, known, capability = _hardware()
    if probe or "probe" in _facts:
        fp32, bf16, threads = _probe()
    else:
        fp32 = bf16 = threads = None
    native, fast, source = decide(arch, flags, fp32, bf16, known, forced)
    return CPUPrecision(
        cpu_model=model,
        arch=arch,
        flags=flags,
        torch_capability=capability,
        bf16_native=native,
        fp32_gflops=fp32,
        bf16_gflops=bf16,
        bf16_fast=fast,
        source=source,
        probe_threads=threads,
    )


def _reset() -> None:
    """Forget the measured facts and the printed hardware line (tests)."""
    with _lock:
        _facts.clear()
        _announced.clear()


cpu_precision.cache_clear = _reset  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- decisions
def train_bf16(requested: bool | None, device: str) -> bool:
    """bf16 autocast for training: `requested` when set; else CUDA: bf16 support, CPU: the
    hardware decision (:func:`cpu_precision`), MPS and others: no."""
    if requested is not None:
        return bool(requested)
    if device == "cuda":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    if device == "cpu":
        return cpu_precision().bf16_fast
    return False


def sample_bf16(requested: bool | None, greedy: bool, device: str) -> bool:
    """bf16 autocast for decoding on CPU: `requested` when set; else fp32 for greedy (exact:
    bf16 flips greedy texts) and the hardware decision for sampling. Other devices: False
    (they decode in the model's dtype, no autocast)."""
    if device != "cpu":
        return False
    if requested is not None:
        return bool(requested)
    if greedy:
        return False
    return cpu_precision().bf16_fast


# --------------------------------------------------------------------------- printing
_announced: set[str] = set()


def precision_name(used_bf16: bool) -> str:
    """The name results record: "bf16-autocast" or "fp32"."""
    return "bf16-autocast" if used_bf16 else "fp32"


def announce(
    purpose: str,
    used_bf16: bool,
    *,
    device: str = "cpu",
    requested: bool | None = None,
    setting: str | None = None,
    why: str | None = None,
) -> str:
    """Print (and return) one line with the precision chosen for `purpose`, e.g.

    ``precision (sft training): fp32 — by hardware: no avx512_bf16/amx_bf16: bf16 is
    emulated (0.011x fp32 in the probe)``. On CPU the hardware line
    (:meth:`CPUPrecision.describe`) comes first, once per process. `requested` and
    `setting` (e.g. ``"sft.bf16"``) say that the user chose; `why` replaces the reason.
    """
    name = "bf16 autocast" if used_bf16 else "fp32"
    if why:
        reason = why
    elif requested is not None:
        reason = f"requested ({setting}={str(requested).lower()})" if setting else "requested"
    elif device == "cuda":
        reason = "the GPU supports bf16" if used_bf16 else "the GPU lacks bf16"
    elif device != "cpu":
        reason = f"{device} default"
    else:
        hw = cpu_precision()
        if used_bf16 == hw.bf16_fast:
            reason = (
                hw.reason() if hw.source.startswith("forced") else f"by hardware: {hw.reason()}"
            )
        else:
            reason = "bf16 on purpose" if used_bf16 else "exact fp32 on purpose"
    if device == "cpu" and "hw-line" not in _announced:
        _announced.add("hw-line")
        print(f"cpu: {cpu_precision().describe()}", flush=True)
    where = "" if device == "cpu" else f" on {device}"
    line = f"precision ({purpose}): {name}{where} — {reason}"
    print(line, flush=True)
    return line
