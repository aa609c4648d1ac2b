"""Statistics every notebook reports with: intervals, paired and unpaired tests, estimators.

* :func:`wilson_interval`: the Wilson score interval of an accuracy.
* :func:`mcnemar_exact`, :func:`two_proportion_z`, :func:`compare_paired`: is model B worse
  than model A on the same problems? McNemar's exact test decides (paired); the unpaired
  two-proportion z-test is reported beside it for reference.
* :func:`accuracy_summary`: a table/plot row from per-problem correctness flags.
* :func:`pass_at_k`, :func:`pass_curve`, :func:`maj_correct`: the unbiased pass@k estimator of
  the Codex paper and the majority-vote check behind maj@k.

Pure Python (``math`` only); :func:`maj_correct` grades with :mod:`mathlab.answers`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


# --------------------------------------------------------------------------- intervals and tests
def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) when n == 0.

    >>> tuple(round(x, 3) for x in wilson_interval(47, 100))
    (0.375, 0.567)
    """
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(only_a: int, only_b: int) -> dict[str, float]:
    """Exact McNemar test on paired outcomes (the same problems graded for two models).

    only_a: problems model A gets right and B wrong; only_b: the reverse. Under H0 each
    discordant problem is a fair coin. Returns the one-sided p-value that B is *worse*
    than A (P[X >= only_a], X ~ Bin(only_a + only_b, 1/2)), the one that B is better, and
    the two-sided one.

    >>> mcnemar_exact(10, 2)["p_b_worse"] < 0.05, mcnemar_exact(3, 3)["p_two_sided"] == 1.0
    (True, True)
    """
    n = only_a + only_b
    if n == 0:
        return {"p_b_worse": 1.0, "p_b_better": 1.0, "p_two_sided": 1.0}

    def tail(k: int) -> float:  # P[X >= k]
        return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n

    worse, better = tail(only_a), tail(only_b)
    return {
        "p_b_worse": worse,
        "p_b_better": better,
        "p_two_sided": min(1.0, 2 * min(worse, better)),
    }


def two_proportion_z(correct_a: int, n_a: int, correct_b: int, n_b: int) -> dict[str, float]:
    """Two-proportion z-test (unpaired, pooled variance): z and one-sided p that B < A."""
    if n_a == 0 or n_b == 0:
        return {"z": 0.0, "p_b_worse": 1.0}
    pa, pb = correct_a / n_a, correct_b / n_b
    pooled = (correct_a + correct_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return {"z": 0.0, "p_b_worse": 1.0 if pb >= pa else 0.0}
    z = (pb - pa) / se
    return {"z": z, "p_b_worse": 0.5 * math.erfc(-z / math.sqrt(2))}  # Phi(z)


def compare_paired(a: Sequence[bool], b: Sequence[bool], alpha: float = 0.05) -> dict[str, Any]:
    """Accuracy of A and B on the same problems with Wilson intervals, McNemar's exact test
    (the decision: B is significantly below A when its one-sided p < alpha) and, for
    reference, the unpaired two-proportion z-test."""
    if len(a) != len(b):
        raise ValueError(f"paired comparison needs the same problems: {len(a)} vs {len(b)}")
    n = len(a)
    ca, cb = sum(map(bool, a)), sum(map(bool, b))
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    mc = mcnemar_exact(only_a, only_b)
    return {
        "n": n,
        "acc_a": ca / n if n else 0.0,
        "acc_b": cb / n if n else 0.0,
        "ci_a": wilson_interval(ca, n),
        "ci_b": wilson_interval(cb, n),
        "only_a": only_a,
        "only_b": only_b,
        "mcnemar_p_b_worse": mc["p_b_worse"],
        "mcnemar_p_two_sided": mc["p_two_sided"],
        "ztest_p_b_worse": two_proportion_z(ca, n, cb, n)["p_b_worse"],
        "b_significantly_worse": mc["p_b_worse"] < alpha,
        "alpha": alpha,
    }


# --------------------------------------------------------------------------- summaries
def accuracy_summary(label: str, flags: Sequence[bool], **extra: Any) -> dict[str, Any]:
    """A table/plot row from per-problem correctness flags: accuracy and its Wilson interval.

    >>> accuracy_summary("sft", [True, False, True, True], set="test")["accuracy"]
    0.75
    """
    n = len(flags)
    correct = sum(map(bool, flags))
    lo, hi = wilson_interval(correct, n)
    return {
        "model": label,
        "accuracy": correct / n if n else 0.0,
        "ci_lo": lo,
        "ci_hi": hi,
        "n": n,
        **extra,
    }


def rounded_mean(xs: Sequence[float], digits: int = 6) -> float | None:
    """The mean of `xs` rounded to `digits` places; None for no values.

    >>> rounded_mean([1, 2, 2]), rounded_mean([])
    (1.666667, None)
    """
    return round(sum(xs) / len(xs), digits) if xs else None


# --------------------------------------------------------------------------- pass@k and maj@k
def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (Chen et al. 2021).

    >>> pass_at_k(4, 0, 1), pass_at_k(4, 1, 1), pass_at_k(4, 1, 2), pass_at_k(4, 4, 2)
    (0.0, 0.25, 0.5, 1.0)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_curve(counts: Sequence[tuple[int, int]], k: int) -> dict[str, float]:
    """Mean pass@j over problems for j = 1, 2, 4, ..., k (and k): {"1": ..., "k": ...}."""
    js = sorted({j for j in (2**i for i in range(int(math.log2(k)) + 1)) if j <= k} | {k})
    return {str(j): rounded_mean([pass_at_k(n, c, j) for n, c in counts]) for j in js}


def maj_correct(preds: Sequence[str | None], gold: str) -> bool:
    """Whether the majority answer of `preds` (``answers.majority_vote``) is correct."""
    from mathlab.answers import is_correct, majority_vote

    vote = majority_vote(list(preds))
    return vote is not None and is_correct(vote, gold)
