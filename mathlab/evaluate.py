"""Evaluate a model on a problem set: greedy accuracy, maj@k, pass@k, best-of-N, breakdowns.

    >>> result = evaluate("smollm2-135m-instruct", problems, style="cot", k=4, run=run)  # doctest: +SKIP
    >>> print(result.table())                                                            # doctest: +SKIP

:func:`evaluate` solves every problem in a decoding style (``mathlab.styles``) once
greedily (accuracy) and, when ``k > 1``, ``k`` times at ``temperature`` (0.7 by default):
maj@k is the accuracy of the majority answer, pass@k the unbiased estimator of the Codex
paper, ``1 - C(n-c, k) / C(n, k)`` per problem with ``n`` samples of which ``c`` are
correct, averaged (the estimators: :mod:`mathlab.stats`). A ``scorer`` — any reward of
:mod:`mathlab.rewards` (TRL's signature; a learned reward model, or a name such as
``"correctness"``, the oracle: bon@k = pass@k) — picks one completion per problem: bon@k. Every number is also broken down by family,
steps and source (``Problem.meta`` and ``Problem.source``).

With a ``run``, every completion is written as a Sample row to
``run.samples_path(stage, dataset, style)`` (``meta.sample`` is the sample index,
``meta.greedy`` marks the greedy pass) and the metrics record to the notebook's metrics
file via ``run.add_eval``. Gold answers are checked first (``answers.check_gold``): an
unparseable gold answer is an error naming the problem (``on_bad_gold="raise"``) or, with
``on_bad_gold="wrong"``, a problem that is never counted correct.

Command line (``mathlab eval``): see :func:`eval_main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathlab.data.records import Problem, Sample
from mathlab.stats import maj_correct, pass_at_k, pass_curve
from mathlab.stats import rounded_mean as _mean

__all__ = [
    "EvalResult",
    "eval_main",
    "evaluate",
    "load_problems",
    "score_results",
    "summarize",
]

DEFAULT_TEMPERATURE = 0.7


# --------------------------------------------------------------------------- result
@dataclass
class EvalResult:
    """The metrics record (mathlab.metrics: the eval-record contract), the Sample rows and per-problem rows."""

    record: dict[str, Any]
    samples: list[Sample]
    per_problem: list[dict[str, Any]]
    samples_path: Path | None = None
    results: dict[str, list] = field(default_factory=dict)  # "greedy"/"sampled": StyleResults

    def __getitem__(self, key: str) -> Any:
        return self.record[key]

    def table(self, breakdown: str | None = "by_family") -> str:
        """A plain-text summary (and one breakdown table)."""
        return format_table([self.record], breakdown=breakdown)


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def format_table(records: Sequence[dict[str, Any]], breakdown: str | None = None) -> str:
    """Summary rows for eval records; with `breakdown` (by_family, by_steps, by_source) one
    more table per record."""
    cols = [
        "style",
        "n",
        "k",
        "accuracy",
        "maj_at_k",
        "pass_at_k",
        "bon_at_k",
        "mean_tokens",
        "wall_s",
    ]
    cols = [
        c for c in cols if c != "bon_at_k" or any(r.get("bon_at_k") is not None for r in records)
    ]
    head = f"{records[0].get('model', '')} on {records[0].get('dataset', '')} ({records[0].get('stage', '')})"
    rows = [cols] + [[_fmt(r.get(c)) for c in cols] for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines = [head] + ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    if breakdown:
        for r in records:
            groups = r.get(breakdown) or {}
            if not groups:
                continue
            sub_cols = ["n", "accuracy", "maj_at_k", "pass_at_k"]
            sub = [[breakdown[3:]] + sub_cols] + [
                [name] + [_fmt(g.get(c)) for c in sub_cols] for name, g in sorted(groups.items())
            ]
            w = [max(len(row[i]) for row in sub) for i in range(len(sub[0]))]
            lines.append("")
            lines.append(f"{r.get('style')} {breakdown}:")
            lines += [
                "  ".join(v.rjust(x) if i else v.ljust(x) for i, (v, x) in enumerate(zip(row, w)))
                for row in sub
            ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- evaluate
def _check_golds(problems: Sequence[Problem], on_bad_gold: str) -> set[str]:
    from mathlab.answers import GoldAnswerError, check_gold

    if on_bad_gold not in ("raise", "wrong"):
        raise ValueError(f"on_bad_gold must be 'raise' or 'wrong', got {on_bad_gold!r}")
    bad: dict[str, str] = {}
    for p in problems:
        try:
            check_gold(p.answer)
        except GoldAnswerError as exc:
            bad[p.id] = str(exc)
    if bad and on_bad_gold == "raise":
        listed = "; ".join(f"{pid}: {why}" for pid, why in list(bad.items())[:5])
        raise ValueError(
            f"{len(bad)} problem(s) have an unparseable gold answer ({listed}); fix the data, or pass "
            f"on_bad_gold='wrong' to count them as never correct"
        )
    return set(bad)


def _group_keys(p: Problem) -> dict[str, str]:
    meta = p.meta or {}
    return {
        "by_family": str(meta.get("family", "unknown")),
        "by_steps": str(meta.get("steps", "unknown")),
        "by_source": p.source or "unknown",
    }


def _breakdown(
    rows: list[dict[str, Any]], key: str, metrics: list[str]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    out = {}
    for name, members in sorted(groups.items()):
        entry: dict[str, Any] = {"n": len(members)}
        for m in metrics:
            entry[m] = _mean([float(r[m]) for r in members if r.get(m) is not None])
        out[name] = entry
    return out


def score_results(
    problems: Sequence[Problem],
    style: str,
    greedy: Sequence[Any] | None,
    sampled: Sequence[Sequence[Any]] | None,
    scores: Sequence[Sequence[float]] | None = None,
    model: str = "model",
    seed: int = 0,
    bad_gold: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], list[Sample]]:
    """Grade StyleResults: (per-problem rows, Sample rows).

    greedy: one StyleResult per problem (or None); sampled: k per problem (or None);
    scores: a reward per sampled result (best-of-N). A problem in `bad_gold` is never correct.
    Each row: id, by_family, by_steps, by_source, and accuracy / n_tokens (greedy),
    n_correct / pass_at_k / maj_at_k / sampled_tokens / bon_at_k (sampled).
    """
    from mathlab.answers import is_correct
    from mathlab.prompts import messages_for

    def correct(pred: str | None, p: Problem) -> bool:
        return p.id not in bad_gold and pred is not None and is_correct(pred, p.answer)

    samples: list[Sample] = []

    def add(p: Problem, j: int, r: Any, is_greedy: bool, score: float | None) -> bool:
        ok = correct(r.pred, p)
        meta = {
            "sample": j,
            "greedy": is_greedy,
            "style_used": r.style or style,
            "tool_calls": r.tool_calls,
            "finish_reason": r.finish_reason,
            "error": r.error,
            "score": score,
        }
        samples.append(
            Sample(
                problem_id=p.id,
                model=model,
                style=style,
                prompt=messages_for(p.question, r.style or style)[-1]["content"],
                completion=r.text,
                pred=r.pred,
                correct=ok,
                n_tokens=int(r.n_tokens),
                seed=None if is_greedy else seed,
                meta=meta,
            )
        )
        return ok

    rows = []
    for i, p in enumerate(problems):
        row: dict[str, Any] = {"id": p.id, **_group_keys(p)}
        if greedy is not None:
            row["accuracy"] = float(add(p, 0, greedy[i], True, None))
            row["n_tokens"] = greedy[i].n_tokens
        if sampled is not None:
            results = sampled[i]
            flags = [
                add(p, j, r, False, None if scores is None else scores[i][j])
                for j, r in enumerate(results)
            ]
            n, c = len(flags), sum(flags)
            row["n_samples"], row["n_correct"] = n, c
            row["pass_at_k"] = pass_at_k(n, c, n)
            row["maj_at_k"] = float(
                p.id not in bad_gold and maj_correct([r.pred for r in results], p.answer)
            )
            row["sampled_tokens"] = _mean([r.n_tokens for r in results])
            if greedy is None:
                row["accuracy"] = c / n
            if scores is not None:
                best = max(range(n), key=lambda j, s=scores[i]: s[j])
                row["bon_at_k"] = float(flags[best])
        else:
            row["maj_at_k"] = row["pass_at_k"] = row["accuracy"]
        rows.append(row)
    return rows, samples


def summarize(
    rows: list[dict[str, Any]], k: int, greedy: bool = True, scored: bool = False, **fields: Any
) -> dict[str, Any]:
    """The metrics record (the eval-record contract of mathlab.metrics) from graded rows; `fields` (stage, model,
    dataset, style) come first."""
    sampled = any("n_correct" in r for r in rows)
    metrics = ["accuracy", "maj_at_k", "pass_at_k"] + (["bon_at_k"] if scored and sampled else [])
    token_key = "n_tokens" if greedy else "sampled_tokens"
    record: dict[str, Any] = {
        **fields,
        "n": len(rows),
        "k": k,
        "accuracy": _mean([r["accuracy"] for r in rows]),
        "maj_at_k": _mean([r["maj_at_k"] for r in rows]),
        "pass_at_k": _mean([r["pass_at_k"] for r in rows]),
        "mean_tokens": _mean([r[token_key] for r in rows]),
        "by_family": _breakdown(rows, "by_family", metrics),
        "by_steps": _breakdown(rows, "by_steps", metrics),
        "by_source": _breakdown(rows, "by_source", metrics),
        "wall_s": None,
        "greedy": greedy,
    }
    if sampled:
        record["pass_curve"] = pass_curve([(r["n_samples"], r["n_correct"]) for r in rows], k)
        record["mean_tokens_sampled"] = _mean([r["sampled_tokens"] for r in rows])
    if scored and sampled:
        record["bon_at_k"] = _mean([r["bon_at_k"] for r in rows])
    return record


def evaluate(
    backend_or_spec: Any,
    problems: Sequence[Problem],
    style: str = "cot",
    k: int = 1,
    temperature: float | None = None,
    top_p: float = 1.0,
    max_new_tokens: int = 256,
    stage: str = "baseline",
    dataset: str = "test",
    run: Any = None,
    scorer: Callable[..., list] | str | None = None,
    seed: int = 0,
    greedy: bool = True,
    model_name: str | None = None,
    on_bad_gold: str = "raise",
    backend_opts: dict[str, Any] | None = None,
    **solve_opts: Any,
) -> EvalResult:
    """Evaluate a backend (or a model spec, loaded with ``get_backend``) on `problems`.

    k: samples per problem at `temperature` (default 0.7) for maj@k / pass@k / bon@k;
    k=1 runs the greedy pass only (then maj@k = pass@k = accuracy). greedy: run the greedy
    pass (accuracy); without it, accuracy is the sampled pass@1. stage / dataset name the
    samples file and the record. scorer: a reward with TRL's signature (or its name in
    ``mathlab.rewards``) that ranks each problem's k samples for best-of-N. solve_opts go to ``mathlab.styles.solve`` (timeout, max_tool_calls, ...).
    """
    from mathlab.generate import SamplingParams, get_backend

    started = time.time()
    problems = _checked_problems(problems, k, greedy, temperature)
    bad_gold = _check_golds(problems, on_bad_gold)
    backend = get_backend(backend_or_spec, **(backend_opts or {}))
    model = model_name or (backend_or_spec if isinstance(backend_or_spec, str) else backend.name)
    sampled_pass = k > 1 or not greedy
    temp = (
        (DEFAULT_TEMPERATURE if sampled_pass else 0.0)
        if temperature is None
        else float(temperature)
    )
    budget = {"max_new_tokens": max_new_tokens, "seed": seed}
    sampling = (
        SamplingParams(n=k, temperature=temp, top_p=top_p, **budget) if sampled_pass else None
    )
    greedy_res, sampled_res, scores = _solve_passes(
        backend, problems, style, greedy, budget, sampling, scorer, solve_opts
    )
    rows, samples = score_results(
        problems, style, greedy_res, sampled_res, scores, model=model, seed=seed, bad_gold=bad_gold
    )
    record = summarize(
        rows,
        k=k,
        greedy=greedy,
        scored=scores is not None,
        stage=stage,
        model=model,
        dataset=dataset,
        style=style,
    )
    record.update(temperature=temp if sampled_pass else 0.0, **budget)
    _add_greedy_counts(record, greedy_res, bad_gold)
    samples_path = None
    if run is not None:
        samples_path = _write_samples(run, record, samples, stage, dataset, style)
    record["wall_s"] = round(time.time() - started, 2)
    if run is not None:
        run.add_eval(record)
    results = {"greedy": greedy_res, "sampled": sampled_res}
    return EvalResult(record, samples, rows, samples_path, results)


def _checked_problems(problems: Sequence[Problem], k: Any, greedy: bool, temperature) -> list:
    """`problems` as a list, after checking the request (k, greedy or sampling, row types)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if not greedy and k == 1 and temperature in (None, 0):
        raise ValueError("greedy=False needs sampling: k > 1 or a temperature > 0")
    problems = list(problems)
    for i, p in enumerate(problems):
        if not isinstance(p, Problem):
            raise TypeError(
                f"problems[{i}] is a {type(p).__name__}, expected mathlab.data.records.Problem"
            )
    return problems


