"""Training throughput of 06_rfft's small Llamas, and the training time a preset implies.

    .venv/bin/python benchmarks/rfft.py --preset cpu [--steps 30] [--threads 2]

For each kind of training run in the preset (LSO <tokens>-<format>, RFFT <format>) it trains a
fresh model for a few steps on the real data and reports ms/step, tokens/s (padding
included) and the projected training seconds for the preset's step budget. Run it on a
quiet machine: with other processes on the same cores, torch's worker threads wait on each
other and throughput can drop several-fold (2 threads on 2 busy cores is worst).
"""

from __future__ import annotations

import argparse
import time

import torch

from mathlab.config import load_config
from mathlab.rfft import experiments as ex
from mathlab.rfft import tasks
from mathlab.rfft.train import make_examples, tiny_llama, train_lm


def _bench(name: str, p, tok, texts, steps_budget: int, batch_size: int, steps: int) -> dict:
    examples = make_examples(tok, texts)
    model = tiny_llama(tok, p.layers, p.hidden, p.heads)
    train_lm(
        model, examples, 3, batch_size, p.lr, bf16=p.bf16, pad_id=tok.pad_token_id, desc="warmup"
    )
    log = train_lm(
        model, examples, steps, batch_size, p.lr, bf16=p.bf16, pad_id=tok.pad_token_id, desc=name
    )
    ms = 1000 * log.seconds / steps
    return {
        "run": name,
        "ms_per_step": round(ms, 1),
        "tokens_per_s": log.tokens_per_s,
        "budget_steps": steps_budget,
        "projected_s": round(ms * steps_budget / 1000, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    cfg = load_config(args.preset)
    p = cfg.rfft
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"preset={args.preset} threads={torch.get_num_threads()} bf16={p.bf16}")
    rows = []
    seen = set()
    for s in ex.check_params(p):
        if s.budget_key in seen or s.tokens == "lora":
            continue
        seen.add(s.budget_key)
        split = ex.make_lso_split(s.split, p, cfg.seed)
        tok = ex._tokenizer(s.tokens, s.fmt, p.lso_grid, cfg.model)
        texts = [tasks.format_example(s.fmt, a, b) for a, b in split.train]
        rows.append(
            _bench(s.budget_key, p, tok, texts, p.lso_steps[s.budget_key], p.batch_size, args.steps)
        )
    train, _ = tasks.rfft_problems(
        (1, p.rfft_train_max_digits), (1, 1), p.rfft_n_train, 1, cfg.seed
    )
    for fmt in p.rfft_formats:
        probe = [tasks.format_example(fmt, 99, 99, p.rfft_reverse)]
        tok = ex._tokenizer("digit", fmt, 10, cfg.model, [q + t for q, t in probe])
        texts = [tasks.format_example(fmt, a, b, p.rfft_reverse) for a, b in train]
        rows.append(
            _bench(
                f"rfft-{fmt}", p, tok, texts, p.rfft_steps[fmt], p.rfft_batch_size[fmt], args.steps
            )
        )
    total = 0.0
    for row in rows:
        n_runs = sum(1 for s in p.lso_settings if s.startswith(row["run"] + "-")) or 1
        total += n_runs * row["projected_s"]
        print(
            f"{row['run']:>18}: {row['ms_per_step']:7.1f} ms/step {row['tokens_per_s']:7d} tok/s  "
            f"x {row['budget_steps']} steps x {n_runs} run(s) = {n_runs * row['projected_s']:.0f} s"
        )
    print(
        f"projected training time for preset {args.preset}: {total:.0f} s (evaluation not included)"
    )


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"benchmark took {time.time() - t0:.0f} s")
