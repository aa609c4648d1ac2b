"""What the CPU benchmarks share: the matmul peak they measure throughput against."""

from __future__ import annotations

import time


def matmul_peak(dtype_name: str, n: int = 2048, reps: int = 5) -> float:
    """Best-of-`reps` GFLOP/s of an n x n matmul in torch dtype `dtype_name`."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def matmul_peaks(bf16_native: bool) -> tuple[float, float]:
    """(fp32, bf16) GFLOP/s of this CPU; an emulated bf16 gets a smaller matrix (it is slow)."""
    fp32 = matmul_peak("float32")
    return fp32, matmul_peak("bfloat16", n=2048 if bf16_native else 256, reps=2)


def print_table(columns: list[tuple[str, str]], rows: list[list[str]]) -> None:
    """A plain-text table: `columns` are (title, alignment and width, e.g. "<28" or ">7"),
    each row one string per column; a rule under the header."""
    header = " | ".join(f"{title:{spec}}" for title, spec in columns)
    print(header)
    print("-" * len(header))
    for row in rows:
        print(" | ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(row, columns)))
