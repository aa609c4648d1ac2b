"""Train small causal LMs on (prompt, target) pairs and decode them greedily, on CPU.

* `tiny_llama` builds a small `LlamaForCausalLM` (RoPE positions) for a word-level
  tokenizer; `lora_wrap` puts peft LoRA adapters on a pretrained model instead.
* `train_lm` is a plain loop: AdamW, linear warm-up then cosine decay, bf16 autocast
  where the hardware computes bf16 fast (`bf16=None`: `mathlab.precision.train_bf16`;
  fp32 on AVX2-only CPUs), gradient clipping, loss on the target tokens only. Batches
  are drawn from length-sorted chunks of a shuffled epoch, so they need (almost) no padding; padding is
  only ever at the end of a sequence, which a causal model never attends to.
* `greedy_decode` batches prompts of equal length and decodes with the KV cache.
* `fit_or_load` runs one stage through `mathlab.training.Stage`: a model folder whose
  stage record carries the same key (a hash of the inputs) is loaded instead of retrained,
  so a re-run resumes; a new model is saved atomically.

>>> from mathlab.rfft.tokenizers import build_tokenizer
>>> tok = build_tokenizer(["1+2=3"])
>>> ex = make_examples(tok, [("1+2=", "3")])
>>> ex[0].ids[:1] == [tok.bos_token_id], ex[0].ids[-1] == tok.eos_token_id, ex[0].n_prompt
(True, True, 5)
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from mathlab.progress import progress
from mathlab.rfft.tokenizers import encode
from mathlab.training import Stage, stage_key


# --------------------------------------------------------------------------- data
@dataclass
class Example:
    """Token ids `<s> prompt target </s>`; the loss covers ids[n_prompt:]."""

    ids: list[int]
    n_prompt: int


def make_examples(tok, pairs: list[tuple[str, str]], bos: bool = True) -> list[Example]:
    """Tokenize (prompt, target) text pairs into Examples (target followed by eos)."""
    prompts = encode(tok, [p for p, _ in pairs])
    targets = encode(tok, [t for _, t in pairs])
    head = [tok.bos_token_id] if bos and tok.bos_token_id is not None else []
    return [
        Example(head + p + t + [tok.eos_token_id], len(head) + len(p))
        for p, t in zip(prompts, targets)
    ]


def prompt_ids(tok, prompts: list[str], bos: bool = True) -> list[list[int]]:
    head = [tok.bos_token_id] if bos and tok.bos_token_id is not None else []
    return [head + ids for ids in encode(tok, prompts)]


def _batches(examples: list[Example], batch_size: int, rng: random.Random, pool: int = 32):
    """Endless batches: shuffle each epoch, sort chunks of pool*batch_size by length."""
    while True:
        order = list(range(len(examples)))
        rng.shuffle(order)
        chunk = pool * batch_size
        batches = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start : start + chunk], key=lambda i: len(examples[i].ids))
            batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
        rng.shuffle(batches)
        yield from batches


def collate(examples: list[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, labels) right-padded; labels are -100 on the prompt and padding."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        labels[row, e.n_prompt : len(e.ids)] = ids[row, e.n_prompt : len(e.ids)]
    return ids, labels


# --------------------------------------------------------------------------- models
def tiny_llama(
    tok, layers: int = 2, hidden: int = 128, heads: int = 4, max_len: int = 4096, seed: int = 0
):
    """A small random Llama (RoPE, SwiGLU, RMSNorm) sized for the tokenizer's vocabulary."""
    from mathlab.models import random_llama

    if hidden % heads:
        raise ValueError(f"rfft.hidden ({hidden}) must be divisible by rfft.heads ({heads})")
    return random_llama(tok, layers, hidden, heads, heads, 4 * hidden, max_len, seed)


