"""Sampling throughput of the HF backend on SmolLM2-135M-Instruct (CPU), and bf16 agreement.

    .venv/bin/python benchmarks/sampling.py            # ~10 min on a shared 2-core CPU
    .venv/bin/python benchmarks/sampling.py --threads 1 --json /tmp/sampling.json

What it measures, side by side in one run (ratios are what matter on a shared machine):

1. the matmul peak of this CPU: ``torch.matmul`` on 2048x2048 in fp32 and in bf16;
2. greedy agreement of bf16 autocast with fp32 on ``--agreement`` CoT prompts (natural
   stops): identical texts, identical final answers, accuracy of each; this decides
   ``mathlab.generate.CPU_AUTOCAST_DEFAULT``;
3. generated tokens/s for batch sizes 1..64, fp32 and bf16 autocast: one batch of that
   many prompts, exactly ``--sweep-tokens`` new tokens each (``min_new_tokens`` too, so
   counts are comparable), and the fraction of the compute roofline it reaches:
   2 x parameters FLOPs per generated token over the measured matmul peak ("gen"); "all"
   also counts the prompt tokens the model processed (prefill);
4. the naive loop (one prompt at a time, plain ``model.generate``, fp32) on
   ``--naive-prompts`` prompts, against the batched backend as sampling runs it (default
   batch size, bf16 autocast) on all ``--prompts`` prompts, ``--max-new-tokens`` each.

Prompts: generated grade-school problems (seed 0, test split) in the CoT prompt.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mathlab.answers import extract_answer, is_correct  # noqa: E402
from mathlab.data.generator import generate_problems  # noqa: E402
from mathlab.generate import CPU_AUTOCAST_DEFAULT, HFBackend, SamplingParams  # noqa: E402
from mathlab.models import load_model, load_tokenizer  # noqa: E402
from mathlab.prompts import cot_messages  # noqa: E402

SPEC = "smollm2-135m-instruct"


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 5) -> float:
    """Best-of-`reps` GFLOP/s of an n x n matmul."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def teacher_forced_agreement(model, tok, prompts, solutions) -> dict:
    """fp32 vs bf16 autocast on the same token sequences (prompt + gold solution): how often
    the next-token argmax differs, and the mean absolute difference of the gold tokens'
    log-probabilities. Greedy texts diverge after the first flip; this counts the flips."""
    agree = total = 0
    diff = 0.0
    for messages, solution in zip(prompts, solutions):
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        n_prompt = len(tok(text, add_special_tokens=False)["input_ids"])
        ids = torch.tensor([tok(text + solution, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            f32 = model(ids).logits[0, n_prompt - 1 : -1].float()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                b16 = model(ids).logits[0, n_prompt - 1 : -1].float()
        target = ids[0, n_prompt:]
        agree += int((f32.argmax(-1) == b16.argmax(-1)).sum())
        total += len(target)
        lp32 = torch.log_softmax(f32, -1).gather(1, target[:, None])
        lp16 = torch.log_softmax(b16, -1).gather(1, target[:, None])
        diff += float((lp32 - lp16).abs().sum())
    return {
        "forced_tokens": total,
        "forced_argmax_agreement": agree / total,
        "forced_mean_abs_logprob_diff": diff / total,
    }


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--sweep-tokens", type=int, default=48)
    parser.add_argument("--batch-sizes", default="1,2,4,8,16,32,64")
    parser.add_argument("--naive-prompts", type=int, default=8)
    parser.add_argument(
        "--agreement", type=int, default=32, help="prompts for the fp32/bf16 agreement (0: skip)"
    )
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    out: dict = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    print(f"threads={out['threads']} torch={torch.__version__}", flush=True)

    model = load_model(SPEC, device="cpu", dtype="float32")
    tok = load_tokenizer(SPEC)
    n_params = sum(p.numel() for p in model.parameters())
    problems = generate_problems(args.prompts, seed=0, split="test")
    prompts = [cot_messages(p.question) for p in problems]
    out["params"] = n_params

    # 1. peaks
    peak = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    out["peak_gflops"] = peak
    print(
        f"matmul 2048^2 peak: fp32 {peak['fp32']:.1f} GFLOP/s, bf16 {peak['bf16']:.1f} GFLOP/s",
        flush=True,
    )

    def backend(bs: int, autocast: bool) -> HFBackend:
        return HFBackend(
            model, tok, batch_size=bs, autocast=autocast, name=SPEC, show_progress=False
        )

    # 2. agreement
    if args.agreement:
        sub = prompts[: args.agreement]
        gold = [p.answer for p in problems[: args.agreement]]
        greedy = SamplingParams(max_new_tokens=args.max_new_tokens)
        res = {}
        for name, ac in (("fp32", False), ("bf16", True)):
            outs, dt = timed(lambda ac=ac: backend(32, ac).generate(sub, greedy))
            res[name] = ([o[0] for o in outs], dt)
        f32, b16 = res["fp32"][0], res["bf16"][0]
        same_text = sum(a.text == b.text for a, b in zip(f32, b16))
        same_answer = sum(
            extract_answer(a.text) == extract_answer(b.text) for a, b in zip(f32, b16)
        )
        prefix_tokens = []
        for a, b in zip(f32, b16):
            ia, ib = tok(a.text)["input_ids"], tok(b.text)["input_ids"]
            k = next((i for i, (x, y) in enumerate(zip(ia, ib)) if x != y), min(len(ia), len(ib)))
            prefix_tokens.append(k / max(len(ia), 1))
        acc = {
            n: sum(is_correct(c.text, g) for c, g in zip(res[n][0], gold)) / len(gold) for n in res
        }
        forced = teacher_forced_agreement(
            model, tok, sub, [p.solution for p in problems[: args.agreement]]
        )
        out["agreement"] = {
            "prompts": len(sub),
            "same_text": same_text,
            "same_answer": same_answer,
            "mean_shared_prefix": sum(prefix_tokens) / len(prefix_tokens),
            "accuracy_fp32": acc["fp32"],
            "accuracy_bf16": acc["bf16"],
            "wall_fp32_s": res["fp32"][1],
            "wall_bf16_s": res["bf16"][1],
            **forced,
        }
        print(
            f"agreement on {len(sub)} greedy CoT prompts: identical text {same_text}/{len(sub)}, "
            f"identical answer {same_answer}/{len(sub)}, shared prefix {100 * out['agreement']['mean_shared_prefix']:.0f}% "
            f"of tokens; accuracy fp32 {acc['fp32']:.3f} vs bf16 {acc['bf16']:.3f}; "
            f"wall fp32 {res['fp32'][1]:.0f} s, bf16 {res['bf16'][1]:.0f} s",
            flush=True,
        )
        print(
            f"teacher-forced on the gold solutions ({forced['forced_tokens']} tokens): next-token "
            f"argmax agrees at {100 * forced['forced_argmax_agreement']:.2f}% of positions; mean "
            f"|logprob diff| {forced['forced_mean_abs_logprob_diff']:.4f} nats/token",
            flush=True,
        )

    # 3. sweep
    forced = SamplingParams(max_new_tokens=args.sweep_tokens, min_new_tokens=args.sweep_tokens)
    sweep = []
    for bs in [int(x) for x in args.batch_sizes.split(",")]:
        if bs > len(prompts):
            continue
        for name, ac in (("fp32", False), ("bf16", True)):
            b = backend(bs, ac)
            sub = prompts[:bs]
            prompt_tokens = sum(len(b.encode(p)) for p in sub)
            outs, dt = timed(lambda b=b, sub=sub: b.generate(sub, forced))
            gen = sum(o[0].n_tokens for o in outs)
            tps = gen / dt
            row = {
                "batch": bs,
                "dtype": name,
                "gen_tokens": gen,
                "wall_s": dt,
                "tokens_per_s": tps,
                "roofline_gen": 2 * n_params * tps / (peak[name] * 1e9),
                "roofline_all": 2 * n_params * (gen + prompt_tokens) / dt / (peak[name] * 1e9),
            }
            sweep.append(row)
            print(
                f"  batch {bs:3d} {name}: {tps:7.1f} tok/s ({dt:5.1f} s) roofline gen {100 * row['roofline_gen']:4.1f}% "
                f"all {100 * row['roofline_all']:4.1f}%",
                flush=True,
            )
    out["sweep"] = sweep

    # 4. naive loop vs the batched backend (same forced token count)
    naive_tokens, naive_time = 0, 0.0
    with torch.no_grad():
        for p in prompts[: args.naive_prompts]:
            ids = tok.apply_chat_template(
                p, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            t = time.perf_counter()
            o = model.generate(
                **ids,
                max_new_tokens=args.max_new_tokens,
                min_new_tokens=args.max_new_tokens,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
            )
            naive_time += time.perf_counter() - t
            naive_tokens += o.shape[1] - ids["input_ids"].shape[1]
    naive_tps = naive_tokens / naive_time
    # the backend as sampling uses it (default batch size, bf16 autocast: CPU_AUTOCAST_DEFAULT)
    default = HFBackend(model, tok, name=SPEC, show_progress=False, autocast=True)
    forced_long = SamplingParams(
        max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens
    )
    outs, dt = timed(lambda: default.generate(prompts, forced_long))
    batched_tokens = sum(o[0].n_tokens for o in outs)
    batched_tps = batched_tokens / dt
    out["naive"] = {
        "prompts": args.naive_prompts,
        "tokens": naive_tokens,
        "wall_s": naive_time,
        "tokens_per_s": naive_tps,
        "est_wall_all_prompts_s": naive_time * len(prompts) / args.naive_prompts,
    }
    out["batched"] = {
        "prompts": len(prompts),
        "batch_size": default.batch_size,
        "autocast": True,
        "tokens": batched_tokens,
        "wall_s": dt,
        "tokens_per_s": batched_tps,
        "roofline_gen": 2 * n_params * batched_tps / (peak["bf16"] * 1e9),
    }
    out["speedup"] = batched_tps / naive_tps
    out["total_wall_s"] = time.perf_counter() - started

    # table
    print()
    print(
        f"SmolLM2-135M-Instruct ({n_params / 1e6:.1f} M params), CPU, {out['threads']} thread(s); "
        f"matmul peak fp32 {peak['fp32']:.0f} / bf16 {peak['bf16']:.0f} GFLOP/s"
    )
    print(
        f"{'batch':>5} | {'fp32 tok/s':>10} | {'bf16 tok/s':>10} | {'bf16/fp32':>9} | {'roofline fp32':>13} | "
        f"{'roofline bf16':>13}"
    )
    by = {(r["batch"], r["dtype"]): r for r in sweep}
    for bs in sorted({r["batch"] for r in sweep}):
        f, b = by[(bs, "fp32")], by[(bs, "bf16")]
        print(
            f"{bs:>5} | {f['tokens_per_s']:>10.1f} | {b['tokens_per_s']:>10.1f} | {b['tokens_per_s'] / f['tokens_per_s']:>9.2f} | "
            f"{100 * f['roofline_gen']:>5.1f}% ({100 * f['roofline_all']:4.1f}%) | {100 * b['roofline_gen']:>5.1f}% ({100 * b['roofline_all']:4.1f}%)"
        )
    print("(roofline: generated tokens only; in brackets with the prompt tokens processed too)")
    print(
        f"naive loop (1 prompt at a time, fp32, {args.naive_prompts} prompts): {naive_tps:.1f} tok/s "
        f"-> {out['naive']['est_wall_all_prompts_s']:.0f} s for {len(prompts)} prompts"
    )
    print(
        f"batched backend (bs {default.batch_size}, bf16 autocast, {len(prompts)} prompts): "
        f"{batched_tps:.1f} tok/s in {dt:.0f} s = {out['speedup']:.1f}x the naive loop; "
        f"{100 * out['batched']['roofline_gen']:.1f}% of the roofline"
    )
    print(f"CPU_AUTOCAST_DEFAULT = {CPU_AUTOCAST_DEFAULT}; total {out['total_wall_s']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
