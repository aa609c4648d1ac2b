"""Sampling throughput on CPU: the fast sampler against HF generate and llama.cpp, with the
roofline, and the greedy agreement of the fast sampler with the HF fp32 reference.

    .venv/bin/python benchmarks/sampling.py                      # ~15 min on a quiet 2-core CPU
    .venv/bin/python benchmarks/sampling.py --llama-python /tmp/llamacpp-venv/bin/python
    .venv/bin/python benchmarks/sampling.py --quick              # smaller, for a first look

Everything runs in one process, one after another, on SmolLM2-135M-Instruct (the embedded
model), with generated grade-school problems in the shared CoT prompt (~90 prompt tokens):

1. the CPU (model, speed-relevant flags, torch's kernel level) and the matmul peak measured
   here in fp32 and bf16 (2048x2048, best of 5; an emulated bf16 gets a smaller matrix);
2. the naive loop: one prompt at a time through ``model.generate`` (fp32, greedy);
3. HF batched: ``mathlab.generate.HFBackend`` (fp32) at batch 32 and 64;
4. the fast sampler (``mathlab.engine.FastBackend``, fp32) at batch 1, 8, 32, 64, 128
   (b prompts for batch b), and at 64 slots over 4 x 64 prompts (continuous batching);
5. llama.cpp, single stream, on the same GGUF file the embedded model comes from (Q4_1),
   when llama-cpp-python imports here or in ``--llama-python`` (its own virtualenv);
6. greedy agreement: fast vs HF fp32 on ``--agreement`` prompts with natural stops
   (identical texts and answers), and the largest difference between the fast sampler's
   log-probabilities and the HF model's, teacher-forced on the same tokens.

Throughput rows sample at T=0.7 and force exactly ``--new-tokens`` tokens per prompt
(min_new_tokens), so every engine does the same work; tokens/s counts generated tokens over
the whole call (prefill included). Roofline: 2 x parameters FLOPs per generated token over
the best measured matmul peak of this CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import matmul_peaks, print_table  # noqa: E402
from mathlab.answers import extract_answer  # noqa: E402
from mathlab.data.generator import generate_problems  # noqa: E402
from mathlab.engine import FastBackend  # noqa: E402
from mathlab.generate import HFBackend, SamplingParams, render_prompt  # noqa: E402
from mathlab.models import gguf_path, load_model, load_tokenizer  # noqa: E402
from mathlab.precision import cpu_precision  # noqa: E402
from mathlab.prompts import cot_messages  # noqa: E402

SPEC = "smollm2-135m-instruct"

LLAMA_SCRIPT = r"""
import json, math, sys, time
import llama_cpp
args = json.loads(sys.argv[1])
llm = llama_cpp.Llama(model_path=args["gguf"], n_ctx=1024, n_threads=args["threads"],
                      n_batch=512, verbose=False, seed=0)
