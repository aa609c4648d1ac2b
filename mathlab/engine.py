"""A fast sampler for Llama-family models on CPU: the ``fast`` generation backend.

    >>> backend = get_backend("smollm2-135m-instruct", kind="fast")              # doctest: +SKIP
    >>> backend.generate(prompts, SamplingParams(n=16, temperature=0.7, logprobs=True))  # doctest: +SKIP

Why it exists. ``transformers``' ``generate`` spends most of a CPU decode step outside the
arithmetic: the dynamic KV cache is re-concatenated at every step, a 4-D mask is rebuilt,
logits processors and stopping criteria run over the whole batch, and a batch waits for
its longest sequence. On a 2-core CPU that left it at ~4-15% of the compute roofline.
This engine runs the same weights with:

* **a preallocated KV cache in slots** (``[layers, slots, kv_heads, capacity, head_dim]``):
  a decode step writes one position per sequence in place and attends to its own slot
  only (a small C kernel, :mod:`mathlab.engine_kernels`, or torch matmuls with a length
  mask); nothing is concatenated or copied;
* **continuous batching**: a sequence that finishes frees its slot at once and waiting
  prompts take the free slots (prefilled in groups: a prefill pass streams every weight
  once), so a batch never idles on its slowest member;
* **shared prefill**: the n samples of one prompt are prefilled once and the KV copied to
  their slots; the token prefix all prompts of a call share (the chat template's system
  turn) is computed once; prefill computes logits only at each prompt's last position;
* **tool continuation in place** (``on_tool``): when a sequence hits a tool boundary
  (the calculator's ``<<expr=``, TIR's ```` ```output ````), the caller edits the response,
  the engine re-tokenizes prompt + response exactly as the HF backend would, keeps the KV
  of the common token prefix and prefills only the difference (grouped with other
  resumes and admissions): no round trips, no waiting for the other sequences, no
  re-prefill of the prompt;
* **per-sequence random streams**: sample j of prompt i draws from its own stream
  (seed, i, j), so its text does not depend on which other sequences share its batch;
* **per-token log-probabilities** of the sampled tokens under the model (temperature 1),
  for GRPO's ``rollout_func`` and PPO.

Numerics: the weights are the model's own (fp32 by default, referenced, not copied, except
the fused q/k/v matrix), the same operations in the same precision as the HF eager path,
so greedy texts agree with the HF fp32 reference except where two logits are within
rounding of each other (measured by ``benchmarks/sampling.py`` and by
:func:`greedy_agreement`). ``dtype="bfloat16"`` runs the matmuls in bf16 (only where the
CPU has native bf16: :mod:`mathlab.precision` decides).

Supported: ``LlamaForCausalLM`` and ``Qwen2ForCausalLM`` (q/k/v biases) with SiLU MLPs and
any RoPE variant transformers implements; PEFT models are merged into a copy first.
:func:`unsupported_reason` says why another model is not (then use the HF backend).
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathlab.generate import (
    STOP_WINDOW_TOKENS,
    Completion,
    Prompt,
    SamplingParams,
    as_chat_prompt,
    eos_token_ids,
    finish_completion,
    locate_stop,
    render_prompt,
)

__all__ = ["FastBackend", "ToolEvent", "unsupported_reason", "greedy_agreement"]

SUPPORTED_MODEL_TYPES = ("llama", "qwen2")
DEFAULT_SLOTS = {"cpu": 128, "cuda": 256, "mps": 64}
"""Sequences decoded together by default: on a 2-core AVX2 CPU, 128 slots gave 1.2x the
tokens/s of 64 (benchmarks/sampling.py); the KV cache of SmolLM2-135M costs ~6 MB per
position over 128 slots (1.8 GB at 300 positions)."""
LOGIT_BLOCK = 4096
PREFILL_CHUNK = 768
"""Prefill at most about this many tokens per forward pass (whole segments): the
temporaries stay small enough to be reused instead of fresh pages every layer."""
MAX_GROUP = 64  # query heads per kv head the C kernel handles
SHARED_PREFIX_MIN = 8
"""A token prefix shared by every prompt of a call is computed once when at least this long."""


# --------------------------------------------------------------------------- support
def _unwrap(model):
    """The plain transformers model inside a PEFT wrapper (None when not PEFT)."""
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover
        return None
    return model if isinstance(model, PeftModel) else None


def unsupported_reason(model) -> str | None:
    """Why this engine cannot run `model` (None when it can)."""
    config = getattr(model, "config", None)
    if config is None:
        return f"{type(model).__name__} has no config"
    mtype = getattr(config, "model_type", None)
    if mtype not in SUPPORTED_MODEL_TYPES:
        return f"model_type {mtype!r} (the fast engine runs {', '.join(SUPPORTED_MODEL_TYPES)})"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"hidden_act {config.hidden_act!r} (only silu)"
    if getattr(config, "mlp_bias", False):
        return "an MLP with biases"
    if mtype == "qwen2" and getattr(config, "use_sliding_window", False):
        return "sliding-window attention"
    if getattr(config, "final_logit_softcapping", None) or getattr(
        config, "attn_logit_softcapping", None
    ):
        return "logit soft-capping"
    if getattr(config, "quantization_config", None) is not None:
        return "quantized weights (bitsandbytes/GGUF): load fp32/bf16 weights instead"
    return None


# --------------------------------------------------------------------------- weights
@dataclass
class _Layer:
    ln1: Any
    wqkv: Any
    bqkv: Any
    wo: Any
    bo: Any
    ln2: Any
    wg: Any
    wu: Any
    wd: Any


class _Weights:
    """The matrices of a Llama/Qwen2 causal LM, as the engine reads them.

    fp32: the model's own tensors (no copy) except the fused q/k/v matrix; bf16: copies.
    ``fingerprint`` identifies the parameter values (tensor identities and in-place version
    counters), so a backend over a model being trained notices updates and rebuilds.
    """

    def __init__(self, model, dtype):
        import torch

        peft = _unwrap(model)
        if peft is not None:
            import copy

            model = copy.deepcopy(peft).merge_and_unload()
        reason = unsupported_reason(model)
        if reason is not None:
            raise ValueError(f"the fast engine cannot run this model: {reason}")
        cfg = model.config
        base = model.model
        self.dtype = dtype
        self.device = next(model.parameters()).device
        self.hidden = cfg.hidden_size
        self.n_heads = cfg.num_attention_heads
        self.n_kv = getattr(cfg, "num_key_value_heads", None) or self.n_heads
        self.head_dim = getattr(cfg, "head_dim", None) or self.hidden // self.n_heads
        self.eps = float(cfg.rms_norm_eps)
        self.vocab = model.get_output_embeddings().weight.shape[0]
        self.rotary = base.rotary_emb
        attn0 = base.layers[0].self_attn
        self.scaling = float(getattr(attn0, "scaling", self.head_dim**-0.5))

        def conv(t):
            return t.detach() if t is None or t.dtype == dtype else t.detach().to(dtype)

        with torch.no_grad():
            self.embed = base.embed_tokens.weight.detach()
            self.norm = base.norm.weight.detach()
            self.lm_head = conv(model.get_output_embeddings().weight)
            self.layers = []
            for layer in base.layers:
                a, m = layer.self_attn, layer.mlp
                wqkv = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach()
                bqkv = None
                if a.q_proj.bias is not None:
                    bqkv = torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]).detach()
                self.layers.append(
                    _Layer(
                        layer.input_layernorm.weight.detach(),
                        conv(wqkv),
                        None if bqkv is None else conv(bqkv),
                        conv(a.o_proj.weight),
                        None if a.o_proj.bias is None else conv(a.o_proj.bias),
                        layer.post_attention_layernorm.weight.detach(),
                        conv(m.gate_proj.weight),
                        conv(m.up_proj.weight),
                        conv(m.down_proj.weight),
                    )
                )
        self._cos = self._sin = None

    @staticmethod
    def fingerprint(model) -> tuple:
        return tuple((id(p), p._version) for p in model.parameters())

    def rope(self, capacity: int):
        """(cos, sin) for positions 0..capacity-1, from the model's own rotary module."""
        import torch

        if self._cos is None or self._cos.shape[0] < capacity:
            size = max(capacity, 2 * (0 if self._cos is None else self._cos.shape[0]), 512)
            pos = torch.arange(size, device=self.device)[None]
            probe = torch.zeros(1, dtype=torch.float32, device=self.device)
            cos, sin = self.rotary(probe, pos)
            self._cos, self._sin = cos[0].float(), sin[0].float()
        return self._cos, self._sin