def lora_wrap(model, r: int = 16, alpha: int = 32, dropout: float = 0.0):
    """peft LoRA adapters on every linear layer of a pretrained causal LM (gpu preset path)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _autocast(device: str, bf16: bool):
    if not bf16:
        return nullcontext()
    return torch.autocast(device_type=device, dtype=torch.bfloat16)


# --------------------------------------------------------------------------- training
@dataclass
class TrainLog:
    steps: int
    batch_size: int
    lr: float
    bf16: bool  # bf16 autocast used (resolved: never None)
    seconds: float = 0.0
    tokens: int = 0  # tokens processed (padding included)
    tokens_per_s: float = 0.0
    threads: int = 1
    # loss history (mathlab.training): {"step", "loss": mean answer-token loss since the last}
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def first_loss(self) -> float:
        return self.history[0]["loss"] if self.history else float("nan")

    @property
    def final_loss(self) -> float:
        return self.history[-1]["loss"] if self.history else float("nan")


def lr_at(step: int, steps: int, lr: float, warmup_frac: float = 0.05, floor: float = 0.1) -> float:
    """Linear warm-up to lr, then cosine decay to floor*lr at the last step."""
    warm = max(1, round(warmup_frac * steps))
    if step < warm:
        return lr * (step + 1) / warm
    t = (step - warm) / max(1, steps - warm)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def train_lm(
    model,
    examples: list[Example],
    steps: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 0.01,
    warmup_frac: float = 0.05,
    bf16: bool | None = None,
    seed: int = 0,
    pad_id: int = 0,
    log_every: int = 50,
    desc: str = "train",
) -> TrainLog:
    """Train in place; returns the log (loss every `log_every` steps, time, tokens/s).

    `bf16`: autocast on or off; None decides by hardware (`mathlab.precision.train_bf16`).
    The choice is printed and kept in the log (`TrainLog.bf16`).
    """
    from mathlab.precision import announce, train_bf16

    if not examples:
        raise ValueError(f"{desc}: no training examples")
    if steps < 1:
        raise ValueError(f"{desc}: steps must be >= 1, got {steps}")
    device = next(model.parameters()).device.type
    requested = bf16
    bf16 = train_bf16(requested, device)
    announce(f"{desc} training", bf16, device=device, requested=requested, setting="rfft.bf16")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    batches = _batches(examples, batch_size, random.Random(seed))
    log = TrainLog(steps, batch_size, lr, bf16, threads=torch.get_num_threads())
    model.train()
    window: list[float] = []
    start = time.time()
    bar = progress(range(steps), total=steps, desc=desc)
    for step in bar:
        ids, labels = collate([examples[i] for i in next(batches)], pad_id)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup_frac)
        with _autocast(device, bf16):
            logits = model(input_ids=ids.to(model.device)).logits
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].float().reshape(-1, logits.shape[-1]),
            labels[:, 1:].reshape(-1).to(logits.device),
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        log.tokens += ids.numel()
        window.append(loss.item())
        if (step + 1) % log_every == 0 or step == 0 or step + 1 == steps:
            log.history.append({"step": step + 1, "loss": sum(window) / len(window)})
            window = []
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=log.final_loss)
    log.seconds = round(time.time() - start, 2)
    log.tokens_per_s = round(log.tokens / max(log.seconds, 1e-9))
    model.eval()
    return log


# --------------------------------------------------------------------------- decoding
@torch.no_grad()
def greedy_decode(
    model,
    prompts: list[list[int]],
    max_new_tokens: int,
    eos_id: int,
    batch_size: int = 1024,
    bf16: bool = False,
) -> list[list[int]]:
    """Greedy continuations (without the eos) of token-id prompts.

    Prompts of equal length are batched together, so no padding or attention mask is
    needed; each batch stops when every row has emitted eos or after max_new_tokens.
    Decoding runs in fp32 by default: one token at a time, bf16 autocast only adds casts.
    """
    model.eval()
    device = next(model.parameters()).device
    out: list[list[int]] = [[] for _ in prompts]
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    for _length, idx in sorted(by_len.items()):
        for start in range(0, len(idx), batch_size):
            rows = idx[start : start + batch_size]
            x = torch.tensor([prompts[i] for i in rows], device=device)
            gen = torch.empty((len(rows), 0), dtype=torch.long, device=device)
            done = torch.zeros(len(rows), dtype=torch.bool, device=device)
            past = None
            with _autocast(device.type, bf16):
                for _ in range(max_new_tokens):
                    res = model(input_ids=x, past_key_values=past, use_cache=True)
                    past = res.past_key_values
                    nxt = res.logits[:, -1].argmax(-1)
                    nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
                    gen = torch.cat([gen, nxt[:, None]], dim=1)
                    done |= nxt == eos_id
                    if bool(done.all()):
                        break
                    x = nxt[:, None]
            for row, seq in zip(rows, gen.tolist()):
                out[row] = seq[: seq.index(eos_id)] if eos_id in seq else seq
    return out


def decode_texts(tok, seqs: list[list[int]]) -> list[str]:
    return [tok.decode(s, skip_special_tokens=True) for s in seqs]


# --------------------------------------------------------------------------- stage cache
def fit_or_load(
    folder: str | Path,
    key: dict[str, Any],
    build: Callable[[], tuple[Any, Any]],
    fit: Callable[[Any], TrainLog],
    load: Callable[[Path], Any] | None = None,
):
    """(model, tokenizer, stage record, cached?) for one setting, training only when needed.

    `build()` returns a fresh (model, tokenizer); `fit(model)` trains it and returns its
    TrainLog. A finished stage of the same inputs `key` (:class:`mathlab.training.Stage`)
    is loaded with `load(folder)` (default: LlamaForCausalLM.from_pretrained) instead. The
    record: ``{"key": hash, "inputs": key, "train": TrainLog fields, "n_params": ...}``.
    """
    from transformers import AutoTokenizer, LlamaForCausalLM

    stage = Stage(folder, stage_key(key), label=Path(folder).name)
    record = stage.finished()
    if record is not None:
        model = (load or LlamaForCausalLM.from_pretrained)(stage.folder)
        model.eval()
        return model, AutoTokenizer.from_pretrained(stage.folder), record, True
    stage.begin(checkpoints=False)
    model, tok = build()
    log = fit(model)

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    record = stage.save(write, {"inputs": key, "train": asdict(log), "n_params": n_params(model)})
    return model, tok, record, False
