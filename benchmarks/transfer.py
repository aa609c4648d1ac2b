"""Transfer check: is a fine-tuned model significantly worse than its base on real problems?

    .venv/bin/python benchmarks/transfer.py --data /path/to/gsm8k/train.jsonl \\
        --base smollm2-135m-instruct --model runs/cpu/models/sft --n 200

Loads a seeded sample of `--n` rows from a real set (GSM8K format or any kind that
``mathlab.data.loaders.load_real`` reads; the file is an argument, never required by the
project), evaluates both models greedily with the evaluation harness (the shared CoT
prompt, ``mathlab.evaluate.evaluate``) and prints a markdown table: accuracy with its 95%
Wilson interval per model.

Decision: both models answer the *same* problems, so the test is paired: McNemar's exact
test on the discordant problems (one-sided, H1: the fine-tuned model is worse); the model
is "significantly below" the base when p < alpha (0.05). The unpaired two-proportion
z-test p-value is printed for reference. Exit status 0 either way (it is a measurement);
``--fail-if-worse`` exits 1 when the fine-tuned model is significantly below the base.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from mathlab.data.loaders import load_real
from mathlab.evaluate import evaluate
from mathlab.generate import backend_options, get_backend
from mathlab.models import describe
from mathlab.stats import compare_paired


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a real set: file, folder or hub id")
    ap.add_argument("--kind", default=None, help="loader kind (default: inferred, e.g. gsm8k)")
    ap.add_argument("--base", default="smollm2-135m-instruct", help="base model spec")
    ap.add_argument("--model", required=True, help="fine-tuned model folder or spec")
    ap.add_argument("--n", type=int, default=200, help="rows sampled from the set (seeded)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--style",
        default="cot",
        choices=["cot", "calc"],
        help="decoding: plain CoT, or CoT with the calculator filling <<expr=",
    )
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=None, help="also write the result as JSON here")
    ap.add_argument("--fail-if-worse", action="store_true")
    return ap.parse_args(argv)


def run_model(spec: str, problems, args) -> tuple[list[bool], dict]:
    opts = backend_options("auto", device=args.device, batch_size=args.batch_size, seed=args.seed)
    backend = get_backend(spec, kind="auto", **opts)
    started = time.time()
    res = evaluate(
        backend,
        problems,
        style=args.style,
        k=1,
        max_new_tokens=args.max_new_tokens,
        stage="transfer",
        dataset="real",
        seed=args.seed,
        model_name=spec,
    )
    wall = time.time() - started
    tokens = sum(r["n_tokens"] for r in res.per_problem)
    flags = [bool(r["accuracy"]) for r in res.per_problem]
    return flags, {
        "wall_s": round(wall, 1),
        "tokens": tokens,
        "tokens_per_s": round(tokens / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problems, report = load_real(args.data, kind=args.kind, limit=args.n, seed=args.seed)
    print(
        f"{report.name}: {len(problems)} rows sampled from {report.source} "
        f"({report.n_rows} in the file, seed {args.seed})",
        flush=True,
    )
    base_flags, base_t = run_model(args.base, problems, args)
    model_flags, model_t = run_model(args.model, problems, args)
    c = compare_paired(base_flags, model_flags, alpha=args.alpha)
    rows = [
        ("base", args.base, c["acc_a"], c["ci_a"], base_t),
        ("fine-tuned", args.model, c["acc_b"], c["ci_b"], model_t),
    ]
    print("\n| model | spec | n | accuracy | 95% Wilson interval | tokens/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for role, spec, acc, (lo, hi), t in rows:
        print(
            f"| {role} | {spec} | {c['n']} | {acc:.3f} | {lo:.3f}-{hi:.3f} | {t['tokens_per_s']:.0f} |"
        )
    verdict = "SIGNIFICANTLY BELOW" if c["b_significantly_worse"] else "not significantly below"
    print(
        f"\nPaired on the same {c['n']} problems: base right / fine-tuned wrong on {c['only_a']}, "
        f"the reverse on {c['only_b']}. McNemar exact one-sided p (fine-tuned worse) = "
        f"{c['mcnemar_p_b_worse']:.4f}; two-proportion z-test one-sided p = {c['ztest_p_b_worse']:.4f}."
    )
    print(
        f"The fine-tuned model is {verdict} the base (alpha {args.alpha}, McNemar; "
        f"greedy {args.style} decoding)."
    )
    print(
        f"Base model: {describe(args.base)}. Machine: {platform.processor() or platform.machine()}."
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "data": str(args.data),
                    "n": c["n"],
                    "seed": args.seed,
                    "style": args.style,
                    "base": args.base,
                    "model": args.model,
                    "comparison": c,
                    "timing": {"base": base_t, "model": model_t},
                },
                indent=2,
            )
        )
    return 1 if args.fail_if_worse and c["b_significantly_worse"] else 0


if __name__ == "__main__":
    sys.exit(main())