# --------------------------------------------------------------------------- the model step
class _Cache:
    """K and V for every layer in slots: [layers, slots, kv_heads, capacity, head_dim]."""

    def __init__(self, w: _Weights, slots: int, capacity: int):
        import torch

        shape = (len(w.layers), slots, w.n_kv, capacity, w.head_dim)
        self.k = torch.zeros(shape, dtype=w.dtype, device=w.device)
        self.v = torch.zeros(shape, dtype=w.dtype, device=w.device)
        self.slots, self.capacity = slots, capacity

    def grow(self, capacity: int) -> None:
        import torch

        if capacity <= self.capacity:
            return
        new = max(capacity, int(self.capacity * 1.5))
        for name in ("k", "v"):
            old = getattr(self, name)
            t = torch.zeros((*old.shape[:3], new, old.shape[4]), dtype=old.dtype, device=old.device)
            t[:, :, :, : self.capacity] = old
            setattr(self, name, t)
        self.capacity = new

    def copy_slot(self, src: int, dst: int | list[int], length: int) -> None:
        if length <= 0:
            return
        self.k[:, dst, :, :length] = self.k[:, src, :, :length]
        self.v[:, dst, :, :length] = self.v[:, src, :, :length]


def _rms(x, weight, eps):
    import torch

    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def _rope(x, cos, sin):
    """x: [tokens, heads, head_dim]; cos/sin: [tokens, head_dim] (HF's rotate_half form)."""
    import torch

    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos[:, None] + rot * sin[:, None]


