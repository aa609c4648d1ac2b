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
CUDA only; imported lazily). Precision by hardware (:func:`use_bf16`, ``sft.bf16: null``):
on CPU, where bf16 is native and a short matmul probe shows it faster than fp32
(:mod:`mathlab.precision`; AVX512-BF16/AMX, about 2.7x), ``bf16=True`` + ``use_cpu=True``
makes accelerate wrap the forward pass in ``torch.autocast("cpu", dtype=torch.bfloat16)``:
weights and optimizer state stay fp32, matmuls run in bf16. Elsewhere (AVX2-only CPUs,
where torch emulates bf16 ~90x slower than fp32) training runs in fp32. The choice is
printed and recorded in :class:`TrainResult` (``precision``). Gradient
checkpointing is off unless asked for (TRL turns it on by default; on CPU it only costs
time). Headless: ``disable_tqdm=True`` and :class:`LossLines` prints one line per logging
step. No reporting integrations. Checkpoints: one kept (``save_total_limit=1``) every
``save_steps`` optimizer steps; a re-run resumes from it when its stage key matches, and
a finished stage whose key (a hash of the data rows, the parameters and the model) matches
is skipped. The final model is saved with ``save_pretrained`` + tokenizer (adapters only
for LoRA/QLoRA, with the base model's spec recorded), so ``mathlab.models.load_model(path)``
loads it.

Every keyword argument passed to a transformers/TRL/PEFT class is built in one place
(:func:`sft_config_kwargs`, :func:`lora_config_kwargs`, :func:`bnb_config_kwargs`,
:func:`trainer_kwargs`); tests/test_api_drift.py checks each name against the installed
signatures.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mathlab.config import SFTParams
from mathlab.data.records import Problem
from mathlab.prompts import cot_messages
from mathlab.runs import atomic_write_json, stable_hash

FORMATS = {
    "answer_only": "answer only",
    "plain": "steps, no annotations",
    "answer_is": "steps + calculator annotations",
}
STAGE_FILE = "mathlab_stage.json"
CHECKPOINTS = "checkpoints"


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


def seeded_subset(items: Sequence, n: int | None, seed: int = 0) -> list:
    """The first `n` items of one seeded shuffle (all when n is None or >= len).

    Nested by construction: the subset of size 10 is the start of the one of size 20, so a
    data-amount curve adds data instead of drawing a new sample at each size.
    """
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    if n is not None:
        if n < 0:
            raise SFTError(f"subset size must be >= 0, got {n}")
        order = order[:n]
    return [items[i] for i in order]


def fraction_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Subset sizes for the data-amount curve: round(f * n), at least 1, distinct, sorted."""
    for f in fractions:
        if not 0 < f <= 1:
            raise SFTError(
                f"fraction {f} is not in (0, 1] (sft.scaling_fractions, sft.format_fraction)"
            )
    return sorted({max(1, round(f * n)) for f in fractions})


# --------------------------------------------------------------------------- kwargs (one place)
def use_bf16(params: SFTParams, device: str) -> bool:
    """bf16 autocast: ``params.bf16`` when set; else by hardware (CUDA: bf16 support; CPU:
    native bf16 that the probe shows faster than fp32; MPS: off), see
    :func:`mathlab.precision.train_bf16`."""
    from mathlab.precision import train_bf16

    return train_bf16(params.bf16, device)


def sft_config_kwargs(
    params: SFTParams,
    output_dir: str | Path,
    device: str = "cpu",
    seed: int = 0,
    max_steps: int | None = None,
    epochs: float | None = None,
    padding_free: bool | None = None,
) -> dict[str, Any]:
    """Every keyword argument we pass to ``trl.SFTConfig`` (checked by test_api_drift).

    padding_free (None: ``params.padding_free``): one row of concatenated examples per
    batch. TRL does not truncate then (it refuses a ``max_length``), so the caller checks
    that no row is longer than ``params.max_length`` (:func:`train_sft` does)."""
    if padding_free is None:
        padding_free = params.padding_free
    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir),
        # optimisation
        "learning_rate": params.lr,
        "lr_scheduler_type": "linear",
        # TRL 1.x configs have no warmup_ratio: warmup_steps < 1 is a fraction of all steps
        "warmup_steps": params.warmup_steps,
        "weight_decay": params.weight_decay,
        "num_train_epochs": float(epochs if epochs is not None else params.epochs),
        "max_steps": max_steps if max_steps is not None else -1,
        "per_device_train_batch_size": params.batch_size,
        "gradient_accumulation_steps": params.grad_accum,
        "optim": params.optim,
        "seed": seed,
        "data_seed": seed,
        # data: rows arrive in training_order() (a seeded hash of each row), read in that order
        "train_sampling_strategy": "sequential",
        "max_length": None if padding_free else params.max_length,
        "packing": False,
        "padding_free": padding_free,
        "completion_only_loss": True,  # loss on the completion tokens only
        "assistant_only_loss": False,
        "dataset_num_proc": None,
        # precision and memory
        "bf16": use_bf16(params, device),
        "fp16": False,
        "use_cpu": device == "cpu",
        # transformers 5.23 renamed gradient_checkpointing (TRL defaults that one to True)
        "activation_checkpointing": params.gradient_checkpointing,
        # logging: headless lines from LossLines, no integrations
        "logging_steps": params.logging_steps,
        "logging_first_step": True,
        "disable_tqdm": True,
        "report_to": "none",
        "include_num_input_tokens_seen": "non_padding",
        # checkpoints: few, resumable
        "save_strategy": "steps",
        "save_steps": params.save_steps,
        "save_total_limit": 1,
        "save_only_model": False,  # keep optimizer/scheduler state so a resume is exact
        "dataloader_num_workers": 0,
        "remove_unused_columns": True,
    }
    return kwargs


def lora_config_kwargs(params: SFTParams) -> dict[str, Any]:
    """Every keyword argument we pass to ``peft.LoraConfig``."""
    return {
        "r": params.lora_r,
        "lora_alpha": params.lora_alpha,
        "lora_dropout": params.lora_dropout,
        "target_modules": list(params.lora_targets),
        "bias": "none",
        "task_type": "CAUSAL_LM",
    }


def bnb_config_kwargs() -> dict[str, Any]:
    """Every keyword argument we pass to ``transformers.BitsAndBytesConfig`` (QLoRA)."""
    import torch

    return {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_use_double_quant": True,
        "bnb_4bit_compute_dtype": torch.bfloat16,
    }


PACKED_ATTENTION = "mathlab_packed"


def _packed_attention(
    module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs
):
    """Attention for padding-free batches (one row of concatenated examples): causal SDPA on
    each example alone, its bounds from TRL's ``cu_seq_lens_q``. transformers' own route
    for such a row on CPU builds a (tokens x tokens) block mask and runs the masked flash
    kernel over all of it; this does the examples' diagonal blocks only, with no mask."""
    import torch
    import torch.nn.functional as F

    if query.shape[0] != 1 or attention_mask is not None:
        raise ValueError(
            f"{PACKED_ATTENTION} attention is for padding-free batches (one row, no mask); got "
            f"batch {query.shape[0]} with a mask: {attention_mask is not None}"
        )
    cu = kwargs.get("cu_seq_lens_q")
    bounds = cu.tolist() if cu is not None else [0, query.shape[2]]
    outs = [
        F.scaled_dot_product_attention(
            query[:, :, a:b],
            key[:, :, a:b],
            value[:, :, a:b],
            is_causal=True,
            scale=scaling,
            dropout_p=dropout if module.training else 0.0,
            enable_gqa=query.shape[1] != key.shape[1],
        )
        for a, b in zip(bounds, bounds[1:])
    ]
    return torch.cat(outs, dim=2).transpose(1, 2).contiguous(), None


@contextlib.contextmanager
def packed_attention(model, enabled: bool = True):
    """Within the block, `model` (or a PEFT model's base) attends with
    :func:`_packed_attention`; its own attention implementation comes back afterwards."""
    from transformers import AttentionInterface

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    before = inner.config._attn_implementation
    if not enabled or before != "sdpa":
        yield
        return
    AttentionInterface.register(PACKED_ATTENTION, _packed_attention)
    inner.set_attn_implementation(PACKED_ATTENTION)
    try:
        yield
    finally:
        inner.set_attn_implementation(before)


def _trainer_class():
    """TRL's SFTTrainer, with the two things a CPU needs (see :class:`MathlabSFTTrainer`)."""
    import torch
    from trl import SFTTrainer

    class MathlabSFTTrainer(SFTTrainer):
        """SFTTrainer that counts the tokens it really trains on and, with
        ``completion_logits_only``, runs the LM head only where the loss reads it.

        TRL 1.16's fused LM head scores only the labelled positions on CUDA (Triton); on
        other devices it scores every position, prompt included, and masks the result. With
        prompts of ~100 tokens and completions of ~40, that is most of the LM head's work
        (a fifth of a 135M model's FLOPs) spent on numbers nobody reads. Here the backbone
        runs once, the hidden states of the labelled positions are gathered, and the LM
        head, log-softmax and loss run on them alone. The loss and its gradients are the
        same as TRL's (tests/test_sft.py checks both); entropy and token accuracy are logged
        as TRL logs them.
        """

        completion_logits_only = True
        tokens_seen = 0  # real tokens trained on (no padding)
        label_tokens_seen = 0  # of which the loss reads the next token

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if model.training:
                if "attention_mask" in inputs:
                    self.tokens_seen += int(inputs["attention_mask"].sum())
                else:
                    self.tokens_seen += int(inputs["input_ids"].numel())
                if "labels" in inputs:
                    self.label_tokens_seen += int((inputs["labels"][:, 1:] != -100).sum())
            plain = (
                not self.completion_logits_only
                or return_outputs
                or self.compute_loss_func is not None
                or self.label_smoother is not None
                or self.aux_loss_enabled
                or self.args.loss_type != "nll"
                or "labels" not in inputs
            )
            if plain:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return self._completion_loss(model, inputs, num_items_in_batch)

        def _completion_loss(self, model, inputs, num_items_in_batch):
            mode = "train" if model.training else "eval"
            inner = model.get_base_model() if hasattr(model, "get_base_model") else model
            backbone, head = inner.base_model, inner.get_output_embeddings()
            hidden = backbone(
                **{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False
            ).last_hidden_state
            labels = inputs["labels"][:, 1:]
            mask = labels != -100
            targets = labels[mask]
            logits = head(hidden[:, :-1][mask]).float()  # [labelled tokens, vocab]
            log_probs = torch.log_softmax(logits, dim=-1)
            picked = log_probs.gather(1, targets[:, None])[:, 0]
            count = mask.sum()
            denom = count.clamp(min=1) if num_items_in_batch is None else num_items_in_batch
            loss = -picked.sum() / torch.as_tensor(denom, device=picked.device)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())
            with torch.no_grad():
                n = max(int(count), 1)
                entropy = -(log_probs.exp() * log_probs).sum(-1).sum()
                correct = (logits.argmax(-1) == targets).sum()
                self._metrics[mode]["entropy"].append(float(entropy) / n if count else 0.0)
                self._metrics[mode]["mean_token_accuracy"].append(
                    float(correct) / n if count else 0.0
                )
            if mode == "train":
                if "attention_mask" in inputs:
                    self._total_train_tokens += int(inputs["attention_mask"].sum())
                else:
                    self._total_train_tokens += int(inputs["input_ids"].numel())
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return MathlabSFTTrainer


def trainer_kwargs(model, args, train_dataset, tokenizer, callbacks, peft_config) -> dict[str, Any]:
    """Every keyword argument we pass to ``trl.SFTTrainer``."""
    return {
        "model": model,
        "args": args,
        "train_dataset": train_dataset,
        "processing_class": tokenizer,
        "callbacks": callbacks,
        "peft_config": peft_config,
    }


# --------------------------------------------------------------------------- logging callback
def _loss_lines_class():
    from transformers import TrainerCallback

    class LossLines(TrainerCallback):
        """Prints one plain line per logging step and keeps the history (headless-friendly):
        loss, learning rate, tokens/s and MFU (6 x parameters x tokens/s over the CPU's
        measured matmul peak, when `peak_gflops` is known)."""

        def __init__(
            self, label: str = "sft", n_params: int | None = None, peak_gflops: float | None = None
        ):
            self.label = label
            self.history: list[dict[str, float]] = []
            self.started = time.time()
            self.tokens0 = 0
            self.n_params, self.peak_gflops = n_params, peak_gflops
            self.token_source = None  # a callable giving the tokens trained on so far

        def tokens(self, state) -> int:
            if self.token_source is not None:
                return int(self.token_source())
            return int(state.num_input_tokens_seen or 0)

        def mfu(self, tokens_per_s: float) -> float | None:
            if not self.n_params or not self.peak_gflops:
                return None
            return 6 * self.n_params * tokens_per_s / (self.peak_gflops * 1e9)

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.time()
            self.tokens0 = self.tokens(state)
            print(f"{self.label}: training {state.max_steps} optimizer steps", flush=True)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" not in logs:
                return
            elapsed = time.time() - self.started
            tokens = self.tokens(state) - self.tokens0
            tps = tokens / elapsed if elapsed > 0 else float("nan")
            mfu = self.mfu(tps)
            entry = {
                "step": state.global_step,
                "epoch": round(state.epoch or 0.0, 4),
                "loss": float(logs["loss"]),
                "lr": float(logs.get("learning_rate", float("nan"))),
                "tokens": tokens,
                "elapsed_s": round(elapsed, 1),
            }
            self.history.append(entry)
            util = f" MFU {mfu:.0%}" if mfu is not None else ""
            print(
                f"{self.label}: step {state.global_step}/{state.max_steps} loss {entry['loss']:.4f} "
                f"lr {entry['lr']:.2e} {tps:.0f} tok/s{util} {elapsed:.0f}s",
                flush=True,
            )

    return LossLines


# --------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What a training stage produced (also stored as ``<output_dir>/mathlab_stage.json``)."""

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


def stage_key(
    model_spec: str,
    rows: Sequence[dict],
    params: SFTParams,
    seed: int,
    epochs: float | None = None,
    max_steps: int | None = None,
    bf16: bool | None = None,
) -> str:
    """The cache key of a training stage: data rows, parameters, base model, seed, length.

    `bf16`: the precision actually used (:func:`use_bf16`) in place of ``params.bf16``, so
    a stage trained in fp32 is not reused where bf16 is chosen, and the other way round.
    """
    dumped = params.model_dump(mode="json")
    if bf16 is not None:
        dumped["bf16"] = bool(bf16)
    return stable_hash(
        {
            "model": model_spec,
            "rows": list(rows),
            "params": dumped,
            "epochs": epochs,
            "max_steps": max_steps,
            "seed": seed,
            "order": "content-hash",  # training_order(); random-sampler stages differ
        }
    )


def finished_stage(output_dir: str | Path, key: str) -> TrainResult | None:
    """The stored result when `output_dir` holds a finished stage with this key, else None."""
    path = Path(output_dir) / STAGE_FILE
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    if stored.get("key") != key:
        return None
    if not any((Path(output_dir) / f).is_file() for f in ("config.json", "adapter_config.json")):
        return None  # the record survived but the model files did not: train again
    stored["skipped"] = True
    return TrainResult(**stored)


def _last_checkpoint(ckpt_dir: Path, key: str) -> str | None:
    """A checkpoint of this very stage (same key), or None (stale ones are removed)."""
    from transformers.trainer_utils import get_last_checkpoint

    if not ckpt_dir.is_dir():
        return None
    marker = ckpt_dir / "mathlab_key.json"
    stored = json.loads(marker.read_text()).get("key") if marker.is_file() else None
    if stored != key:
        print(f"removing checkpoints of another configuration in {ckpt_dir}", flush=True)
        shutil.rmtree(ckpt_dir)
        return None
    return get_last_checkpoint(str(ckpt_dir))


def _save_final(trainer, tokenizer, output_dir: Path, model_spec: str, method: str) -> None:
    """save_pretrained (+ tokenizer); adapters record the base spec so load_model finds it."""
    for stale in (
        "model.safetensors",
        "adapter_model.safetensors",
        "config.json",
        "adapter_config.json",
    ):
        (output_dir / stale).unlink(missing_ok=True)
    model = trainer.model
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    if method != "full":
        cfg_path = output_dir / "adapter_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["base_model_name_or_path"] = model_spec
        cfg_path.write_text(json.dumps(cfg, indent=2))


def _weights_precision(model) -> str:
    """The dtype of the model's floating-point weights as a short name ("fp32", "bf16", ...)."""
    import torch

    names = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
    for p in model.parameters():
        if p.is_floating_point():
            return names.get(p.dtype, str(p.dtype).removeprefix("torch."))
    return "unknown"


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
    import datasets
    from trl import SFTConfig

    from mathlab.models import load_tokenizer, resolve_device
    from mathlab.precision import announce, precision_name

    if not rows:
        raise SFTError(f"{label}: no training rows")
    device = resolve_device(device)
    output_dir = Path(output_dir)
    bf16 = use_bf16(params, device)
    key = stage_key(model_spec, rows, params, seed, epochs, max_steps, bf16=bf16)
    done = None if force else finished_stage(output_dir, key)
    if done is not None:
        print(
            f"{label}: finished stage with the same data and parameters in {output_dir}; skipped",
            flush=True,
        )
        return done
    if (output_dir / STAGE_FILE).is_file():
        print(
            f"{label}: {output_dir} holds a model trained with other data or parameters; "
            f"retraining replaces it",
            flush=True,
        )
        (output_dir / STAGE_FILE).unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir = output_dir / CHECKPOINTS
    resume = None if force else _last_checkpoint(ckpt_dir, key)
    if force and ckpt_dir.exists():
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(ckpt_dir / "mathlab_key.json", {"key": key})

    announce(f"{label} training", bf16, device=device, requested=params.bf16, setting="sft.bf16")
    model, peft_config = _model_and_peft(model_spec, params, device, dtype, seed)
    precision = precision_name(bf16) if bf16 else _weights_precision(model)
    tokenizer = load_tokenizer(model_spec)
    padding_free = params.padding_free
    if padding_free:
        too_long = sum(n > params.max_length for n in row_lengths(rows, tokenizer))
        if too_long:
            print(
                f"{label}: {too_long} rows are longer than sft.max_length={params.max_length} "
                f"tokens: padded batches with truncation for this stage instead of padding-free",
                flush=True,
            )
            padding_free = False
    args = SFTConfig(
        **sft_config_kwargs(params, ckpt_dir, device, seed, max_steps, epochs, padding_free)
    )
    LossLines = _loss_lines_class()
    lines = LossLines(label, sum(p.numel() for p in model.parameters()), _peak_gflops(device, bf16))
    dataset = datasets.Dataset.from_list(training_order(rows, seed))
    trainer = _trainer_class()(
        **trainer_kwargs(model, args, dataset, tokenizer, [lines, *callbacks], peft_config)
    )
    trainer.completion_logits_only = params.completion_logits_only
    lines.token_source = functools.partial(getattr, trainer, "tokens_seen")
    _quiet_trainer(trainer)
    if resume:
        print(f"{label}: resuming from {resume}", flush=True)
    started = time.time()
    with packed_attention(trainer.model, padding_free):
        out = trainer.train(resume_from_checkpoint=resume)
    wall = time.time() - started
    _save_final(trainer, tokenizer, output_dir, model_spec, params.method)
    tokens = trainer.tokens_seen
    result = TrainResult(
        model_dir=str(output_dir),
        key=key,
        method=params.method,
        base_model=model_spec,
        n_rows=len(rows),
        steps=int(trainer.state.global_step),
        wall_s=round(wall, 1),
        tokens=tokens,
        tokens_per_s=round(tokens / wall, 1) if wall > 0 else 0.0,
        final_loss=_finite(lines.history[-1]["loss"])
        if lines.history
        else _finite(out.training_loss),
        history=lines.history,
        resumed_from=resume,
        precision=precision,
        mfu=_round(lines.mfu(tokens / wall)) if wall > 0 else None,
    )
    atomic_write_json(output_dir / STAGE_FILE, result.to_dict())
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # finished: no checkpoint left behind
    lines.token_source = None  # drop the reference: the trainer's memory goes now
    del trainer, model, out
    _free_memory()
    util = f", MFU {result.mfu:.0%}" if result.mfu is not None else ""
    print(
        f"{label}: {result.steps} steps in {result.wall_s:.0f}s, {result.tokens_per_s:.0f} tok/s "
        f"({result.precision}{util}), final loss {result.final_loss}",
        flush=True,
    )
    return result


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


def _peak_gflops(device: str, bf16: bool) -> float | None:
    """The matmul peak MFU is measured against: the CPU probe of mathlab.precision."""
    if device != "cpu":
        return None
    from mathlab.precision import cpu_precision

    info = cpu_precision()
    return info.bf16_gflops if bf16 else info.fp32_gflops


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _free_memory() -> None:
    """Collect the trainer's reference cycles now, so the next stage starts with its memory."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _quiet_trainer(trainer) -> None:
    """Drop transformers' PrinterCallback (it prints raw log dicts when tqdm is off)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


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


# --------------------------------------------------------------------------- statistics
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
    than A (P[X >= only_a], X ~ Bin(only_a + only_b, 1/2)) and the two-sided one.

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


# --------------------------------------------------------------------------- notebook helpers
def ids_hash(problems: Sequence[Problem]) -> str:
    """A short hash of the problem ids (which problems a stage used, in order)."""
    return stable_hash([p.id for p in problems])


def load_sets(run, cfg) -> dict[str, list[Problem]]:
    """The SFT training set and the evaluation sets of a run, as the preset sizes them.

    ``train``: a seeded subset of data/train.jsonl (``sft.n_train``); ``test`` and
    ``test_heldout``: seeded subsets (``sft.n_eval``, ``sft.n_eval_heldout``; held-out
    only when 00_data wrote it); ``ablation``: the first ``sft.ablation_n_eval`` of
    ``test``; ``real/<set>``: the first ``sft.eval_real`` rows of each data/real file.
    Every subset is the start of one seeded shuffle, so 02 and 03 get the same problems.
    """
    from mathlab.data.records import read_jsonl

    p = cfg.sft
    train = read_jsonl(run.require("data/train.jsonl", provided_by="00_data"))
    test = read_jsonl(run.require("data/test.jsonl", provided_by="00_data"))
    sets = {
        "train": seeded_subset(train, p.n_train, cfg.seed),
        "test": seeded_subset(test, p.n_eval, cfg.seed),
    }
    heldout = run.data_dir / "test_heldout.jsonl"
    if heldout.is_file() and p.n_eval_heldout != 0:
        sets["test_heldout"] = seeded_subset(read_jsonl(heldout), p.n_eval_heldout, cfg.seed)
    sets["ablation"] = sets["test"][: p.ablation_n_eval or len(sets["test"])]
    if p.eval_real > 0:
        for path in sorted((run.data_dir / "real").glob("*.jsonl")):
            sets[f"real/{path.stem}"] = read_jsonl(path)[: p.eval_real]
    for name, problems in sets.items():
        if not problems:
            raise SFTError(f"the {name} set is empty (check sft.n_train / sft.n_eval and 00_data)")
    return sets


def first_n(
    sets: dict[str, list[Problem]], names: Sequence[str], n: int | None
) -> dict[str, list[Problem]]:
    """The first `n` problems of each named set (all when n is None): a smaller paired set,
    since every set is the start of one seeded shuffle."""
    return {name: sets[name][:n] if n is not None else sets[name] for name in names}


def eval_options(cfg, k: int | None = None, style: str | None = None) -> dict[str, Any]:
    """The keyword arguments of ``mathlab.evaluate.evaluate`` for this preset, plus
    ``backend`` (the kind) and ``backend_opts`` (for ``get_backend``)."""
    from mathlab.generate import backend_options

    p = cfg.sft
    return {
        "style": style or p.eval_style,
        "k": k if k is not None else p.maj_k,
        "temperature": p.maj_temperature,
        "max_new_tokens": p.eval_max_new_tokens,
        "seed": cfg.seed,
        "backend": p.eval_backend,
        "backend_opts": backend_options(
            p.eval_backend,
            device=cfg.device,
            dtype=cfg.dtype,
            batch_size=p.eval_batch_size,
            seed=cfg.seed,
        ),
    }


def evaluate_on(
    spec: str,
    sets: dict[str, list[Problem]],
    names: Sequence[str],
    cfg,
    stage: str,
    run=None,
    model_name: str | None = None,
    k: int | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    """Evaluate one model (loaded once) on several sets: {set name: EvalResult}."""
    from mathlab.evaluate import evaluate
    from mathlab.generate import get_backend

    opts = eval_options(cfg, k, style)
    kind = opts.pop("backend")
    backend = get_backend(spec, kind=kind, **opts.pop("backend_opts"))
    results = {}
    for name in names:
        results[name] = evaluate(
            backend,
            sets[name],
            stage=stage,
            dataset=name.replace("/", "_"),
            run=run,
            model_name=model_name or spec,
            **opts,
        )
        rec = results[name].record
        print(
            f"{stage} ({rec['style']}) on {name}: accuracy {rec['accuracy']:.3f} (n={rec['n']}, "
            f"maj@{rec['k']} {rec['maj_at_k']:.3f}, mean tokens {rec['mean_tokens']:.0f}, "
            f"{rec['wall_s']:.0f}s)",
            flush=True,
        )
    del backend
    _free_memory()
    return results


def correct_flags(result) -> list[bool]:
    """Greedy correctness per problem, in problem order, from an EvalResult."""
    return [bool(row["accuracy"]) for row in result.per_problem]


def accuracy_row(label: str, result, first: int | None = None, **extra: Any) -> dict[str, Any]:
    """One row for tables/plots: greedy accuracy with its Wilson interval (on the `first`
    problems of the result only, when given: a prefix of the set is a smaller eval set)."""
    rows = result.per_problem[:first] if first is not None else result.per_problem
    flags = [bool(r["accuracy"]) for r in rows]
    n = len(flags)
    lo, hi = wilson_interval(sum(flags), n)
    tokens = [r["n_tokens"] for r in rows if r.get("n_tokens") is not None]
    return {
        "model": label,
        "accuracy": sum(flags) / n if n else 0.0,
        "ci_lo": lo,
        "ci_hi": hi,
        "n": n,
        "mean_tokens": sum(tokens) / len(tokens) if tokens else None,
        **extra,
    }


def greedy_flags(
    run,
    stage: str,
    dataset: str,
    problems: Sequence[Problem],
    style: str = "cot",
    prefix: bool = False,
) -> list[bool] | None:
    """Greedy correctness per problem read back from an earlier notebook's samples file
    (``samples/<stage>__<dataset>__<style>.jsonl``), in the order of `problems`; None when the
    file is missing or does not cover every problem. prefix: accept a file that covers only
    the first problems (a stage evaluated on fewer, ``sft.n_eval_baseline``) and return the
    flags of that prefix."""
    from mathlab.data.records import Sample, read_rows

    path = run.samples_path(stage, dataset.replace("/", "_"), style)
    if not path.is_file():
        return None
    flags = {s.problem_id: s.correct for s in read_rows(path, Sample) if s.meta.get("greedy")}
    covered = 0
    while covered < len(problems) and problems[covered].id in flags:
        covered += 1
    if covered < len(problems) and not (prefix and covered > 0):
        return None
    return [flags[p.id] for p in problems[:covered]]


def flags_row(label: str, flags: Sequence[bool], **extra: Any) -> dict[str, Any]:
    """A table/plot row from per-problem flags: accuracy and Wilson interval."""
    n = len(flags)
    lo, hi = wilson_interval(sum(flags), n)
    return {
        "model": label,
        "accuracy": sum(flags) / n if n else 0.0,
        "ci_lo": lo,
        "ci_hi": hi,
        "n": n,
        **extra,
    }