def _solve_passes(backend, problems, style, greedy, budget, sampling, scorer, solve_opts):
    """(greedy results, sampled results, scores), each None when that pass does not run.

    budget: max_new_tokens and seed of the greedy pass; sampling: the SamplingParams of the
    sampled pass (None: no sampled pass); scorer: rewards for best-of-N."""
    from mathlab.generate import SamplingParams
    from mathlab.styles import solve

    greedy_res = sampled_res = scores = None
    if greedy:
        greedy_params = SamplingParams(n=1, temperature=0.0, **budget)
        greedy_res = [
            row[0]
            for row in solve(
                backend, problems, style, greedy_params, desc=f"{style} greedy", **solve_opts
            )
        ]
    if sampling is not None:
        sampled_res = solve(
            backend, problems, style, sampling, desc=f"{style} k={sampling.n}", **solve_opts
        )
        if scorer is not None:
            from mathlab.rewards import score_group

            scores = [
                score_group(scorer, p.question, p.answer, [r.text for r in row])
                for p, row in zip(problems, sampled_res, strict=True)
            ]
    return greedy_res, sampled_res, scores


def _add_greedy_counts(record: dict[str, Any], greedy_res, bad_gold: set[str]) -> None:
    """Finish reasons and mean tool calls of the greedy pass; the count of bad gold answers."""
    if greedy_res is not None:
        finish: dict[str, int] = defaultdict(int)
        for r in greedy_res:
            finish[r.finish_reason] += 1
        record["finish_reasons"] = dict(finish)
        record["mean_tool_calls"] = _mean([r.tool_calls for r in greedy_res])
    if bad_gold:
        record["n_bad_gold"] = len(bad_gold)