class _Runner:
    """Forward passes over the cache: packed prefill segments and batched decode steps."""

    def __init__(self, w: _Weights, cache: _Cache, kernel=None):
        self.w, self.cache = w, cache
        self._logit_buf = None
        self.kernel = kernel  # mathlab.engine_kernels.DecodeAttention, or None: torch matmuls

    def _linear(self, x, weight, bias=None):
        import torch.nn.functional as F

        if weight.dtype != x.dtype:
            return F.linear(x.to(weight.dtype), weight, bias).float()
        return F.linear(x, weight, bias)

    def _mlp_and_out(self, x, attn, layer):
        import torch.nn.functional as F

        x = x + self._linear(attn, layer.wo, layer.bo)
        h = _rms(x, layer.ln2, self.w.eps)
        g = self._linear(h, layer.wg)
        u = self._linear(h, layer.wu)
        return x + self._linear(F.silu(g).mul_(u), layer.wd)

    def _qkv(self, x, layer, cos, sin):
        w = self.w
        h = _rms(x, layer.ln1, w.eps)
        qkv = self._linear(h, layer.wqkv, layer.bqkv)
        n = x.shape[0]
        nq, nk = w.n_heads * w.head_dim, w.n_kv * w.head_dim
        qk = _rope(qkv[:, : nq + nk].reshape(n, w.n_heads + w.n_kv, w.head_dim), cos, sin)
        q = qk[:, : w.n_heads]
        k = qk[:, w.n_heads :]
        v = qkv[:, nq + nk :].reshape(n, w.n_kv, w.head_dim)
        return q, k, v

    def logits(self, h, reuse: bool = False):
        """[rows, vocab] fp32. Computed per block of the vocabulary as W_block @ h^T and
        transposed while the block is still in cache: for a tall vocabulary matrix and a
        few dozen rows that runs ~1.5-2x faster than h @ W^T with MKL on AVX2."""
        import torch

        w = self.w
        h = _rms(h, w.norm, w.eps).to(w.lm_head.dtype)
        n = h.shape[0]
        if reuse:  # decode: one buffer for every step (no fresh pages for 25 MB of logits)
            if self._logit_buf is None or self._logit_buf.shape[0] < n:
                self._logit_buf = torch.empty((n, w.vocab), dtype=torch.float32, device=h.device)
            out = self._logit_buf[:n]
        else:
            out = torch.empty((n, w.vocab), dtype=torch.float32, device=h.device)
        ht = h.t()
        for s in range(0, w.vocab, LOGIT_BLOCK):
            out[:, s : s + LOGIT_BLOCK].copy_(torch.mm(w.lm_head[s : s + LOGIT_BLOCK], ht).t())
        return out

    def prefill(self, tokens: list[int], segments: list[tuple[int, int, int]]):
        """Run `tokens` (segments packed one after another) through the model, writing K/V
        into the cache; segments: (slot, start position, length). Returns the logits at the
        last token of each segment: [segments, vocab]."""
        import torch

        outs = []
        pos = 0
        group: list[tuple[int, int, int]] = []
        size = 0
        for seg in segments:
            if group and size + seg[2] > PREFILL_CHUNK:
                outs.append(self._prefill(tokens[pos : pos + size], group))
                pos += size
                group, size = [], 0
            group.append(seg)
            size += seg[2]
        outs.append(self._prefill(tokens[pos : pos + size], group))
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def _prefill(self, tokens: list[int], segments: list[tuple[int, int, int]]):
        import torch
        import torch.nn.functional as F

        w, cache = self.w, self.cache
        dev = w.device
        ids = torch.tensor(tokens, dtype=torch.long, device=dev)
        positions = torch.cat(
            [torch.arange(start, start + m, device=dev) for _, start, m in segments]
        )
        cos_t, sin_t = w.rope(int(positions.max()) + 1)
        cos, sin = cos_t[positions], sin_t[positions]
        x = w.embed[ids].to(torch.float32 if w.dtype == torch.float32 else w.embed.dtype)
        x = x.float()
        offsets = []
        off = 0
        for _, _, m in segments:
            offsets.append(off)
            off += m
        masks = {}
        for li, layer in enumerate(w.layers):
            q, k, v = self._qkv(x, layer, cos, sin)
            q, k, v = q.to(w.dtype), k.to(w.dtype), v.to(w.dtype)
            out = torch.empty((x.shape[0], w.n_heads, w.head_dim), dtype=w.dtype, device=dev)
            kc, vc = cache.k[li], cache.v[li]
            for (slot, start, m), o in zip(segments, offsets):
                kc[slot, :, start : start + m] = k[o : o + m].transpose(0, 1)
                vc[slot, :, start : start + m] = v[o : o + m].transpose(0, 1)
                qs = q[o : o + m].transpose(0, 1)[None]
                ks = kc[slot, :, : start + m][None]
                vs = vc[slot, :, : start + m][None]
                if start == 0:
                    a = F.scaled_dot_product_attention(
                        qs, ks, vs, is_causal=True, scale=w.scaling, enable_gqa=True
                    )
                else:
                    key = (start, m)
                    if key not in masks:
                        masks[key] = (
                            torch.arange(start + m, device=dev)[None]
                            <= torch.arange(start, start + m, device=dev)[:, None]
                        )
                    a = F.scaled_dot_product_attention(
                        qs, ks, vs, attn_mask=masks[key], scale=w.scaling, enable_gqa=True
                    )
                out[o : o + m] = a[0].transpose(0, 1)
            x = self._mlp_and_out(x, out.reshape(x.shape[0], -1).float(), layer)
        last = torch.tensor([o + m - 1 for o, (_, _, m) in zip(offsets, segments)], device=dev)
        return self.logits(x[last])

    def decode(self, tokens: list[int], lengths: list[int], slots: list[int]):
        """One step: token i goes to position lengths[i] of cache slot slots[i] and attends
        to positions 0..lengths[i] of that slot. Returns logits [n, vocab]."""
        import torch

        w, cache = self.w, self.cache
        dev = w.device
        n = len(tokens)
        ids = torch.tensor(tokens, dtype=torch.long, device=dev)
        pos = torch.tensor(lengths, dtype=torch.long, device=dev)
        rows = torch.tensor(slots, dtype=torch.long, device=dev)
        span = max(lengths) + 1
        cos_t, sin_t = w.rope(span)
        cos, sin = cos_t[pos], sin_t[pos]
        x = w.embed[ids].float()
        g = w.n_heads // w.n_kv
        kernel = self.kernel if w.dtype == torch.float32 and g <= MAX_GROUP else None
        if kernel is not None:
            lens = pos + 1
            out = torch.empty((n, w.n_kv, g, w.head_dim), dtype=torch.float32, device=dev)
        else:
            # additive mask: position j of row i is visible when j <= lengths[i]
            mask = torch.zeros((n, span), dtype=torch.float32, device=dev)
            mask.masked_fill_(torch.arange(span, device=dev)[None] > pos[:, None], float("-inf"))
            mask = mask[:, None, None, :].to(w.dtype)
            dense = slots == list(range(n))  # rows are slots 0..n-1: views, no gather
        for li, layer in enumerate(w.layers):
            q, k, v = self._qkv(x, layer, cos, sin)
            kc, vc = cache.k[li], cache.v[li]
            kc[rows, :, pos] = k.to(w.dtype)
            vc[rows, :, pos] = v.to(w.dtype)
            qg = q.to(w.dtype).reshape(n, w.n_kv, g, w.head_dim)
            if kernel is not None:
                kernel(qg.contiguous(), kc, vc, rows, lens, out, w.scaling)
                a = out
            else:
                ks = kc[:n, :, :span] if dense else kc[rows, :, :span]
                vs = vc[:n, :, :span] if dense else vc[rows, :, :span]
                scores = torch.matmul(qg, ks.transpose(-1, -2))
                scores.mul_(w.scaling).add_(mask)
                probs = torch.softmax(scores.float(), dim=-1).to(w.dtype)
                a = torch.matmul(probs, vs)
            x = self._mlp_and_out(x, a.reshape(n, -1).float(), layer)
        return self.logits(x, reuse=True)


