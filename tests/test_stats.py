"""mathlab.stats: Wilson intervals, McNemar, the two-proportion z-test, paired comparisons,
accuracy rows, pass@k and maj@k, against hand-computed values (and scipy where installed)."""

from __future__ import annotations

import math

import pytest

from mathlab import stats
from mathlab.stats import (
    accuracy_summary,
    compare_paired,
    maj_correct,
    mcnemar_exact,
    pass_at_k,
    pass_curve,
    rounded_mean,
    two_proportion_z,
    wilson_interval,
)

Z95 = 1.96


# --------------------------------------------------------------------------- Wilson
def test_wilson_interval_known_values():
    lo, hi = wilson_interval(47, 100)
    assert round(lo, 3) == 0.375 and round(hi, 3) == 0.567  # textbook values
    # no successes: [0, z^2 / (n + z^2)]; all successes: the mirror image
    assert wilson_interval(0, 10) == (0.0, pytest.approx(Z95**2 / (10 + Z95**2)))
    assert wilson_interval(10, 10) == (pytest.approx(10 / (10 + Z95**2)), 1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    # symmetric about 1/2 and always holding the point estimate
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(1 - hi) and lo < 0.5 < hi


# --------------------------------------------------------------------------- McNemar
def test_mcnemar_exact_small_tables_by_hand():
    # 5 discordant problems for A, 1 for B: n = 6, P[X >= 5] = (C(6,5) + C(6,6)) / 2^6
    m = mcnemar_exact(5, 1)
    assert m["p_b_worse"] == pytest.approx(7 / 64)
    assert m["p_b_better"] == pytest.approx(63 / 64)  # P[X >= 1] = 1 - 1/64
    assert m["p_two_sided"] == pytest.approx(14 / 64)
    # 8 vs 2: P[X >= 8] = (45 + 10 + 1) / 1024
    assert mcnemar_exact(8, 2)["p_b_worse"] == pytest.approx(56 / 1024)
    assert mcnemar_exact(8, 2)["p_two_sided"] == pytest.approx(112 / 1024)
    # all ten discordant problems favour A: p = 2^-10 one-sided
    assert mcnemar_exact(10, 0)["p_b_worse"] == pytest.approx(2**-10)
    assert mcnemar_exact(0, 10)["p_b_worse"] == 1.0
    assert mcnemar_exact(3, 3)["p_two_sided"] == 1.0  # capped at 1
    assert mcnemar_exact(0, 0) == {"p_b_worse": 1.0, "p_b_better": 1.0, "p_two_sided": 1.0}


def test_mcnemar_exact_matches_scipy_binomtest():
    scipy_stats = pytest.importorskip("scipy.stats")
    for a in range(0, 9):
        for b in range(0, 9):
            if a + b == 0:
                continue
            m = mcnemar_exact(a, b)
            greater = scipy_stats.binomtest(a, a + b, 0.5, alternative="greater").pvalue
            less = scipy_stats.binomtest(a, a + b, 0.5, alternative="less").pvalue
            assert m["p_b_worse"] == pytest.approx(greater, rel=1e-12)
            assert m["p_b_better"] == pytest.approx(less, rel=1e-12)
            two = scipy_stats.binomtest(a, a + b, 0.5).pvalue  # symmetric: twice the smaller tail
            assert m["p_two_sided"] == pytest.approx(two, rel=1e-9)


# --------------------------------------------------------------------------- z-test
def test_two_proportion_z_by_hand():
    # 60/100 vs 40/100: pooled 0.5, se = sqrt(0.25 * 0.02), z = -0.2 / se = -2.828
    res = two_proportion_z(60, 100, 40, 100)
    assert res["z"] == pytest.approx(-0.2 / math.sqrt(0.005))
    phi = 0.5 * (1 + math.erf(res["z"] / math.sqrt(2)))
    assert res["p_b_worse"] == pytest.approx(phi) and res["p_b_worse"] == pytest.approx(
        0.002339, abs=1e-6
    )
    assert two_proportion_z(50, 100, 50, 100)["p_b_worse"] == pytest.approx(0.5)
    assert two_proportion_z(0, 0, 3, 10) == {"z": 0.0, "p_b_worse": 1.0}
    assert two_proportion_z(10, 10, 10, 10)["p_b_worse"] == 1.0  # se 0, no difference
    assert two_proportion_z(10, 10, 0, 10)["p_b_worse"] < 1e-4  # B far below A
    assert two_proportion_z(0, 10, 10, 10)["p_b_worse"] > 0.9999  # B far above A
    scipy_stats = pytest.importorskip("scipy.stats")
    assert res["p_b_worse"] == pytest.approx(scipy_stats.norm.cdf(res["z"]))


# --------------------------------------------------------------------------- paired decision
def test_compare_paired_counts_and_decides():
    base = [True] * 30 + [False] * 70
    worse = [True] * 15 + [False] * 85  # 15 problems lost, none gained
    same = [False] * 5 + [True] * 25 + [True] * 5 + [False] * 65  # 5 lost, 5 gained
    c = compare_paired(base, worse)
    assert (c["n"], c["acc_a"], c["acc_b"], c["only_a"], c["only_b"]) == (100, 0.3, 0.15, 15, 0)
    assert c["mcnemar_p_b_worse"] == pytest.approx(2**-15) and c["b_significantly_worse"]
    assert c["ci_a"] == wilson_interval(30, 100) and c["alpha"] == 0.05
    assert c["ztest_p_b_worse"] == two_proportion_z(30, 100, 15, 100)["p_b_worse"]
    s = compare_paired(base, same)
    assert (s["only_a"], s["only_b"]) == (5, 5) and not s["b_significantly_worse"]
    assert s["mcnemar_p_two_sided"] == 1.0
    assert not compare_paired([True, False], [False, True], alpha=0.5)["b_significantly_worse"]
    with pytest.raises(ValueError, match="same problems"):
        compare_paired(base, worse[:10])
    empty = compare_paired([], [])
    assert empty["acc_a"] == 0.0 and not empty["b_significantly_worse"]


def test_accuracy_summary_and_rounded_mean():
    row = accuracy_summary("sft", [True, False, True, True], set="test", k=1)
    assert row == {
        "model": "sft",
        "accuracy": 0.75,
        "ci_lo": wilson_interval(3, 4)[0],
        "ci_hi": wilson_interval(3, 4)[1],
        "n": 4,
        "set": "test",
        "k": 1,
    }
    assert list(row)[:5] == ["model", "accuracy", "ci_lo", "ci_hi", "n"]  # column order
    assert accuracy_summary("x", [])["accuracy"] == 0.0
    assert rounded_mean([1, 2, 2]) == 1.666667 and rounded_mean([1, 2, 2], 2) == 1.67
    assert rounded_mean([]) is None


# --------------------------------------------------------------------------- pass@k, maj@k
def test_pass_at_k_against_hand_computed_values():
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)  # 1 - C(7,5)/C(10,5)
    assert pass_at_k(4, 1, 4) == 1.0 and pass_at_k(3, 0, 2) == 0.0 and pass_at_k(8, 8, 3) == 1.0
    # unbiased: the mean over all k-subsets of "any correct"
    n, c, k = 6, 2, 3
    subsets = math.comb(n, k)
    with_correct = subsets - math.comb(n - c, k)
    assert pass_at_k(n, c, k) == pytest.approx(with_correct / subsets)
    with pytest.raises(ValueError, match="pass_at_k"):
        pass_at_k(4, 5, 2)
    with pytest.raises(ValueError, match="pass_at_k"):
        pass_at_k(4, 1, 5)
    assert pass_curve([(4, 2), (4, 1), (4, 0)], 4) == pytest.approx(
        {"1": 0.25, "2": (5 / 6 + 0.5) / 3, "4": 2 / 3},
        abs=1e-6,  # rounded to 6 places
    )
    assert set(pass_curve([(6, 1)], 6)) == {"1", "2", "4", "6"}


def test_maj_correct():
    assert maj_correct(["24", "24.0", "25", None], "24")
    assert not maj_correct(["25", "25", "24"], "24")
    assert maj_correct(["1,000", "999", "1000"], "1000")
    assert not maj_correct([None, None], "3")


def test_docstring_examples():
    import doctest

    result = doctest.testmod(stats)
    assert result.attempted > 0 and result.failed == 0
