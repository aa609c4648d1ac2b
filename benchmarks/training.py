"""SFT training throughput: TRL's defaults against mathlab's settings, on the same rows.

    .venv/bin/python benchmarks/training.py                 # ~15 min on a quiet 2-core CPU
    .venv/bin/python benchmarks/training.py --steps 4 --skip-trl-bf16

Every configuration trains the embedded SmolLM2-135M-Instruct (full fine-tune) on the same
SFT rows (generated 1-2 step problems, the shared CoT prompt, annotated solutions) in the
same order and batch size, each in a fresh subprocess (so peak memory is its own): one
warm-up step, then ``--steps`` timed optimizer steps. Reported: tokens/s (real tokens, no
padding), seconds per step, MFU (6 x parameters x tokens/s over the matmul peak measured
here in fp32, or bf16 for the bf16 rows), peak RSS. The configurations:

* ``TRL defaults``: ``SFTConfig`` as it comes (bf16 autocast, gradient checkpointing,
  padded batches, TRL's fused LM head over every position on CPU, AdamW). On a CPU
  without native bf16 its bf16 is emulated and very slow; it runs ``--trl-bf16-steps``
  steps only (``--skip-trl-bf16`` skips it);
* ``TRL defaults, fp32``: the same with bf16 off: the baseline of the 1.5x goal;
* ``mathlab``: what ``mathlab.sft.train_sft`` runs (precision by hardware, no
  checkpointing, padding-free batches, LM head on the completion only, fused AdamW);
* ``mathlab - padding-free``, ``mathlab - packed attention`` (padding-free rows attended
  through transformers' block mask instead of per example) and ``mathlab - completion
  head``: each speed-up removed alone, to show what it buys.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import matmul_peaks, print_table  # noqa: E402

SPEC = "smollm2-135m-instruct"
CONFIGS = {
    "TRL defaults": {"trl": True, "bf16": True},
    "TRL defaults, fp32": {"trl": True, "bf16": False},
    "mathlab": {},
    "mathlab - padding-free": {"padding_free": False},
    "mathlab - packed attention": {"packed": False},
    "mathlab - completion head": {"completion_logits_only": False},
}


def rows_for(n: int, seed: int = 0) -> list[dict]:
    from mathlab.data.generator import generate_problems
    from mathlab.sft import build_rows

    problems = generate_problems(n, seed=seed, split="train", max_steps=2)
    return build_rows(problems, "answer_is")


def run_one(name: str, args) -> dict:
    """Train one configuration (in this process) and measure it."""
    import torch
    from trl import SFTConfig

    from mathlab.models import load_model, load_tokenizer
    from mathlab.sft import training_order

    torch.set_num_threads(args.threads)
    conf = CONFIGS[name]
    steps = args.trl_bf16_steps if conf.get("trl") and conf.get("bf16") else args.steps
    rows = training_order(rows_for((steps + 1) * args.batch_size), 0)
    model = load_model(SPEC, device="cpu", dtype="float32", trainable=True)
    tok = load_tokenizer(SPEC)
    kwargs, completion_only, bf16 = _config_kwargs(name, conf, steps, args)
    config = SFTConfig(**kwargs)
    packed = conf.get("packed", True)
    times, tokens, labels = _train_timed(model, config, rows, tok, completion_only, packed)
    timed = times[1:]  # the first step warms up
    trained = tokens[-1] - tokens[0]
    labelled = labels[-1] - labels[0]
    head = model.get_output_embeddings().weight.numel()
    body = sum(p.numel() for p in model.parameters()) - head  # the embedding is tied to the head
    # FLOPs really computed: the body on every token, the LM head on every token (TRL on
    # CPU) or on the labelled ones (completion head); x3 for forward + backward
    head_tokens = labelled if completion_only else trained
    flops = 6 * body * trained + 6 * head * head_tokens
    return {
        "config": name,
        "bf16": bf16,
        "gradient_checkpointing": bool(config.gradient_checkpointing),
        "padding_free": bool(config.padding_free),
        "completion_logits_only": completion_only,
        "optim": str(config.optim),
        "steps": len(timed),
        "tokens": trained,
        "wall_s": sum(timed),
        "tokens_per_s": trained / sum(timed),
        "s_per_step": sum(timed) / len(timed),
        "params": sum(p.numel() for p in model.parameters()),
        "label_tokens": labelled,
        "flops_per_s": flops / sum(timed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _config_kwargs(name: str, conf: dict, steps: int, args) -> tuple[dict, bool, bool]:
    """SFTConfig's arguments for configuration `name`, whether it computes the LM head on
    the completion only, and whether it trains in bf16."""
    from mathlab.config import SFTParams
    from mathlab.precision import train_bf16
    from mathlab.sft_trl import sft_config_kwargs

    out = Path(args.tmp) / name.replace(" ", "_").replace(",", "")
    if conf.get("trl"):
        kwargs = {
            "output_dir": str(out),
            "per_device_train_batch_size": args.batch_size,
            "max_steps": steps + 1,
            "use_cpu": True,
            "report_to": "none",
            "disable_tqdm": True,
            "save_strategy": "no",
            "bf16": conf["bf16"],
            "train_sampling_strategy": "sequential",
            "dataloader_num_workers": 0,
        }
        return kwargs, False, conf["bf16"]
    params = SFTParams(batch_size=args.batch_size, max_length=384).model_copy(
        update={k: v for k, v in conf.items() if k != "packed"}
    )
    kwargs = sft_config_kwargs(params, out, device="cpu", seed=0, max_steps=steps + 1)
    kwargs["save_strategy"] = "no"
    return kwargs, params.completion_logits_only, train_bf16(params.bf16, "cpu")


def _train_timed(model, config, rows, tok, completion_only: bool, packed: bool):
    """Train; returns the seconds of each step and the tokens (all, labelled) seen after it."""
    import datasets
    from transformers import TrainerCallback

    from mathlab.sft_trl import packed_attention, trainer_class, trainer_kwargs

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            times.append(time.perf_counter() - self.t)
            tokens.append(trainer.tokens_seen)
            labels.append(trainer.label_tokens_seen)

    tokens: list[int] = []
    labels: list[int] = []
    trainer = trainer_class()(
        **trainer_kwargs(model, config, datasets.Dataset.from_list(rows), tok, [Clock()], None)
    )
    trainer.completion_logits_only = completion_only
    with packed_attention(trainer.model, bool(config.padding_free) and packed):
        trainer.train()
    return times, tokens, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="timed optimizer steps per config")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--trl-bf16-steps", type=int, default=1)
    parser.add_argument("--skip-trl-bf16", action="store_true")
    parser.add_argument("--only", default=None, help="comma-separated config names")
    parser.add_argument("--json", default=None)
    parser.add_argument("--tmp", default="/tmp/mathlab-training-bench")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args)))
        return 0

    import torch

    from mathlab.precision import cpu_precision

    torch.set_num_threads(args.threads)
    info = cpu_precision()
    print(f"CPU: {info.describe()}", flush=True)
    fp32, bf16 = matmul_peaks(info.bf16_native)
    peak = {"float32": fp32, "bfloat16": bf16}
    print(
        f"matmul peak ({args.threads} threads): fp32 {peak['float32']:.1f} GFLOP/s, "
        f"bf16 {peak['bfloat16']:.1f} GFLOP/s",
        flush=True,
    )
    names = list(CONFIGS) if not args.only else [n.strip() for n in args.only.split(",")]
    if args.skip_trl_bf16:
        names = [n for n in names if n != "TRL defaults"]
    results = []
    for name in names:
        row = _run_child(name, args, peak)
        if row is None:
            return 1
        results.append(row)
    _print_results(args, info, torch.__version__, peak, results)
    if args.json:
        Path(args.json).write_text(json.dumps({"peak_gflops": peak, "results": results}, indent=2))
    return 0


def _run_child(name: str, args, peak: dict[str, float]) -> dict | None:
    """Configuration `name` trained in a fresh process, with its MFU and HFU; None (its
    stderr printed) when it failed."""
    cmd = [sys.executable, __file__, "--child", name, "--steps", str(args.steps),
           "--batch-size", str(args.batch_size), "--threads", str(args.threads),
           "--trl-bf16-steps", str(args.trl_bf16_steps), "--tmp", args.tmp]  # fmt: skip
    print(f"running {name} ...", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    p = peak["bfloat16" if row["bf16"] else "float32"]
    row["mfu"] = 6 * row["params"] * row["tokens_per_s"] / (p * 1e9)
    row["hfu"] = row["flops_per_s"] / (p * 1e9)
    print(
        f"  {name}: {row['tokens_per_s']:.1f} tok/s, {row['s_per_step']:.1f} s/step, "
        f"MFU {100 * row['mfu']:.1f}%, HFU {100 * row['hfu']:.1f}%, peak {row['peak_rss_mb']:.0f} MiB",
        flush=True,
    )
    return row


def _print_results(args, info, torch_version: str, peak: dict[str, float], results: list[dict]):
    base = next((r for r in results if r["config"] == "TRL defaults, fp32"), None)
    print()
    print(f"CPU: {info.cpu_model}; flags: {' '.join(info.flags)}; torch {torch_version}")
    print(
        f"SFT of SmolLM2-135M-Instruct (full), batch {args.batch_size} rows, {args.steps} timed "
        f"steps, {args.threads} threads; MFU = 6 x {results[0]['params'] / 1e6:.1f}M params x "
        f"tokens/s over the matmul peak (fp32 {peak['float32']:.0f}, bf16 {peak['bfloat16']:.1f} "
        "GFLOP/s)"
    )
    print(
        "HFU counts the FLOPs really computed: the LM head on the labelled tokens only where "
        "the completion head is on (MFU's 6 x params convention counts it on every token)"
    )
    columns = [
        ("config", "<28"),
        ("prec", ">4"),
        ("GC", ">3"),
        ("pad-free", ">8"),
        ("compl. head", ">11"),
        ("tok/s", ">7"),
        ("s/step", ">6"),
        ("MFU", ">6"),
        ("HFU", ">6"),
        ("peak MiB", ">8"),
        ("vs TRL fp32", ">11"),
    ]
    table = []
    for r in results:
        ratio = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}x" if base else "-"
        table.append(
            [
                r["config"],
                "bf16" if r["bf16"] else "fp32",
                "on" if r["gradient_checkpointing"] else "off",
                "yes" if r["padding_free"] else "no",
                "yes" if r["completion_logits_only"] else "no",
                f"{r['tokens_per_s']:.1f}",
                f"{r['s_per_step']:.2f}",
                f"{100 * r['mfu']:.1f}%",
                f"{100 * r['hfu']:.1f}%",
                f"{r['peak_rss_mb']:.0f}",
                ratio,
            ]
        )
    print_table(columns, table)


if __name__ == "__main__":
    raise SystemExit(main())