# --------------------------------------------------------------------------- sampling
SAMPLE_BLOCK = 1024


def _draw(logits, temperature: float, top_p: float, u: list[float]):
    """Inverse-CDF sampling: row r takes the token where the cumulative probability of
    softmax(logits / temperature), restricted to the top-p nucleus, first exceeds u[r].

    Overwrites `logits` (the engine's own buffer). The CDF is found in two levels (block
    sums, then one block) instead of a cumulative sum over the whole vocabulary, on
    unnormalised weights: a few passes over the logits in all. Given the same logits and u,
    a row gets the same token whatever else the batch holds.
    """
    import torch

    n, vocab = logits.shape
    x = logits
    x.mul_(1.0 / temperature)
    x.sub_(x.amax(dim=-1, keepdim=True)).exp_()  # unnormalised probabilities
    uu = torch.tensor(u, dtype=torch.float64, device=x.device)[:, None]
    if top_p < 1.0:
        p, order = x.sort(dim=-1, descending=True)
        before = p.cumsum(-1) - p
        p.masked_fill_(before >= top_p * p.sum(-1, keepdim=True), 0.0)
        cdf = p.double().cumsum(-1)
        idx = torch.searchsorted(cdf, uu * cdf[:, -1:], right=True)
        return order.gather(1, idx.clamp_(max=vocab - 1))[:, 0]
    size = SAMPLE_BLOCK
    full = vocab // size
    sums = [x[:, : full * size].view(n, full, size).sum(-1)] if full else []
    if vocab % size:
        sums.append(x[:, full * size :].sum(-1, keepdim=True))
    cb = (sums[0] if len(sums) == 1 else torch.cat(sums, dim=1)).double().cumsum(-1)
    target = uu * cb[:, -1:]  # [n, 1]
    nb = cb.shape[1]
    bi = torch.searchsorted(cb, target, right=True).clamp_(max=nb - 1)  # [n, 1]
    prior = torch.where(bi > 0, cb.gather(1, (bi - 1).clamp(min=0)), torch.zeros_like(target))
    cols = bi * size + torch.arange(size, device=x.device)[None]  # [n, size]
    inside = cols < vocab
    block = x.gather(1, cols.clamp(max=vocab - 1)).masked_fill_(~inside, 0.0)
    ti = torch.searchsorted(block.double().cumsum(-1), target - prior, right=True)
    tok = (bi * size + ti.clamp_(max=size - 1))[:, 0]
    return tok.clamp_(max=vocab - 1)


# --------------------------------------------------------------------------- sequences
@dataclass
class ToolEvent:
    """A sequence stopped at a tool boundary. ``completion`` is this round's text (as the HF
    backend would return it for a generate call that stopped there); ``index`` and
    ``sample`` say which prompt and which of its n samples."""

    index: int
    sample: int
    completion: Completion


