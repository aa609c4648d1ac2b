"""Supervised fine-tuning (02_sft, and the training step of 03_rft) with TRL's SFTTrainer.

Data: every training row is TRL's *conversational prompt-completion* format::

    {"prompt": cot_messages(question),                       # the shared CoT prompt
     "completion": [{"role": "assistant", "content": solution_in_some_format}]}

so the prompt the model is trained on is exactly the one it is evaluated with, and the
loss falls on the completion only: TRL 1.16 sets ``completion_only_loss`` to True for
prompt-completion data (``SFTConfig.completion_only_loss=None`` means "by dataset"), builds
a ``completion_mask`` while tokenizing and turns it into ``labels`` that are -100 on the
prompt (see :func:`tokenized_labels`, which the tests use to check it). We pass
``completion_only_loss=True`` explicitly so a change of that default cannot go unnoticed.

Formats (:data:`FORMATS`; Abel's "parental oversight" ablation compares them on the same
problems): ``answer_only`` (just ``The answer is: N``), ``plain`` (steps, no calculator
annotations) and ``answer_is`` (steps with GSM8K ``<<48/2=24>>`` annotations), all ending
in the ``The answer is: N`` line the CoT prompt asks for.

Training (:func:`train_sft`): full fine-tune, LoRA (PEFT) or QLoRA (bitsandbytes 4-bit,
CUDA only; imported lazily). What is passed to TRL/transformers/PEFT, the precision chosen
by hardware and the faster CPU trainer are in :mod:`mathlab.sft_trl`; the precision used is
printed and recorded in :class:`TrainResult` (``precision``). The stage lifecycle is
:mod:`mathlab.training`: a finished stage whose key (a hash of the data rows, the
parameters and the model) matches is skipped; checkpoints (one kept, every ``save_steps``
optimizer steps) let a re-run with the same key resume; the final model is saved
atomically with ``save_pretrained`` + tokenizer (adapters only for LoRA/QLoRA, with the
base model's spec recorded), so ``mathlab.models.load_model(path)`` loads it.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mathlab.config import SFTParams
from mathlab.data.records import Problem
from mathlab.prompts import cot_messages
from mathlab.sft_trl import (
    bnb_config_kwargs,
    lora_config_kwargs,
    loss_lines_class,
    packed_attention,
    peak_gflops,
    quiet_trainer,
    sft_config_kwargs,
    trainer_class,
    trainer_kwargs,
    use_bf16,
    weights_precision,
)
from mathlab.training import Stage, free_memory, last_loss, stage_key

FORMATS = {
    "answer_only": "answer only",
    "plain": "steps, no annotations",
    "answer_is": "steps + calculator annotations",
}


class SFTError(ValueError):
    """A training request that cannot run as asked; the message says why and what to change."""


# --------------------------------------------------------------------------- data
def completion_text(problem: Problem, fmt: str) -> str:
    """The solution of `problem` rendered in `fmt` (one of :data:`FORMATS`).

    Works for generated and real (GSM8K-style) rows alike: the generator re-renders the
    solution text (``mathlab.data.generator.render_solution``).
    """
    if fmt not in FORMATS:
        raise SFTError(f"unknown SFT format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if not problem.solution.strip():
        raise SFTError(f"problem {problem.id}: no solution to train on")
    from mathlab.data.generator import render_solution

    return render_solution(problem, fmt)


def sft_row(question: str, completion: str) -> dict[str, list[dict[str, str]]]:
    """One conversational prompt-completion row with the shared CoT prompt."""
    return {
        "prompt": cot_messages(question),
        "completion": [{"role": "assistant", "content": completion}],
    }


def build_rows(problems: Sequence[Problem], fmt: str = "answer_is") -> list[dict]:
    """Prompt-completion rows for SFTTrainer, one per problem, in `fmt`."""
    return [sft_row(p.question, completion_text(p, fmt)) for p in problems]


def fraction_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Subset sizes for the data-amount curve: round(f * n), at least 1, distinct, sorted."""
    for f in fractions:
        if not 0 < f <= 1:
            raise SFTError(
                f"fraction {f} is not in (0, 1] (sft.scaling_fractions, sft.format_fraction)"
            )
    return sorted({max(1, round(f * n)) for f in fractions})


