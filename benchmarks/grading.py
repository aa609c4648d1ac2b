"""Grading throughput and worst-case latency of mathlab.answers.is_correct.

    .venv/bin/python benchmarks/grading.py [--n 5000]

Prints one markdown table:
* numeric: GSM8K-style completions graded against numeric golds (the in-process path;
  the goal is >= 2,000 answers/s);
* symbolic: distinct expression pairs that need math-verify (worker processes; the
  result cache is cleared, so every pair is really compared);
* hostile: the slowest single call over inputs built to hang or blow up a grader; each
  must come back within about the symbolic timeout (3 s) plus a worker restart.
"""

from __future__ import annotations

import argparse
import platform
import random
import time

from mathlab import answers
from mathlab.answers import DEFAULT_TIMEOUT_S, is_correct

HOSTILE = [
    ("9^{9^{9^{9}}}", "5"),
    ("9^{9^{9^{9}}}", "x+1"),
    ("9^9^9^9", "5"),
    ("10**10**10", "5"),
    ("1" * 100_000, "5"),
    ("\\boxed{" * 10_000, "5"),
    ("{" * 50_000 + "}" * 50_000, "5"),
    ("The answer is " * 20_000, "5"),
    ("(" * 5_000 + "x" + ")" * 5_000, "x"),
    ("\\frac{" * 2_000 + "1" + "}{2}" * 2_000, "1"),
    ("x^{" + "9" * 3_000 + "}", "x"),
    ("\\sum_{n=1}^{10^{100}} n", "5"),
]


def numeric_cases(n: int, rng: random.Random) -> list[tuple[str, str]]:
    cases = []
    for i in range(n):
        a, b = rng.randint(2, 999), rng.randint(2, 99)
        right = a * b
        # A third are wrong by 1-9 % (within 1e-4 relative, a near miss would count as right).
        pred = right if i % 3 else right + max(1, right * rng.randint(1, 9) // 100)
        style = i % 4
        if style == 0:
            text = f"She buys {a} boxes of {b} pens, so {a} * {b} = {pred} pens.\nThe answer is: {pred:,}"
        elif style == 1:
            text = f"{a} x {b} = <<{a}*{b}={pred}>>{pred}\n#### {pred}"
        elif style == 2:
            text = f"Multiplying, we get $\\boxed{{{pred}}}$."
        else:
            text = f"{a} groups of {b} make {pred} in total"
        cases.append((text, str(right)))
    return cases


def symbolic_cases(n: int) -> list[tuple[str, str]]:
    cases = []
    for i in range(1, n + 1):
        kind = i % 4
        if kind == 0:
            cases.append((f"x^2+{2 * i}x+{i * i}", f"(x+{i})^2"))
        elif kind == 1:
            cases.append((f"\\sqrt{{{i * i * 2}}}", f"{i}\\sqrt{{2}}"))
        elif kind == 2:
            cases.append((f"({i},{i + 1})", f"({i},{i + 1}]"))
        else:
            cases.append((f"\\frac{{{i}x}}{{2}}", f"{i}x/2"))
    return cases


def rate(cases: list[tuple[str, str]]) -> tuple[float, float]:
    start = time.perf_counter()
    correct = sum(is_correct(pred, gold) for pred, gold in cases)
    elapsed = time.perf_counter() - start
    return len(cases) / elapsed, correct / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="numeric cases")
    parser.add_argument("--n-symbolic", type=int, default=200, help="symbolic cases")
    args = parser.parse_args()
    rng = random.Random(0)

    numeric = numeric_cases(args.n, rng)
    is_correct(*numeric[0])  # imports, regex compilation
    numeric_rate, numeric_acc = rate(numeric)

    start = time.perf_counter()
    is_correct("x+1", "1+x")  # starts the worker processes
    startup = time.perf_counter() - start
    answers._symbolic_cached.cache_clear()
    answers._check_gold_cached.cache_clear()
    symbolic_rate, symbolic_acc = rate(symbolic_cases(args.n_symbolic))

    worst, worst_case = 0.0, ""
    for pred, gold in HOSTILE:
        start = time.perf_counter()
        is_correct(pred, gold)
        elapsed = time.perf_counter() - start
        if elapsed > worst:
            worst, worst_case = elapsed, pred[:24]

    print(
        f"grading benchmark on {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}, {answers.SYMBOLIC_WORKERS} symbolic worker(s), "
        f"timeout {DEFAULT_TIMEOUT_S:g} s"
    )
    print()
    print("| path | cases | answers/s | share judged correct |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| numeric (in process) | {len(numeric)} | {numeric_rate:,.0f} | {numeric_acc:.2f} |")
    print(
        f"| symbolic (math-verify workers) | {args.n_symbolic} | {symbolic_rate:,.1f} | {symbolic_acc:.2f} |"
    )
    print()
    print("| latency | seconds |")
    print("| --- | ---: |")
    print(f"| worker start-up (first symbolic call) | {startup:.2f} |")
    print(
        f"| worst single call over {len(HOSTILE)} hostile inputs (`{worst_case}`...) | {worst:.2f} |"
    )
    answers.shutdown_symbolic_workers()


if __name__ == "__main__":
    main()