@dataclass
class _Seq:
    index: int
    sample: int
    prompt_text: str  # rendered prompt (chat template + any assistant prefix)
    tokens: list[int]  # every token in the cache, plus the pending one at the end
    round_start: int  # tokens[round_start:] were generated in this round
    rng: random.Random | None
    slot: int = -1
    generated: int = 0  # model tokens over all rounds
    tool_events: int = 0
    logprobs: list[float] = field(default_factory=list)
    all_generated: list[int] = field(default_factory=list)
    pending_logprob: float | None = None

    @property
    def cached(self) -> int:
        """Tokens whose K/V are in the cache (all but the pending one)."""
        return len(self.tokens) - 1


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


# --------------------------------------------------------------------------- the backend
class FastBackend:
    """The fast CPU sampler behind the generation interface (``kind="fast"``).

    Build from a spec (``FastBackend.from_spec("smollm2-135m-instruct")``) or from a model
    and tokenizer in memory (``FastBackend(model, tokenizer)``): the engine reads the
    model's own parameters and notices when training changed them.

    slots (or batch_size): sequences decoded together (default 128 on CPU).
    dtype: None/"auto"/"float32": fp32 weights, with bf16 matmuls for *sampled* decoding
    where :func:`mathlab.precision.sample_bf16` says the CPU computes bf16 natively and
    fast (``autocast=True/False`` forces it; greedy stays fp32 unless forced);
    "bfloat16": bf16 matmuls for every call. show_progress: a progress line per call.
    use_kernel: decode attention in the C kernel of :mod:`mathlab.engine_kernels` (built
    once per machine; torch matmuls where it cannot be built, or when False).
    """

    supports_stop_regex = True
    supports_logprobs = True
    supports_tools = True
    kind = "fast"

    def __init__(
        self,
        model,
        tokenizer,
        slots: int | None = None,
        dtype: str | None = None,
        name: str | None = None,
        show_progress: bool = True,
        batch_size: int | None = None,
        autocast: bool | None = None,
        use_kernel: bool = True,
    ):
        peft = _unwrap(model)
        reason = unsupported_reason(peft.get_base_model() if peft is not None else model)
        if reason is not None:
            raise ValueError(
                f"the fast backend cannot run {type(model).__name__}: {reason}; use kind='hf'"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.device = str(next(model.parameters()).device)
        device_type = self.device.split(":")[0]
        self.slots = int(slots or batch_size or DEFAULT_SLOTS.get(device_type, 64))
        if self.slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots or batch_size}")
        dtype = "float32" if dtype in (None, "auto") else dtype
        if dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype must be 'auto', 'float32' or 'bfloat16', got {dtype!r}")
        self.dtype = dtype
        self.autocast = None if autocast is None else bool(autocast)
        self.name = (
            name
            or getattr(getattr(model, "config", None), "_name_or_path", None)
            or type(model).__name__
        )
        self.show_progress = show_progress
        self.use_kernel = use_kernel
        self.eos_token_ids = eos_token_ids(tokenizer, model)
        self._weights: dict[str, _Weights] = {}
        self._fingerprint: tuple | None = None
        self._caches: dict[str, _Cache] = {}
        self.last_stats: dict[str, Any] = {}

    @property
    def batch_size(self) -> int:
        return self.slots

    @classmethod
    def from_spec(
        cls,
        spec: str,
        device: str = "auto",
        dtype: str = "auto",
        seed: int = 0,
        fallback: bool = False,
        **opts: Any,
    ):
        """Load `spec` (fp32 weights) into a fast backend. fallback: for a model the engine
        does not run, return the HF backend instead (saying so) rather than raising."""
        from mathlab.generate import HFBackend
        from mathlab.models import load_model, load_tokenizer

        model = load_model(
            spec, device=device, dtype="float32" if dtype == "auto" else dtype, seed=seed
        )
        tokenizer = load_tokenizer(spec)
        reason = unsupported_reason(model)
        if reason is not None and fallback:
            print(f"backend: hf for {spec} (the fast engine does not run it: {reason})", flush=True)
            return HFBackend(model, tokenizer, name=opts.pop("name", spec), **opts)
        return cls(model, tokenizer, name=opts.pop("name", spec), dtype=dtype, **opts)

    def __repr__(self) -> str:
        return (
            f"FastBackend({self.name!r}, device={self.device}, slots={self.slots}, "
            f"dtype={self.dtype}, autocast={self.autocast})"
        )

    def compute_dtype(self, sampling: SamplingParams | None = None) -> str:
        """The matmul dtype of a call: "bfloat16" or "float32"."""
        if self.dtype == "bfloat16":
            return "bfloat16"
        if not self.device.startswith("cpu"):
            return "float32"
        from mathlab.precision import sample_bf16

        greedy = sampling is None or sampling.greedy
        return "bfloat16" if sample_bf16(self.autocast, greedy, "cpu") else "float32"

    # -- shared helpers (the HF backend's)
    def encode(self, prompt: Prompt) -> list[int]:
        text, templated = render_prompt(self.tokenizer, prompt)
        return self.tokenizer(text, add_special_tokens=not templated)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode_text(self, text: str, templated: bool) -> list[int]:
        return self.tokenizer(text, add_special_tokens=not templated)["input_ids"]

    def weights(self, dtype: str = "float32") -> _Weights:
        """The engine's view of the model in `dtype`, rebuilt when its parameters changed."""
        import torch

        fp = _Weights.fingerprint(self.model)
        if fp != self._fingerprint:
            self._weights.clear()
            self._caches.clear()
            self._fingerprint = fp
        if dtype not in self._weights:
            torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
            self._weights[dtype] = _Weights(self.model, torch_dtype)
        return self._weights[dtype]

    def _cache_for(self, dtype: str, capacity: int) -> _Cache:
        """The KV cache: `slots` sequence slots plus one for the call's shared prefix."""
        w = self.weights(dtype)
        cache = self._caches.get(dtype)
        if cache is None or cache.slots != self.slots + 1:
            self._caches.clear()  # one cache at a time
            cache = self._caches[dtype] = _Cache(w, self.slots + 1, capacity)
        else:
            cache.grow(capacity)
        return cache

    def _kernel(self):
        """The C decode-attention kernel (mathlab.engine_kernels), unless `use_kernel` is
        False or it cannot be built here."""
        if not self.use_kernel:
            return None
        from mathlab.engine_kernels import decode_attention

        return decode_attention()

    def release(self) -> None:
        """Free the KV cache and any bf16 weight copies (rebuilt on the next call)."""
        self._caches.clear()
        self._weights.pop("bfloat16", None)

    # -- generation
    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
        *,
        tool_stop: Sequence[str] = (),
        tool_regex: Sequence[str] = (),
        on_tool: Callable[[list[ToolEvent]], list[str | None]] | None = None,
        max_tool_rounds: int = 16,
    ) -> list[list[Completion]]:
        """One list of ``sampling.n`` completions per prompt (see ``mathlab.generate``).

        Tool continuation: when a sequence's new text matches ``tool_stop`` (cut, as a stop
        string) or ``tool_regex`` (kept, as a stop pattern), ``on_tool`` receives the
        events of this step and returns, for each, the whole assistant response to
        continue from (the response so far with the tool's result written in) or None to
        end the sequence there. After ``max_tool_rounds`` events a sequence no longer
        stops at tool boundaries. ``max_new_tokens`` bounds the model's tokens over all
        rounds. A sequence that ended in ``on_tool`` returns an empty completion with
        finish_reason "stop".
        """
        import torch

        sampling = sampling or SamplingParams()
        if (tool_stop or tool_regex) and on_tool is None:
            raise ValueError("tool_stop/tool_regex need an on_tool callback")
        rendered = [
            render_prompt(self.tokenizer, as_chat_prompt(p, f"prompts[{i}]"))
            for i, p in enumerate(prompts)
        ]
        if not rendered:
            return []
        encoded = [self._encode_text(t, templated) for t, templated in rendered]
        for i, ids in enumerate(encoded):
            if not ids:
                raise ValueError(f"prompts[{i}] encodes to no tokens")
        regex = [re.compile(p) for p in sampling.stop_regex]
        tregex = [re.compile(p) for p in tool_regex]
        copies = 1 if sampling.greedy else sampling.n
        dtype = self.compute_dtype(sampling)
        w = self.weights(dtype)
        slack = 8 + (64 if on_tool is not None else 0)  # the cache grows if tools need more
        cache = self._cache_for(
            dtype, max(len(e) for e in encoded) + sampling.max_new_tokens + slack
        )
        runner = _Runner(w, cache, self._kernel() if self.device.startswith("cpu") else None)
        stats = {
            "dtype": dtype,
            "prefill_tokens": 0,
            "decode_steps": 0,
            "generated": 0,
            "shared_prefix": 0,
            "prefill_s": 0.0,
            "decode_s": 0.0,
            "sample_s": 0.0,
            "check_s": 0.0,
        }
        started = time.time()

        was_training = self.model.training
        self.model.eval()
        grad = torch.no_grad() if torch.is_grad_enabled() else contextlib.nullcontext()
        results: dict[tuple[int, int], Completion] = {}
        try:
            with grad:
                self._run(
                    rendered,
                    encoded,
                    copies,
                    sampling,
                    regex,
                    tregex,
                    list(tool_stop),
                    on_tool,
                    max_tool_rounds,
                    runner,
                    results,
                    stats,
                    desc,
                )
        finally:
            self.model.train(was_training)
        wall = time.time() - started
        stats.update(wall_s=wall, tokens_per_s=stats["generated"] / wall if wall > 0 else 0.0)
        self.last_stats = stats
        return [
            [results[(i, j if copies > 1 else 0)] for j in range(sampling.n)]
            for i in range(len(encoded))
        ]

    def _shared_prefix(self, encoded: list[list[int]], runner: _Runner, stats) -> tuple[int, int]:
        """(slot, length) of the token prefix every prompt shares, computed once into the
        last slot; (-1, 0) when there is none worth sharing."""
        if len(encoded) < 2:
            return -1, 0
        first = encoded[0]
        n = len(first)
        for ids in encoded[1:]:
            n = min(n, _common_prefix(first, ids))
            if n < SHARED_PREFIX_MIN:
                return -1, 0
        n = min(n, min(len(e) for e in encoded) - 1)  # every prompt keeps >= 1 own token
        if n < SHARED_PREFIX_MIN:
            return -1, 0
        slot = runner.cache.slots - 1
        runner.prefill(first[:n], [(slot, 0, n)])
        stats["prefill_tokens"] += n
        stats["shared_prefix"] = n
        return slot, n

    def _run(
        self,
        rendered,
        encoded,
        copies,
        sampling,
        regex,
        tregex,
        tool_stop,
        on_tool,
        max_tool_rounds,
        runner,
        results,
        stats,
        desc,
    ) -> None:
        """The scheduler. Every iteration: (1) one packed prefill for prompts that take free
        slots and for sequences that resume after a tool (batched: each prefill pass streams
        every weight once, so it waits until a group of them is ready, or nothing else can
        run); (2) one decode step for every sequence that has a pending token; (3) finish,
        or pause at a tool boundary, what that step completed."""
        cache = runner.cache
        waiting = [(i, j) for i in range(len(encoded)) for j in range(copies)]
        waiting.reverse()  # pop() from the end: prompt order
        total = len(waiting)
        prefix_slot, prefix_len = self._shared_prefix(encoded, runner, stats)
        usable = cache.slots - 1  # the last slot holds the shared prefix
        free = list(range(usable - 1, -1, -1))  # free slots, lowest last (pop() takes it)
        running: list[_Seq] = []  # sequences with a pending token
        paused: list[tuple[_Seq, str]] = []  # sequences waiting to resume after a tool
        group = max(1, usable // 8)  # prefill when this many are ready (or nothing can run)
        bar = None
        if self.show_progress and total > 1:
            from mathlab.progress import progress

            bar = progress(
                total=total, desc=f"{desc} ({total} seqs, fast, {usable} slots)", unit="seq"
            )

        def new_rng(i: int, j: int) -> random.Random | None:
            if sampling.greedy:
                return None
            return random.Random(f"{sampling.seed}/{i}/{j}")

        def finish(s: _Seq, comp: Completion) -> None:
            if sampling.logprobs:
                comp.token_ids = list(s.all_generated)
                comp.logprobs = list(s.logprobs)
            results[(s.index, s.sample)] = comp
            stats["generated"] += s.generated
            free.append(s.slot)
            if bar is not None:
                bar.update(1)

        def process(seqs: list[_Seq]) -> list[_Seq]:
            """Check each sequence after its newest token; returns those that go on.
            Finished ones free their slot; tool events go to `on_tool` (all of this step's
            at once) and the sequences with a reply wait in `paused`."""
            keep, events = [], []
            for s in seqs:
                outcome = self._check(s, sampling, regex, tregex, tool_stop, max_tool_rounds)
                if outcome is None:
                    keep.append(s)
                elif outcome[0] == "tool":
                    events.append((s, outcome[1]))
                else:
                    finish(s, outcome[1])
            if events:
                replies = on_tool([ToolEvent(s.index, s.sample, c) for s, c in events])
                if len(replies) != len(events):
                    raise ValueError(
                        f"on_tool returned {len(replies)} replies for {len(events)} events"
                    )
                for (s, comp), reply in zip(events, replies):
                    if reply is None:
                        finish(s, Completion("", 0, "stop", comp.stop))
                    else:
                        paused.append((s, reply))
            return keep

        try:
            while waiting or running or paused:
                admit = min(len(waiting), len(free))
                ready = admit + len(paused)
                if ready and (ready >= group or not running or admit == len(waiting) > 0):
                    new: list[_Seq] = []
                    for _ in range(admit):
                        i, j = waiting.pop()
                        s = _Seq(
                            i, j, rendered[i][0], list(encoded[i]), len(encoded[i]), new_rng(i, j)
                        )
                        s.slot = free.pop()
                        new.append(s)
                    resumed, paused[:] = list(paused), []
                    t0 = time.perf_counter()
                    self._prefill(new, resumed, runner, prefix_slot, prefix_len, sampling, stats)
                    stats["prefill_s"] += time.perf_counter() - t0
                    running.extend(process(new + [s for s, _ in resumed]))
                if not running:
                    continue
                # one decode step for every running sequence (its pending token)
                stats["decode_steps"] += 1
                t0 = time.perf_counter()
                logits = runner.decode(
                    [s.tokens[-1] for s in running],
                    [s.cached for s in running],
                    [s.slot for s in running],
                )
                t1 = time.perf_counter()
                self._sample(running, logits, sampling)
                t2 = time.perf_counter()
                running = process(running)
                stats["decode_s"] += t1 - t0
                stats["sample_s"] += t2 - t1
                stats["check_s"] += time.perf_counter() - t2
        finally:
            if bar is not None:
                bar.close()

    def _prefill(self, new, resumed, runner, prefix_slot, prefix_len, sampling, stats) -> None:
        """One packed prefill for new sequences (slots assigned) and for sequences resuming
        after a tool. New: the n samples of one prompt share one prefill (its KV copied),
        all share the call's common prefix. Resumed: the response edited by the tool is
        re-tokenized with the prompt (as the HF backend would), the KV of the common token
        prefix is kept and only the rest is computed. Each then samples its next token."""
        cache = runner.cache
        groups: dict[int, list[_Seq]] = {}
        for s in new:
            groups.setdefault(s.index, []).append(s)
        tokens: list[int] = []
        segments: list[tuple[int, int, int]] = []
        for seqs in groups.values():
            lead = seqs[0]
            start = 0
            if prefix_len:
                cache.copy_slot(prefix_slot, lead.slot, prefix_len)
                start = prefix_len
            ids = lead.tokens[start:]
            tokens.extend(ids)
            segments.append((lead.slot, start, len(ids)))
        for s, response in resumed:
            ids = self.tokenizer(s.prompt_text + response, add_special_tokens=False)["input_ids"]
            keep = min(_common_prefix(s.tokens, ids), s.cached, len(ids) - 1)
            s.tokens = list(ids)
            s.round_start = len(ids)
            s.tool_events += 1
            left = max(0, sampling.max_new_tokens - s.generated)
            cache.grow(len(ids) + left + 8)
            tokens.extend(ids[keep:])
            segments.append((s.slot, keep, len(ids) - keep))
        if not segments:
            return
        stats["prefill_tokens"] += len(tokens)
        logits = runner.prefill(tokens, segments)
        for row, seqs in enumerate(groups.values()):
            length = len(seqs[0].tokens)
            for s in seqs[1:]:
                cache.copy_slot(seqs[0].slot, s.slot, length)
            self._sample(seqs, logits[row : row + 1].expand(len(seqs), -1), sampling)
        for row, (s, _) in enumerate(resumed, start=len(groups)):
            self._sample([s], logits[row : row + 1], sampling)

    def _sample(self, seqs: list[_Seq], logits, sampling: SamplingParams) -> None:
        """Choose the next token of each sequence from its logits row; append it (pending)."""
        import torch

        if sampling.min_new_tokens:
            low = [r for r, s in enumerate(seqs) if s.generated < sampling.min_new_tokens]
            if low:
                logits = logits.clone()
                logits[torch.tensor(low)[:, None], torch.tensor(self.eos_token_ids)[None]] = float(
                    "-inf"
                )
        lse = torch.logsumexp(logits, dim=-1) if sampling.logprobs else None
        raw = logits
        if sampling.greedy:
            chosen = logits.argmax(-1)
        else:
            if sampling.logprobs or not logits.is_contiguous():
                logits = logits.clone()  # _draw overwrites its input
            u = [s.rng.random() for s in seqs]
            chosen = _draw(logits, float(sampling.temperature), float(sampling.top_p), u)
        lp = None
        if lse is not None:
            lp = (raw.gather(1, chosen[:, None])[:, 0] - lse).tolist()
        for r, (s, tok) in enumerate(zip(seqs, chosen.tolist())):
            s.tokens.append(tok)
            s.generated += 1
            if sampling.logprobs:
                s.all_generated.append(tok)
                s.logprobs.append(lp[r])

    def _check(self, s: _Seq, sampling, regex, tregex, tool_stop, max_tool_rounds):
        """None to go on, or ("done" | "tool", Completion) after this sequence's newest token."""
        round_tokens = s.tokens[s.round_start :]
        tools_on = s.tool_events < max_tool_rounds and bool(tool_stop or tregex)
        if round_tokens[-1] in self.eos_token_ids:
            return "done", finish_completion(
                self.tokenizer, round_tokens, self.eos_token_ids, sampling.stop, regex
            )
        if sampling.stop or regex or tools_on:
            stops = list(sampling.stop) + (tool_stop if tools_on else [])
            pats = list(regex) + (tregex if tools_on else [])
            start = max(0, len(round_tokens) - STOP_WINDOW_TOKENS)
            tail = self.tokenizer.decode(round_tokens[start:], skip_special_tokens=True)
            if locate_stop(tail, stops, pats) is not None:
                comp = finish_completion(
                    self.tokenizer, round_tokens, self.eos_token_ids, stops, pats
                )
                if comp.finish_reason == "stop":
                    is_tool = tools_on and (
                        (comp.stop in tool_stop and comp.stop not in sampling.stop)
                        or any(p.fullmatch(comp.stop) for p in tregex)
                    )
                    if is_tool and s.generated < sampling.max_new_tokens:
                        return "tool", comp
                    return "done", comp
        if s.generated >= sampling.max_new_tokens:
            return "done", finish_completion(
                self.tokenizer, round_tokens, self.eos_token_ids, sampling.stop, regex
            )
        return None


# --------------------------------------------------------------------------- agreement
def greedy_agreement(reference, candidate, prompts, max_new_tokens: int = 128) -> dict[str, Any]:
    """Greedy texts of two backends on the same prompts: how many are identical, and the
    mean fraction of the reference text the candidate shares before its first difference."""
    params = SamplingParams(max_new_tokens=max_new_tokens)
    ref = [row[0].text for row in reference.generate(prompts, params, desc="reference greedy")]
    cand = [row[0].text for row in candidate.generate(prompts, params, desc="candidate greedy")]
    same = sum(a == b for a, b in zip(ref, cand))
    shared = []
    for a, b in zip(ref, cand):
        k = _common_prefix(a, b)
        shared.append(k / max(len(a), 1))
    return {
        "prompts": len(ref),
        "identical": same,
        "rate": same / len(ref) if ref else 1.0,
        "mean_shared_prefix": sum(shared) / len(shared) if shared else 1.0,
        "reference": ref,
        "candidate": cand,
    }
