"""What mathlab passes to TRL, transformers and PEFT for SFT, and the trainer it runs.

Every keyword argument passed to a transformers/TRL/PEFT class is built in one place
(:func:`sft_config_kwargs`, :func:`lora_config_kwargs`, :func:`bnb_config_kwargs`,
:func:`trainer_kwargs`); tests/test_api_drift.py checks each name against the installed
signatures.

Precision by hardware (:func:`use_bf16`, ``sft.bf16: null``): on CPU, where bf16 is native
and a short matmul probe shows it faster than fp32 (:mod:`mathlab.precision`;
AVX512-BF16/AMX, about 2.7x), ``bf16=True`` + ``use_cpu=True`` makes accelerate wrap the
forward pass in ``torch.autocast("cpu", dtype=torch.bfloat16)``: weights and optimizer
state stay fp32, matmuls run in bf16. Elsewhere (AVX2-only CPUs, where torch emulates bf16
~90x slower than fp32) training runs in fp32. Gradient checkpointing is off unless asked
for (TRL turns it on by default; on CPU it only costs time). Headless:
``disable_tqdm=True`` and ``LossLines`` (:func:`loss_lines_class`) prints one line per
logging step. No reporting integrations.

Speed on CPU, with TRL's loss and gradients (tests/test_sft.py checks both):
``MathlabSFTTrainer`` (:func:`trainer_class`) runs the LM head only where the loss reads
it, and :func:`packed_attention` attends each example of a padding-free row alone.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from mathlab.config import SFTParams


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


def trainer_class():
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
def loss_lines_class():
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


# --------------------------------------------------------------------------- helpers
def weights_precision(model) -> str:
    """The dtype of the model's floating-point weights as a short name ("fp32", "bf16", ...)."""
    import torch

    names = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
    for p in model.parameters():
        if p.is_floating_point():
            return names.get(p.dtype, str(p.dtype).removeprefix("torch."))
    return "unknown"


def peak_gflops(device: str, bf16: bool) -> float | None:
    """The matmul peak MFU is measured against: the CPU probe of mathlab.precision."""
    if device != "cpu":
        return None
    from mathlab.precision import cpu_precision

    info = cpu_precision()
    return info.bf16_gflops if bf16 else info.fp32_gflops


def quiet_trainer(trainer) -> None:
    """Drop transformers' PrinterCallback (it prints raw log dicts when tqdm is off)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
