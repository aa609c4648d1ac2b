"""The fast sampler's model side: the weights as the engine reads them, the KV cache in
slots, and the forward passes over it (packed prefill, batched decode steps).

See :mod:`mathlab.engine` for the design; :mod:`mathlab.engine_scheduler` decides which
sequences run when, and :mod:`mathlab.engine_kernels` holds the C decode-attention kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUPPORTED_MODEL_TYPES = ("llama", "qwen2")
LOGIT_BLOCK = 4096
PREFILL_CHUNK = 768
"""Prefill at most about this many tokens per forward pass (whole segments): the
temporaries stay small enough to be reused instead of fresh pages every layer."""
MAX_GROUP = 64  # query heads per kv head the C kernel handles


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