def _write_samples(run, record, samples, stage: str, dataset: str, style: str) -> Path:
    """Write the Sample rows to the run's samples file; the record names it."""
    from mathlab.data.records import write_jsonl

    samples_path = write_jsonl(run.samples_path(stage, dataset, style), samples)
    try:
        record["samples"] = str(samples_path.relative_to(run.path))
    except ValueError:
        record["samples"] = str(samples_path)
    return samples_path


# --------------------------------------------------------------------------- CLI
PROBLEM_FIELDS = {"id", "question", "answer", "solution", "source", "split", "meta"}


def load_problems(data: str, limit: int | None = None, seed: int = 0) -> tuple[list[Problem], str]:
    """(problems, dataset name) for ``--data``: ``gen:N`` (N generated test problems),
    a Problem JSONL file, or a real set (a file, folder or name ``load_real`` reads)."""
    if data.startswith("gen:"):
        from mathlab.data.generator import generate_problems

        try:
            n = int(data[4:])
        except ValueError:
            raise ValueError(
                f"--data {data!r}: expected gen:N with N a number of problems"
            ) from None
        if n < 1:
            raise ValueError(f"--data {data!r}: N must be >= 1")
        problems = generate_problems(n, seed, split="test")
        return problems[:limit] if limit else problems, f"gen{n}"
    path = Path(data).expanduser()
    if path.is_file() and path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            first = next((line for line in fh if line.strip()), "")
        try:
            keys = set(json.loads(first)) if first else set()
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:1: invalid JSON ({exc.msg})") from None
        if keys >= {"id", "question", "answer"} and keys <= PROBLEM_FIELDS:
            from mathlab.data.records import read_jsonl

            problems = list(read_jsonl(path))
            if limit:
                problems = problems[:limit]
            return problems, path.stem
    from mathlab.data.loaders import load_real

    problems, report = load_real(data, limit=limit, seed=seed)
    if report.n_skipped:
        print(f"{data}: {report.summary()}", file=sys.stderr)
    return problems, report.name