# --------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What a training stage produced (its stage record: ``<output_dir>/stage.json``)."""

    model_dir: str
    key: str
    method: str
    base_model: str
    n_rows: int
    steps: int
    wall_s: float
    tokens: int
    tokens_per_s: float
    final_loss: float | None
    history: list[dict[str, float]] = field(default_factory=list)
    skipped: bool = False  # True: a finished stage with the same key was reused
    resumed_from: str | None = None  # the checkpoint training resumed from, if any
    precision: str = "unknown"  # "bf16-autocast" or the weights' dtype ("fp32", "bf16", ...);
    #   "unknown" in stage records written before it was recorded
    mfu: float | None = None  # 6 x parameters x tokens/s over the measured matmul peak (CPU)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def training_order(rows: Sequence[dict], seed: int = 0) -> list[dict]:
    """The rows sorted by a seeded hash of their content: the order training reads them.

    A shuffle, but a *stable* one: adding rows (RFT's originals + kept paths, or a larger
    nested subset) slots them in between without reordering the others, so two stages that
    share rows see those rows in the same relative order. Comparisons between them (RFT vs
    SFT) then measure the added data, not a different shuffle (common random numbers).
    Every epoch reads the same order.
    """
    import hashlib

    def key(row: dict) -> str:
        text = json.dumps(row, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(f"{seed}\0{text}".encode()).hexdigest()

    return sorted(rows, key=key)


def sft_stage_inputs(
    model_spec: str,
    rows: Sequence[dict],
    params: SFTParams,
    seed: int,
    epochs: float | None = None,
    max_steps: int | None = None,
    bf16: bool | None = None,
) -> dict[str, Any]:
    """What an SFT stage's key hashes: data rows, parameters, base model, seed, length.

    `bf16`: the precision actually used (:func:`mathlab.sft_trl.use_bf16`) in place of
    ``params.bf16``, so a stage trained in fp32 is not reused where bf16 is chosen, and the
    other way round.
    """
    dumped = params.model_dump(mode="json")
    if bf16 is not None:
        dumped["bf16"] = bool(bf16)
    return {
        "model": model_spec,
        "rows": list(rows),
        "params": dumped,
        "epochs": epochs,
        "max_steps": max_steps,
        "seed": seed,
        "order": "content-hash",  # training_order(); random-sampler stages differ
    }


def finished_stage(output_dir: str | Path, key: str) -> TrainResult | None:
    """The stored result when `output_dir` holds a finished stage with this key, else None."""
    record = Stage(output_dir, key).finished()
    return None if record is None else TrainResult(**{**record, "skipped": True})


def train_sft(
    model_spec: str,
    rows: Sequence[dict],
    params: SFTParams,
    output_dir: str | Path,
    *,
    device: str = "cpu",
    dtype: str = "auto",
    seed: int = 0,
    max_steps: int | None = None,
    epochs: float | None = None,
    label: str = "sft",
    force: bool = False,
    callbacks: Sequence = (),
) -> TrainResult:
    """Fine-tune `model_spec` on prompt-completion `rows`; save to `output_dir`.

    A finished stage with the same key (rows, params, model, seed, length) is skipped
    unless `force`; an unfinished one resumes from its last checkpoint (kept in
    ``output_dir/checkpoints`` every ``params.save_steps`` steps). `callbacks`: more
    ``TrainerCallback`` objects. Returns a TrainResult.
    """
    from mathlab.models import resolve_device

    if not rows:
        raise SFTError(f"{label}: no training rows")
    device = resolve_device(device)
    bf16 = use_bf16(params, device)
    inputs = sft_stage_inputs(model_spec, rows, params, seed, epochs, max_steps, bf16=bf16)
    stage = Stage(output_dir, stage_key(inputs), label)
    done = None if force else finished_stage(stage.folder, stage.key)
    if done is not None:
        print(
            f"{label}: finished stage with the same data and parameters in {stage.folder}; skipped",
            flush=True,
        )
        return done
    resume = stage.begin(force)
    run = _SFTRun(model_spec, rows, params, device, dtype, seed, bf16, label)
    result = run.train(stage, resume, max_steps, epochs, callbacks)
    util = f", MFU {result.mfu:.0%}" if result.mfu is not None else ""
    print(
        f"{label}: {result.steps} steps in {result.wall_s:.0f}s, {result.tokens_per_s:.0f} tok/s "
        f"({result.precision}{util}), final loss {result.final_loss}",
        flush=True,
    )
    return result


@dataclass
class _SFTRun:
    """One training run of :func:`train_sft` (the stage is neither finished nor skipped)."""

    model_spec: str
    rows: Sequence[dict]
    params: SFTParams
    device: str
    dtype: str
    seed: int
    bf16: bool
    label: str

    def padding_free(self, tokenizer) -> bool:
        """``params.padding_free``, unless a row is longer than ``params.max_length`` (TRL
        does not truncate padding-free rows): then padded batches with truncation."""
        p = self.params
        if not p.padding_free:
            return False
        too_long = sum(n > p.max_length for n in row_lengths(self.rows, tokenizer))
        if too_long:
            print(
                f"{self.label}: {too_long} rows are longer than sft.max_length={p.max_length} "
                f"tokens: padded batches with truncation for this stage instead of padding-free",
                flush=True,
            )
        return not too_long

    def trainer(self, model, peft_config, tokenizer, args, callbacks):
        """The trainer (TRL's SFTTrainer made faster on CPU) with its LossLines callback."""
        import datasets

        lines = loss_lines_class()(
            self.label,
            sum(p.numel() for p in model.parameters()),
            peak_gflops(self.device, self.bf16),
        )
        dataset = datasets.Dataset.from_list(training_order(self.rows, self.seed))
        trainer = trainer_class()(
            **trainer_kwargs(model, args, dataset, tokenizer, [lines, *callbacks], peft_config)
        )
        trainer.completion_logits_only = self.params.completion_logits_only
        lines.token_source = functools.partial(getattr, trainer, "tokens_seen")
        quiet_trainer(trainer)
        return trainer, lines

    def train(self, stage: Stage, resume, max_steps, epochs, callbacks) -> TrainResult:
        """Train (from `resume`, a checkpoint, when given), save the stage; the result."""
        from trl import SFTConfig

        from mathlab.models import load_tokenizer
        from mathlab.precision import announce, precision_name

        p, label = self.params, self.label
        announce(
            f"{label} training", self.bf16, device=self.device, requested=p.bf16, setting="sft.bf16"
        )
        model, peft_config = _model_and_peft(self.model_spec, p, self.device, self.dtype, self.seed)
        precision = precision_name(self.bf16) if self.bf16 else weights_precision(model)
        tokenizer = load_tokenizer(self.model_spec)
        padding_free = self.padding_free(tokenizer)
        args = SFTConfig(
            **sft_config_kwargs(
                p, stage.checkpoints, self.device, self.seed, max_steps, epochs, padding_free
            )
        )
        trainer, lines = self.trainer(model, peft_config, tokenizer, args, callbacks)
        if resume:
            print(f"{label}: resuming from {resume}", flush=True)
        started = time.time()
        with packed_attention(trainer.model, padding_free):
            out = trainer.train(resume_from_checkpoint=resume)
        wall = time.time() - started
        tokens = trainer.tokens_seen
        result = TrainResult(
            model_dir=str(stage.folder),
            key=stage.key,
            method=p.method,
            base_model=self.model_spec,
            n_rows=len(self.rows),
            steps=int(trainer.state.global_step),
            wall_s=round(wall, 1),
            tokens=tokens,
            tokens_per_s=round(tokens / wall, 1) if wall > 0 else 0.0,
            final_loss=_finite(last_loss(lines.history) if lines.history else out.training_loss),
            history=lines.history,
            resumed_from=resume,
            precision=precision,
            mfu=_round(lines.mfu(tokens / wall)) if wall > 0 else None,
        )
        write = functools.partial(_save_final, trainer, tokenizer, self.model_spec, p.method)
        stage.save(write, result.to_dict())
        lines.token_source = None  # drop the reference: the trainer's memory goes now
        del trainer, model, out, write
        free_memory()
        return result


def _save_final(trainer, tokenizer, model_spec: str, method: str, folder: Path) -> None:
    """save_pretrained (+ tokenizer); adapters record the base spec so load_model finds it."""
    trainer.model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    if method != "full":
        cfg_path = folder / "adapter_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["base_model_name_or_path"] = model_spec
        cfg_path.write_text(json.dumps(cfg, indent=2))


# --------------------------------------------------------------------------- planning
TRAIN_EFFICIENCY = 0.6
"""Training runs at about this fraction of 6 x parameters x tokens/s at the CPU's matmul
peak (benchmarks/training.py: 0.6-0.75 for SmolLM2-135M, fp32 on AVX2)."""
SAMPLE_EFFICIENCY = 0.3
"""Sampling (prefill included, short answers) runs at about this fraction of 2 x parameters
per generated token at the peak (benchmarks/sampling.py, batch 32-128)."""


def expected_rates(n_params: int, device: str = "cpu", bf16: bool | None = None) -> dict:
    """Training and sampling tokens/s to plan with on this machine: the CPU's measured matmul
    peak (:mod:`mathlab.precision`) times the efficiencies the benchmarks measured. An
    estimate for planning, not a promise: a shared machine is slower."""
    from mathlab.precision import cpu_precision, train_bf16

    bf16 = train_bf16(bf16, device) if bf16 is None else bf16
    info = cpu_precision()
    peak = (info.bf16_gflops if bf16 else info.fp32_gflops) or 50.0
    fp32 = info.fp32_gflops or 50.0
    return {
        "train": TRAIN_EFFICIENCY * peak * 1e9 / (6 * n_params),
        "sample": SAMPLE_EFFICIENCY * fp32 * 1e9 / (2 * n_params),
        "peak_gflops": peak,
        "precision": "bf16" if bf16 else "fp32",
    }


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _model_and_peft(model_spec: str, params: SFTParams, device: str, dtype: str, seed: int):
    """The model to train and the PEFT config (None for a full fine-tune)."""
    from mathlab.models import load_model

    if params.method == "full":
        return load_model(model_spec, device=device, dtype=dtype, seed=seed, trainable=True), None
    from peft import LoraConfig

    peft_config = LoraConfig(**lora_config_kwargs(params))
    if params.method == "lora":
        return load_model(
            model_spec, device=device, dtype=dtype, seed=seed, trainable=True
        ), peft_config
    # QLoRA: 4-bit base weights through bitsandbytes, CUDA only
    reason = qlora_unavailable(device)
    if reason:
        raise SFTError(
            f"sft.method='qlora' cannot run here: {reason}. Use sft.method='lora' or 'full'."
        )
    from peft import prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(**bnb_config_kwargs())
    model = load_model(
        model_spec,
        device=device,
        dtype="bfloat16",
        seed=seed,
        trainable=True,
        quantization_config=quant,
    )
    model = prepare_model_for_kbit_training(
        model, use_gradient_checkpointing=params.gradient_checkpointing
    )
    return model, peft_config


def qlora_unavailable(device: str = "cuda") -> str | None:
    """Why QLoRA cannot run here (None when it can): it needs CUDA and bitsandbytes."""
    import importlib.util

    import torch

    if device != "cuda":
        return f"QLoRA needs a CUDA GPU (bitsandbytes 4-bit kernels); the device is {device}"
    if not torch.cuda.is_available():
        return "QLoRA needs a CUDA GPU (bitsandbytes 4-bit kernels) and none is available"
    if importlib.util.find_spec("bitsandbytes") is None:
        return "the package bitsandbytes is not installed (pip install 'mathlab[gpu]')"
    return None


# --------------------------------------------------------------------------- inspection
def tokenized_labels(
    rows: Sequence[dict], tokenizer, params: SFTParams, model=None
) -> list[dict[str, list[int]]]:
    """The input_ids and labels SFTTrainer trains on for `rows` (for tests and the notebook).

    Built by a real SFTTrainer (no training step), so it shows what the trainer does:
    labels are -100 on every prompt token.
    """
    import tempfile

    import datasets
    from trl import SFTConfig, SFTTrainer

    from mathlab.models import load_model

    model = model if model is not None else load_model("tiny-random", device="cpu")
    with tempfile.TemporaryDirectory(prefix="mathlab-labels-") as tmp:
        args = SFTConfig(**sft_config_kwargs(params, tmp, "cpu", 0))
        dataset = datasets.Dataset.from_list(list(rows))
        trainer = SFTTrainer(**trainer_kwargs(model, args, dataset, tokenizer, [], None))
        return [{"input_ids": r["input_ids"], "labels": r["labels"]} for r in trainer.train_dataset]


# --------------------------------------------------------------------------- ablations
@dataclass
class AblationPoint:
    """One model of the data-amount / data-format ablations."""

    kinds: list[str]  # "scaling" and/or "format"
    fmt: str
    n_train: int
    model_dir: str
    train: dict[str, Any] | None = None  # TrainResult.to_dict() (None for the main model)
    eval: dict[str, Any] = field(default_factory=dict)  # what evaluate_fn returned


def ablation_plan(n_train: int, params: SFTParams) -> list[tuple[str, int, list[str]]]:
    """(format, size, kinds) of every model the ablations need, each once.

    Scaling: the main format at each fraction of the training set (nested subsets).
    Formats: every ablation format at ``format_fraction`` of the set. A (format, size) pair
    that both need is trained once; the main model (main format, all problems) is reused.
    """
    plan: dict[tuple[str, int], list[str]] = {}
    for n in fraction_sizes(n_train, params.scaling_fractions):
        plan.setdefault((params.format, n), []).append("scaling")
    (fmt_n,) = fraction_sizes(n_train, [params.format_fraction])
    for fmt in params.ablation_formats:
        plan.setdefault((fmt, fmt_n), []).append("format")
    return [
        (fmt, n, kinds)
        for (fmt, n), kinds in sorted(plan.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def run_ablations(
    model_spec: str,
    train_set: Sequence[Problem],
    params: SFTParams,
    models_dir: str | Path,
    main_dir: str | Path,
    evaluate_fn,
    *,
    device: str = "cpu",
    seed: int = 0,
) -> list[AblationPoint]:
    """Train (or reuse) every ablation model and evaluate it with ``evaluate_fn(model_dir,
    name) -> dict``. The subset of size n is the first n of ``train_set`` (already a seeded
    shuffle, so subsets are nested); the main model (``main_dir``) is not retrained."""
    points = []
    for fmt, n, kinds in ablation_plan(len(train_set), params):
        name = f"{fmt}-n{n}"
        if fmt == params.format and n == len(train_set):
            point = AblationPoint(kinds, fmt, n, str(main_dir))
        else:
            out = Path(models_dir) / name
            result = train_sft(
                model_spec,
                build_rows(train_set[:n], fmt),
                params,
                out,
                device=device,
                seed=seed,
                label=f"ablation {name}",
            )
            point = AblationPoint(kinds, fmt, n, str(out), result.to_dict())
        point.eval = evaluate_fn(point.model_dir, name)
        points.append(point)
    return points


# --------------------------------------------------------------------------- budget
def row_lengths(rows: Sequence[dict], tokenizer) -> list[int]:
    """Tokens of each row as SFTTrainer sees it (chat template applied, prompt + completion)."""
    return [
        len(
            tokenizer.apply_chat_template(
                r["prompt"] + r["completion"], tokenize=True, return_dict=True
            )["input_ids"]
        )
        for r in rows
    ]


def count_tokens(rows: Sequence[dict], tokenizer) -> int:
    """Tokens SFTTrainer will see for `rows` (chat template applied, prompt + completion)."""
    return sum(row_lengths(rows, tokenizer))
