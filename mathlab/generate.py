"""Text generation behind one interface (:class:`Backend`): the fast CPU sampler, batched
HF ``generate``, vLLM, an OpenAI endpoint.

    >>> backend = get_backend("smollm2-135m-instruct")                 # doctest: +SKIP
    >>> out = backend.generate([cot_messages("2 + 3?")], SamplingParams(max_new_tokens=64))
    >>> out[0][0].text, out[0][0].n_tokens, out[0][0].finish_reason  # doctest: +SKIP

Every backend implements the :class:`Backend` protocol: ``generate(prompts, sampling) ->
list[list[Completion]]`` gives one list of ``sampling.n`` completions per prompt, in the
order of the prompts, and the attributes ``kind``, ``name``, ``tokenizer`` and
``supports_stop_regex`` / ``supports_logprobs`` / ``supports_tools`` say what it is and
what it honours (a backend raises on what it does not). A prompt is

* chat messages ``[{"role": "user", "content": ...}, ...]``: the backend applies the
  model's chat template with the generation prompt (the assistant turn is opened);
* ``ChatPrompt(messages, prefix)`` or a plain tuple ``(messages, prefix)``: the same,
  with ``prefix`` already written in the assistant turn, so generation *continues* it.
  The tool loops (calculator CoT, TIR in ``mathlab.styles``) use this: stop at a tool
  boundary, append the tool's output to the prefix, resume;
* a raw string: used as it is (no template), e.g. a prompt rendered elsewhere.

Stop strings (``sampling.stop``) end a completion at their first occurrence and are cut
from the text (as in the OpenAI API); ``Completion.stop`` says which one matched.
``sampling.stop_regex`` (``backend.supports_stop_regex``: the fast and HF backends) ends it
after the leftmost match of a pattern, which stays in the text: the calculator loop stops right
after ``<<48/2=``. ``finish_reason`` is ``"stop"`` (a stop string or pattern), ``"eos"``
(the model ended its turn) or ``"length"`` (``max_new_tokens`` reached).

The HF backend sorts prompts by length so a batch holds prompts of similar length (less
left padding), generates each batch with ``model.generate`` and puts the results back in
the order given. On CPU, greedy decoding runs in exact fp32 and sampling (temperature > 0)
under bf16 autocast only where the CPU computes bf16 natively and fast
(:func:`mathlab.precision.sample_bf16`; ``autocast=True/False`` forces either).

On CPU the default backend (``kind="auto"``) is the ``fast`` one (:mod:`mathlab.engine`):
a continuous-batching sampler over a preallocated KV cache, 2-3x the HF backend's
throughput, with the same interface; the HF backend stays the reference, and the one for
GPUs without vLLM and for models the fast engine does not run.

Where the code lives: the value types and the helpers every backend shares in
:mod:`mathlab.backend_common`; the backends in :mod:`mathlab.backend_hf`,
:mod:`mathlab.engine` (fast), :mod:`mathlab.backend_vllm` and :mod:`mathlab.backend_openai`.
This module re-exports the backends, the value types and the prompt helpers
(:func:`as_chat_prompt`, :func:`render_prompt`; a new backend takes its other helpers from
:mod:`mathlab.backend_common`), and holds the protocol and :func:`get_backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from mathlab.backend_common import (  # noqa: F401 - re-exported: mathlab.generate is the API
    FINISH_REASONS,
    ChatPrompt,
    Completion,
    Prompt,
    SamplingParams,
    ToolEvent,
    as_chat_prompt,
    render_prompt,
)
from mathlab.backend_hf import AGREEMENT_NOTE, DEFAULT_BATCH_SIZE, HFBackend  # noqa: F401
from mathlab.backend_openai import OpenAIBackend, OpenAIError
from mathlab.backend_vllm import VLLMBackend

__all__ = [
    "Backend",
    "ChatPrompt",
    "Completion",
    "HFBackend",
    "OpenAIBackend",
    "OpenAIError",
    "SamplingParams",
    "ToolBackend",
    "ToolEvent",
    "VLLMBackend",
    "get_backend",
    "render_prompt",
]


# --------------------------------------------------------------------------- the protocol
@runtime_checkable
class Backend(Protocol):
    """What every generation backend is: :class:`HFBackend`, the fast sampler
    (:class:`mathlab.engine.FastBackend`), :class:`VLLMBackend`, :class:`OpenAIBackend`.

    kind: the name :func:`get_backend` builds it by (``"fast"``, ``"hf"``, ``"vllm"``,
    ``"openai"``). name: the model it serves, for reports and logs. tokenizer: the model's
    tokenizer, or None where the backend never sees tokens (an OpenAI endpoint).
    supports_stop_regex / supports_logprobs: it honours ``SamplingParams.stop_regex`` /
    ``SamplingParams.logprobs`` (a backend that does not raises ValueError on them).
    supports_tools: it is also a :class:`ToolBackend` (tool calls continued in place).
    Every backend sets each of these, as class attributes where they are fixed.
    """

    kind: str
    name: str
    tokenizer: Any
    supports_stop_regex: bool
    supports_logprobs: bool
    supports_tools: bool

    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
    ) -> list[list[Completion]]:
        """One list of ``sampling.n`` completions per prompt, in the order of the prompts."""
        ...


class ToolBackend(Backend, Protocol):
    """A backend with ``supports_tools``: ``generate`` also stops a sequence at a tool
    boundary (``tool_stop`` strings, cut; ``tool_regex`` patterns, kept), hands this step's
    events to ``on_tool`` (which returns, for each, the whole assistant response to continue
    from, or None to end it there) and resumes in place, at most ``max_tool_rounds`` times
    per sequence. ``mathlab.styles`` runs its tool loops inside one such call.

    Not runtime-checkable: it has the same member names as :class:`Backend` (only
    ``generate``'s signature differs), so ``backend.supports_tools`` is what tells them apart.
    """

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
    ) -> list[list[Completion]]: ...


# --------------------------------------------------------------------------- factory
BACKEND_KINDS = ("auto", "fast", "hf", "vllm", "openai")


def resolve_kind(kind: str, device: str = "auto", model=None, quiet: bool = False) -> str:
    """The backend a kind means here: ``auto`` is ``fast`` on CPU (when the fast engine
    runs the model; else ``hf``, said in one printed line) and ``hf`` on a GPU."""
    if kind not in BACKEND_KINDS:
        raise ValueError(
            f"unknown backend kind {kind!r} (expected one of {', '.join(BACKEND_KINDS)})"
        )
    if kind != "auto":
        return kind
    from mathlab.models import resolve_device

    if resolve_device(device) != "cpu":
        return "hf"
    if model is not None:
        from mathlab.engine import unsupported_reason

        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        reason = unsupported_reason(base)
        if reason is not None:
            if not quiet:
                print(
                    f"backend: hf (the fast engine does not run this model: {reason})", flush=True
                )
            return "hf"
    return "fast"


def backend_options(
    kind: str,
    *,
    device: str = "auto",
    dtype: str = "auto",
    batch_size: int | None = None,
    seed: int = 0,
    autocast: bool | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments :func:`get_backend` takes for `kind`, from the settings every
    caller has (the one place they are translated): fast/HF take device, dtype, batch size,
    seed and autocast; vLLM dtype and seed; the OpenAI backend only its endpoint (base_url,
    api_key_env, when given)."""
    if kind not in BACKEND_KINDS:
        raise ValueError(
            f"unknown backend kind {kind!r} (expected one of {', '.join(BACKEND_KINDS)})"
        )
    if kind == "vllm":
        return {"dtype": dtype, "seed": seed}
    if kind == "openai":
        endpoint = {"base_url": base_url, "api_key_env": api_key_env}
        return {k: v for k, v in endpoint.items() if v is not None}
    opts: dict[str, Any] = {"device": device, "dtype": dtype, "seed": seed}
    if batch_size is not None:
        opts["batch_size"] = batch_size
    if autocast is not None:
        opts["autocast"] = autocast
    return opts


def get_backend(spec_or_model: Any, kind: str = "auto", **opts: Any) -> Backend:
    """A generation backend.

    spec_or_model: a model spec string (``smollm2-135m-instruct``, ``tiny-random``, a
    folder, a hub id; for ``kind="openai"`` the served model's name), a ``(model,
    tokenizer)`` pair, a model with ``tokenizer=`` in opts, or a backend (returned as is).
    kind: ``auto`` (``fast`` on CPU where the engine runs the model, else ``hf``) | ``fast``
    | ``hf`` | ``vllm`` | ``openai``. opts go to the backend (fast/HF: device, dtype,
    batch_size, autocast, name; vLLM: dtype, seed, LLM kwargs; OpenAI: base_url,
    api_key_env, timeout, max_workers).
    """
    if isinstance(spec_or_model, Backend):
        return spec_or_model
    if kind not in BACKEND_KINDS:
        raise ValueError(
            f"unknown backend kind {kind!r} (expected one of {', '.join(BACKEND_KINDS)})"
        )
    if isinstance(spec_or_model, str):
        if kind in ("vllm", "openai"):
            return (VLLMBackend if kind == "vllm" else OpenAIBackend)(spec_or_model, **opts)
        if kind == "auto" and resolve_kind("auto", opts.get("device", "auto")) == "hf":
            kind = "hf"
        if kind == "hf":
            return HFBackend.from_spec(spec_or_model, **opts)
        from mathlab.engine import FastBackend

        return FastBackend.from_spec(spec_or_model, fallback=(kind == "auto"), **opts)
    if kind in ("vllm", "openai"):
        raise ValueError(f"kind={kind!r} needs a model spec string, not an in-memory model")
    if isinstance(spec_or_model, tuple) and len(spec_or_model) == 2:
        model, tokenizer = spec_or_model
    else:
        model, tokenizer = spec_or_model, opts.pop("tokenizer", None)
        if tokenizer is None:
            raise TypeError(
                "get_backend(model) needs tokenizer=...: pass (model, tokenizer) or a spec string"
            )
    opts.pop("device", None)
    opts.pop("dtype", None)
    device = str(next(model.parameters()).device)
    if resolve_kind(kind, device, model) == "hf":
        return HFBackend(model, tokenizer, **opts)
    from mathlab.engine import FastBackend

    return FastBackend(model, tokenizer, **opts)