def _eval_parser() -> argparse.ArgumentParser:
    """The command line of ``mathlab eval``."""
    parser = argparse.ArgumentParser(
        prog="mathlab eval",
        description="Evaluate a model on a problem set: greedy accuracy, maj@k and pass@k, by style.",
        epilog="Examples: mathlab eval --model smollm2-135m-instruct --data gen:50 --style cot,pot --k 4\n"
        "          mathlab eval --model runs/cpu/models/sft --data gsm8k_test.jsonl --limit 200",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        required=True,
        help="model spec: smollm2-135m-instruct, tiny-random, a folder "
        "(HF model or PEFT adapter), a hub id; with --backend openai the served model name",
    )
    parser.add_argument(
        "--data",
        required=True,
        help="gen:N (N generated problems), a Problem JSONL file, or a "
        "real set file/folder/name (gsm8k, math500, ...) read by mathlab.data.loaders.load_real",
    )
    parser.add_argument(
        "--style", default="cot", help="comma-separated: cot, pot, hybrid, tir, calc (default cot)"
    )
    parser.add_argument(
        "--k",
        type=int,
        default=1,
        help="samples per problem for maj@k/pass@k (default 1: greedy only)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampling temperature for k > 1 (default 0.7)",
    )
    parser.add_argument("--limit", type=int, default=None, help="evaluate at most N problems")
    parser.add_argument(
        "--max-new-tokens", type=int, default=256, help="token budget per solution (default 256)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stage", default="eval", help="stage name in the record and samples file (default eval)"
    )
    parser.add_argument(
        "--dataset", default=None, help="dataset name in the record (default: from --data)"
    )
    parser.add_argument(
        "--out", default=None, help="a run folder: samples/ and metrics/eval.json are written there"
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "fast", "hf", "vllm", "openai"],
        default="auto",
        help="auto (default): the fast engine on CPU, HF on a GPU; hf: the transformers reference",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="fast/HF backend: sequences decoded together"
    )
    parser.add_argument("--device", default="auto", help="fast/HF backend: auto, cpu, cuda, mps")
    parser.add_argument(
        "--dtype", default="auto", help="fast/HF/vLLM backend: auto, float32, bfloat16, float16"
    )
    parser.add_argument(
        "--autocast",
        choices=["auto", "on", "off"],
        default="auto",
        help="fast/HF backend on CPU: bf16 matmuls; auto = fp32 greedy, bf16 sampling only "
        "where the CPU has fast native bf16 (default)",
    )
    parser.add_argument(
        "--base-url", default="http://127.0.0.1:8000/v1", help="OpenAI backend: the endpoint"
    )
    parser.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="OpenAI backend: env var holding the key"
    )
    parser.add_argument(
        "--breakdown", default="by_family", choices=["by_family", "by_steps", "by_source", "none"]
    )
    return parser


