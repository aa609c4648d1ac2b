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
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from mathlab.backend_common import (
    Completion,
    ModelBackend,
    Prompt,
    SamplingParams,
    ToolEvent,
    checked_sampling,
    distinct_samples,
    encode_text,
    eos_token_ids,
    per_prompt,
    render_prompts,
)
from mathlab.engine_model import (  # noqa: F401 - re-exported
    LOGIT_BLOCK,
    MAX_GROUP,
    PREFILL_CHUNK,
    SUPPORTED_MODEL_TYPES,
    _Cache,
    _Runner,
    _unwrap,
    _Weights,
    unsupported_reason,
)
from mathlab.engine_scheduler import (  # noqa: F401 - re-exported
    SAMPLE_BLOCK,
    SHARED_PREFIX_MIN,
    _common_prefix,
    _draw,
    _Scheduler,
    _Seq,
    new_stats,
)

__all__ = ["FastBackend", "ToolEvent", "unsupported_reason", "greedy_agreement"]

DEFAULT_SLOTS = {"cpu": 128, "cuda": 256, "mps": 64}
"""Sequences decoded together by default: on a 2-core AVX2 CPU, 128 slots gave 1.2x the
tokens/s of 64 (benchmarks/sampling.py); the KV cache of SmolLM2-135M costs ~6 MB per
position over 128 slots (1.8 GB at 300 positions)."""


# --------------------------------------------------------------------------- the backend
class FastBackend(ModelBackend):
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

    kind = "fast"
    supports_stop_regex = True
    supports_logprobs = True
    supports_tools = True

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
        super().__init__(model, tokenizer, name, autocast, show_progress)
        self.slots = self._sequences(slots or batch_size, DEFAULT_SLOTS, 64, "slots")
        dtype = "float32" if dtype in (None, "auto") else dtype
        if dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype must be 'auto', 'float32' or 'bfloat16', got {dtype!r}")
        self.dtype = dtype
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

    def _runner(self, dtype: str, capacity: int) -> _Runner:
        """Forward passes in `dtype` over the KV cache (grown to `capacity` positions)."""
        w = self.weights(dtype)
        cache = self._cache_for(dtype, capacity)
        return _Runner(w, cache, self._kernel() if self.device.startswith("cpu") else None)

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

        sampling = checked_sampling(self, sampling)
        if (tool_stop or tool_regex) and on_tool is None:
            raise ValueError("tool_stop/tool_regex need an on_tool callback")
        rendered = render_prompts(self.tokenizer, prompts)
        if not rendered:
            return []
        encoded = [encode_text(self.tokenizer, t, templated) for t, templated in rendered]
        for i, ids in enumerate(encoded):
            if not ids:
                raise ValueError(f"prompts[{i}] encodes to no tokens")
        regex = [re.compile(p) for p in sampling.stop_regex]
        tregex = [re.compile(p) for p in tool_regex]
        copies = distinct_samples(sampling)
        dtype = self.compute_dtype(sampling)
        slack = 8 + (64 if on_tool is not None else 0)  # the cache grows if tools need more
        runner = self._runner(dtype, max(len(e) for e in encoded) + sampling.max_new_tokens + slack)
        stats = new_stats(dtype)
        scheduler = _Scheduler(
            runner,
            self.tokenizer,
            self.eos_token_ids,
            sampling,
            regex,
            tregex,
            list(tool_stop),
            on_tool,
            max_tool_rounds,
            stats,
        )
        started = time.time()
        grad = torch.no_grad() if torch.is_grad_enabled() else contextlib.nullcontext()
        with self._eval_mode(), grad:
            results = scheduler.run(rendered, encoded, copies, desc, self.show_progress)
        wall = time.time() - started
        stats.update(wall_s=wall, tokens_per_s=stats["generated"] / wall if wall > 0 else 0.0)
        self.last_stats = stats
        return per_prompt(results, len(encoded), sampling)


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