vocab = llm._model.vocab
# create_completion stops at any end-of-generation token: ban them all to force N tokens
bias = {t: -math.inf for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
llm.create_completion(args["prompts"][0], max_tokens=4, temperature=0)  # warm-up
tokens, wall = 0, 0.0
for text in args["prompts"]:
    llm.reset()  # no KV reuse from the previous prompt
    t = time.perf_counter()
    out = llm.create_completion(text, max_tokens=args["new_tokens"], temperature=0.7, seed=0,
                                top_k=0, top_p=1.0, min_p=0.0, logit_bias=bias)
    wall += time.perf_counter() - t
    tokens += out["usage"]["completion_tokens"]
print(json.dumps({"tokens": tokens, "wall_s": wall, "version": llama_cpp.__version__,
                  "system_info": llama_cpp.llama_print_system_info().decode()}))
"""


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def llama_cpp_single_stream(python: str, texts: list[str], new_tokens: int, threads: int):
    """llama.cpp single-stream decode on the embedded model's GGUF, in `python` (a
    virtualenv with llama-cpp-python); None when it cannot run there."""
    payload = json.dumps(
        {"gguf": str(gguf_path()), "prompts": texts, "new_tokens": new_tokens, "threads": threads}
    )
    proc = subprocess.run(
        [python, "-c", LLAMA_SCRIPT, payload], capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        print(f"llama.cpp: not measured ({proc.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--batch-sizes", default="1,8,32,64,128")
    parser.add_argument("--hf-batch-sizes", default="32,64")
    parser.add_argument("--naive-prompts", type=int, default=4)
    parser.add_argument("--agreement", type=int, default=64, help="prompts for greedy agreement")
    parser.add_argument("--agreement-tokens", type=int, default=160)
    parser.add_argument(
        "--llama-python",
        default=None,
        help="a python with llama-cpp-python (default: this one, if it imports llama_cpp)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a first look)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.new_tokens, args.batch_sizes, args.hf_batch_sizes = 48, "1,32,64", "32"
        args.naive_prompts, args.agreement = 2, 16
    return args


class Rows:
    """The throughput rows, each against the roofline (tokens/s at the matmul peak)."""

    def __init__(self, roofline: float):
        self.roofline, self.rows = roofline, []

    def record(self, engine: str, batch: str, n: int, tokens: int, wall: float, **extra) -> dict:
        row = {
            "engine": engine,
            "batch": batch,
            "prompts": n,
            "tokens": tokens,
            "wall_s": wall,
            "tokens_per_s": tokens / wall,
            "roofline": tokens / wall / self.roofline,
            **extra,
        }
        self.rows.append(row)
        print(
            f"  {engine:<34} batch {batch:>9}: {row['tokens_per_s']:7.1f} tok/s "
            f"({100 * row['roofline']:4.1f}% of roofline, {wall:.0f} s)",
            flush=True,
        )
        return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    info = cpu_precision()
    print(f"CPU: {info.describe()}", flush=True)
    fp32, bf16 = matmul_peaks(info.bf16_native)
    peak = {"fp32": fp32, "bf16": bf16}
    best_peak = max(peak.values())
    print(
        f"matmul peak ({args.threads} threads): fp32 {peak['fp32']:.1f}, bf16 {peak['bf16']:.1f} GFLOP/s",
        flush=True,
    )

    model = load_model(SPEC, device="cpu", dtype="float32")
    tok = load_tokenizer(SPEC)
    n_params = sum(p.numel() for p in model.parameters())
    roofline = best_peak * 1e9 / (2 * n_params)  # tokens/s at the peak
    biggest = max(int(b) for b in args.batch_sizes.split(","))
    n_prompts = max(4 * 64, biggest, args.agreement)
    problems = generate_problems(n_prompts, seed=0, split="test", max_steps=2)
    prompts = [cot_messages(p.question) for p in problems]
    prompt_tokens = sum(len(tok(render_prompt(tok, p)[0])["input_ids"]) for p in prompts) / len(
        prompts
    )
    rows = Rows(roofline)
    naive = naive_loop(model, tok, prompts, args, rows)
    batched(model, tok, prompts, args, rows)
    llama = llama_cpp_row(tok, prompts, args, rows)
    agreement = greedy_agreement(model, tok, prompts, args)

    # the table
    print()
    print(f"CPU: {info.cpu_model}; flags: {' '.join(info.flags)}; torch {torch.__version__} "
          f"({info.torch_capability}), {args.threads} threads")  # fmt: skip
    print(
        f"SmolLM2-135M-Instruct ({n_params / 1e6:.1f}M params), fp32 weights; prompts of "
        f"~{prompt_tokens:.0f} tokens, {args.new_tokens} new tokens each at T=0.7. Matmul peak: "
        f"fp32 {peak['fp32']:.0f}, bf16 {peak['bf16']:.1f} GFLOP/s; roofline = "
        f"{roofline:.0f} tokens/s (2 x params FLOPs per token at the best peak)"
    )
    print_results(rows.rows, naive, llama, agreement)
    total = time.perf_counter() - started
    print(f"total {total:.0f} s")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "cpu": info.to_dict(),
                    "peak_gflops": peak,
                    "roofline_tokens_per_s": roofline,
                    "rows": rows.rows,
                    "agreement": agreement,
                    "total_s": total,
                },
                indent=2,
                default=str,
            )  # fmt: skip
        )
    return 0


def naive_loop(model, tok, prompts, args, rows: Rows) -> dict:
    """2. One prompt at a time through ``model.generate`` (fp32, sampled)."""
    naive_tokens, naive_wall = 0, 0.0
    with torch.no_grad():
        for p in prompts[: args.naive_prompts]:
            ids = tok.apply_chat_template(
                p, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            out, dt = timed(
                lambda ids=ids: model.generate(
                    **ids,
                    max_new_tokens=args.new_tokens,
                    min_new_tokens=args.new_tokens,
                    do_sample=True,
                    temperature=0.7,
                    top_k=0,
                    pad_token_id=tok.pad_token_id,
                )
            )
            naive_tokens += out.shape[1] - ids["input_ids"].shape[1]
            naive_wall += dt
    return rows.record(
        "HF generate, one prompt at a time", "1", args.naive_prompts, naive_tokens, naive_wall
    )


def batched(model, tok, prompts, args, rows: Rows) -> None:
    """3. HF batched and 4. the fast sampler, each forced to ``--new-tokens`` tokens."""
    forced = SamplingParams(
        temperature=0.7, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, seed=0
    )
    for bs in [int(b) for b in args.hf_batch_sizes.split(",") if b]:
        hf = HFBackend(model, tok, batch_size=bs, autocast=False, show_progress=False)
        outs, dt = timed(lambda hf=hf, bs=bs: hf.generate(prompts[:bs], forced))
        rows.record(
            "HF batched (mathlab HFBackend)", str(bs), bs, sum(o[0].n_tokens for o in outs), dt
        )
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        fast = FastBackend(model, tok, slots=bs, show_progress=False)
        outs, dt = timed(lambda fast=fast, bs=bs: fast.generate(prompts[:bs], forced))
        rows.record(
            "fast sampler", str(bs), bs, sum(o[0].n_tokens for o in outs), dt, stats=fast.last_stats
        )
        del fast
    fast = FastBackend(model, tok, slots=64, show_progress=False)
    many = prompts[: 4 * 64]
    outs, dt = timed(lambda: fast.generate(many, forced))
    rows.record("fast sampler, continuous", f"64 of {len(many)}", len(many),
                sum(o[0].n_tokens for o in outs), dt, stats=fast.last_stats)  # fmt: skip


def llama_cpp_row(tok, prompts, args, rows: Rows) -> dict | None:
    """5. llama.cpp single stream, where llama-cpp-python runs (here or --llama-python)."""
    python = args.llama_python
    if python is None:
        try:
            import llama_cpp  # noqa: F401

            python = sys.executable
        except ImportError:
            print(
                "llama.cpp: llama-cpp-python is not installed here; pass --llama-python "
                "(a virtualenv with it) to measure the peer",
                flush=True,
            )
    if not python:
        return None
    texts = [render_prompt(tok, p)[0] for p in prompts[: args.naive_prompts]]
    res = llama_cpp_single_stream(python, texts, args.new_tokens, args.threads)
    if not res:
        return None
    return rows.record(
        f"llama.cpp {res['version']} (GGUF Q4_1)", "1", len(texts), res["tokens"],
        res["wall_s"], system_info=res["system_info"],
    )  # fmt: skip


def greedy_agreement(model, tok, prompts, args) -> dict:
    """6. Greedy texts and answers of the fast sampler against the HF fp32 reference, and
    its log-probabilities against the HF model's, teacher-forced on the same tokens."""
    hf = HFBackend(model, tok, batch_size=32, autocast=False, show_progress=False)
    fast = FastBackend(model, tok, slots=64, show_progress=False)
    sub = prompts[: args.agreement]
    greedy = SamplingParams(max_new_tokens=args.agreement_tokens, logprobs=True)
    (ref, t_hf), (cand, t_fast) = (
        timed(lambda: hf.generate(sub, greedy)),
        timed(lambda: fast.generate(sub, greedy)),
    )
    same_text = sum(a[0].text == b[0].text for a, b in zip(ref, cand))
    same_answer = sum(
        extract_answer(a[0].text) == extract_answer(b[0].text) for a, b in zip(ref, cand)
    )
    lp_diff = 0.0
    with torch.no_grad():
        for p, c in zip(sub[:16], cand[:16]):
            ids = fast.encode(p)
            logits = model(torch.tensor([ids + c[0].token_ids])).logits[0].float()
            lp = torch.log_softmax(logits, -1)
            ref_lp = [lp[len(ids) - 1 + t, x].item() for t, x in enumerate(c[0].token_ids)]
            lp_diff = max(lp_diff, max(abs(a - b) for a, b in zip(c[0].logprobs, ref_lp)))
    print(
        f"greedy agreement, fast vs HF fp32 on {len(sub)} prompts (natural stops, <= "
        f"{args.agreement_tokens} tokens): identical texts {same_text}/{len(sub)}, identical "
        f"answers {same_answer}/{len(sub)}; log-prob max |diff| vs the HF model {lp_diff:.2e}; "
        f"wall HF {t_hf:.0f} s, fast {t_fast:.0f} s",
        flush=True,
    )
    return {
        "prompts": len(sub),
        "identical_texts": same_text,
        "identical_answers": same_answer,
        "max_logprob_diff": lp_diff,
        "wall_hf_s": t_hf,
        "wall_fast_s": t_fast,
    }


def print_results(rows: list[dict], naive: dict, llama: dict | None, agreement: dict) -> None:
    columns = [
        ("engine", "<36"),
        ("batch", ">9"),
        ("tok/s", ">7"),
        ("roofline", ">8"),
        ("x naive", ">7"),
        ("x llama.cpp", ">11"),
    ]
    table = []
    for r in rows:
        vs_llama = f"{r['tokens_per_s'] / llama['tokens_per_s']:.1f}x" if llama else "-"
        table.append(
            [
                r["engine"],
                r["batch"],
                f"{r['tokens_per_s']:.1f}",
                f"{100 * r['roofline']:.1f}%",
                f"{r['tokens_per_s'] / naive['tokens_per_s']:.1f}x",
                vs_llama,
            ]
        )
    print_table(columns, table)
    n = agreement["prompts"]
    print(
        f"greedy (fast vs HF fp32, {n} prompts): {agreement['identical_texts']}/{n} identical "
        f"texts, {agreement['identical_answers']}/{n} identical answers; log-probs within "
        f"{agreement['max_logprob_diff']:.1e} of the HF model"
    )


if __name__ == "__main__":
    raise SystemExit(main())