def _parse_eval_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The parsed arguments of ``mathlab eval`` and its styles (usage errors exit 2)."""
    from mathlab.prompts import STYLES

    parser = _eval_parser()
    args = parser.parse_args(argv)
    styles = [s.strip() for s in args.style.split(",") if s.strip()]
    for s in styles:
        if s not in STYLES:
            parser.error(f"--style {s!r}: expected one of {', '.join(STYLES)}")
    if args.k < 1:
        parser.error("--k must be >= 1")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be >= 1")
    if args.max_new_tokens < 1:
        parser.error("--max-new-tokens must be >= 1")
    return args, styles


def eval_main(argv: list[str] | None = None) -> int:
    """``mathlab eval --model SPEC --data PATH_OR_NAME --style cot --k 4 [--limit N] [--out DIR]``."""
    from mathlab.generate import backend_options, get_backend

    args, styles = _parse_eval_args(argv)
    try:
        problems, name = load_problems(args.data, args.limit, args.seed)
    except (OSError, ValueError) as exc:
        print(f"mathlab eval: --data {args.data}: {exc}", file=sys.stderr)
        return 2
    if not problems:
        print(f"mathlab eval: --data {args.data}: no problems", file=sys.stderr)
        return 2
    dataset = args.dataset or name
    opts = backend_options(
        args.backend,
        device=args.device,
        dtype=args.dtype,
        batch_size=args.batch_size,
        seed=args.seed,
        autocast={"auto": None, "on": True, "off": False}[args.autocast],
        base_url=args.base_url,
        api_key_env=args.api_key_env,
    )
    backend = get_backend(args.model, kind=args.backend, **opts)
    run = None
    if args.out:
        from mathlab.runs import Run

        run = Run(args.out, notebook="eval", seed=args.seed)
    records = []
    for style in styles:
        result = evaluate(
            backend,
            problems,
            style=style,
            k=args.k,
            temperature=args.temperature,
            max_new_tokens=args.max_new_tokens,
            stage=args.stage,
            dataset=dataset,
            run=run,
            seed=args.seed,
            model_name=args.model,
        )
        records.append(result.record)
    print()
    print(format_table(records, breakdown=None if args.breakdown == "none" else args.breakdown))
    if run is not None:
        print(f"\nsamples: {run.samples_dir}\nmetrics: {run.metrics_path}")
    return 0
