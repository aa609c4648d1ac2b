"""Text generation behind one interface: batched HF ``generate``, vLLM, an OpenAI endpoint.

    >>> backend = get_backend("smollm2-135m-instruct")                 # doctest: +SKIP
    >>> out = backend.generate([cot_messages("2 + 3?")], SamplingParams(max_new_tokens=64))
    >>> out[0][0].text, out[0][0].n_tokens, out[0][0].finish_reason  # doctest: +SKIP

Every backend has ``generate(prompts, sampling) -> list[list[Completion]]``: one list of
``sampling.n`` completions per prompt, in the order of the prompts. A prompt is

* chat messages ``[{"role": "user", "content": ...}, ...]``: the backend applies the
  model's chat template with the generation prompt (the assistant turn is opened);
* ``ChatPrompt(messages, prefix)`` or a plain tuple ``(messages, prefix)``: the same,
  with ``prefix`` already written in the assistant turn, so generation *continues* it.
  The tool loops (calculator CoT, TIR in ``mathlab.styles``) use this: stop at a tool
  boundary, append the tool's output to the prefix, resume;
* a raw string: used as it is (no template), e.g. a prompt rendered elsewhere.

Stop strings (``sampling.stop``) end a completion at their first occurrence and are cut
from the text (as in the OpenAI API); ``Completion.stop`` says which one matched.
``sampling.stop_regex`` (HF backend only, ``backend.supports_stop_regex``) ends it after
the leftmost match of a pattern, which stays in the text: the calculator loop stops right
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
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "ChatPrompt",
    "Completion",
    "HFBackend",
    "OpenAIBackend",
    "SamplingParams",
    "VLLMBackend",
    "get_backend",
    "render_prompt",
]

AGREEMENT_NOTE = """bf16 and greedy decoding. Measured with ``benchmarks/sampling.py`` on SmolLM2-135M:
teacher-forced on gold solutions, bf16 autocast changes the next-token argmax at ~1.75% of
positions and the log-probabilities by ~0.03 nats/token, so a sampled distribution barely
moves; but greedy texts diverge after the first flip (7/32 identical texts). Greedy
evaluation therefore stays exact fp32 unless asked, and sampling uses bf16 only where the
CPU computes it natively and fast (:func:`mathlab.precision.sample_bf16`)."""

DEFAULT_BATCH_SIZE = {"cpu": 32, "cuda": 64, "mps": 16}
STOP_WINDOW_TOKENS = 32
"""A stop string or pattern must fit in the last this-many generated tokens to stop a
sequence early (it is still cut post hoc when longer)."""
FINISH_REASONS = ("stop", "eos", "length")


# --------------------------------------------------------------------------- value types
@dataclass
class SamplingParams:
    """How to sample. ``temperature == 0`` is greedy (then ``top_p`` and ``seed`` do not matter).

    n: completions per prompt. max_new_tokens / min_new_tokens: bounds on generated
    tokens (min_new_tokens suppresses EOS until reached; stop strings still stop).
    stop: strings that end a completion (cut from the text). stop_regex: patterns that end
    it after their leftmost match (kept in the text; HF and fast backends). seed: the same
    seed and the same call give the same samples. logprobs: also return each completion's
    generated token ids and their log-probabilities under the model (temperature 1, before
    top-p): what GRPO's ``rollout_func`` and PPO need.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    min_new_tokens: int = 0
    stop: list[str] = field(default_factory=list)
    stop_regex: list[str] = field(default_factory=list)
    seed: int = 0
    logprobs: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        if isinstance(self.stop_regex, str):
            self.stop_regex = [self.stop_regex]
        self.stop = list(self.stop)
        self.stop_regex = list(self.stop_regex)
        self.validate()

    def validate(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"SamplingParams.{name}={getattr(self, name)!r}: {why}")

        if not isinstance(self.n, int) or self.n < 1:
            raise bad("n", "must be an integer >= 1")
        if not isinstance(self.temperature, int | float) or self.temperature < 0:
            raise bad("temperature", "must be a number >= 0 (0 = greedy)")
        if not 0 < self.top_p <= 1:
            raise bad("top_p", "must be in (0, 1]")
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise bad("max_new_tokens", "must be an integer >= 1")
        if (
            not isinstance(self.min_new_tokens, int)
            or not 0 <= self.min_new_tokens <= self.max_new_tokens
        ):
            raise bad("min_new_tokens", "must be an integer in [0, max_new_tokens]")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise bad("stop", "stop strings must be non-empty strings")
        for pattern in self.stop_regex:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise bad("stop_regex", f"pattern {pattern!r} does not compile: {exc}") from None
        if not isinstance(self.seed, int):
            raise bad("seed", "must be an integer")
        if not isinstance(self.logprobs, bool):
            raise bad("logprobs", "must be True or False")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def replace(self, **changes: Any) -> SamplingParams:
        return SamplingParams(**{**asdict(self), **changes})


@dataclass
class Completion:
    """One generated continuation. n_tokens counts the tokens the model generated for it
    (those of a stop string and a final EOS included; nothing after the stop)."""

    text: str
    n_tokens: int
    finish_reason: str  # "stop" | "eos" | "length"
    stop: str | None = None  # the stop string, or the text a stop pattern matched
    # with SamplingParams(logprobs=True): every token the model generated for this
    # completion (over all tool rounds, a stop's and an EOS included) and its log-probability
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None


class ChatPrompt(NamedTuple):
    """Chat messages plus a partial assistant response to continue (``prefix``)."""

    messages: list[dict[str, str]]
    prefix: str = ""


Prompt = str | list | tuple


def _check_messages(messages: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise TypeError(
            f"{where}: chat messages must be a non-empty list of dicts, got {type(messages).__name__}"
        )
    for j, m in enumerate(messages):
        if (
            not isinstance(m, dict)
            or not isinstance(m.get("role"), str)
            or not isinstance(m.get("content"), str)
        ):
            raise TypeError(
                f"{where}: message {j} must be a dict with string 'role' and 'content', got {m!r:.100}"
            )
    return messages


def as_chat_prompt(prompt: Prompt, where: str = "prompt") -> ChatPrompt | str:
    """Normalise a prompt: a raw string stays a string, chat forms become ChatPrompt."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, tuple):
        if len(prompt) != 2 or not isinstance(prompt[1], str):
            raise TypeError(f"{where}: a tuple prompt must be (messages, assistant_prefix: str)")
        return ChatPrompt(_check_messages(list(prompt[0]), where), prompt[1])
    if isinstance(prompt, list):
        return ChatPrompt(_check_messages(prompt, where), "")
    raise TypeError(
        f"{where}: expected chat messages, (messages, prefix) or a string, got {type(prompt).__name__}"
    )


def render_prompt(tokenizer, prompt: Prompt) -> tuple[str, bool]:
    """(text, templated): the prompt as the model reads it. Chat prompts go through the
    chat template with the assistant turn opened, then the prefix is appended."""
    p = as_chat_prompt(prompt)
    if isinstance(p, str):
        return p, False
    if getattr(tokenizer, "chat_template", None) is None:
        raise ValueError(
            "the tokenizer has no chat template: pass raw string prompts instead of chat messages"
        )
    text = tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
    return text + p.prefix, True


def locate_stop(
    text: str, stop: Sequence[str], stop_regex: Sequence[re.Pattern]
) -> tuple[int, int, str] | None:
    """(cut_at, ends_at, what) of the stop that completes first in `text`, or None.

    A stop string is cut away (cut_at = its start); a pattern's match is kept (cut_at = its end).
    """
    best: tuple[int, int, str] | None = None
    for s in stop:
        i = text.find(s)
        if i >= 0 and (best is None or i + len(s) < best[1]):
            best = (i, i + len(s), s)
    for pattern in stop_regex:
        m = pattern.search(text)
        if m and (best is None or m.end() < best[1]):
            best = (m.end(), m.end(), m.group(0))
    return best


def tokens_until(tokenizer, tokens: list[int], n_chars: int) -> int:
    """The fewest leading tokens whose decoded text reaches n_chars characters."""
    lo, hi = 1, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokenizer.decode(tokens[:mid], skip_special_tokens=True)) >= n_chars:
            hi = mid
        else:
            lo = mid + 1
    return lo


def finish_completion(
    tokenizer,
    tokens: list[int],
    eos_ids: Sequence[int],
    stop: Sequence[str],
    regex: Sequence[re.Pattern],
) -> Completion:
    """The Completion for generated `tokens` (every backend that sees tokens uses this):
    text up to the first EOS, cut at the first stop; n_tokens counts the tokens up to the
    end of the stop (or the EOS, included)."""
    eos_at = next((t for t, tok in enumerate(tokens) if tok in eos_ids), None)
    body = tokens if eos_at is None else tokens[:eos_at]
    text = tokenizer.decode(body, skip_special_tokens=True)
    hit = locate_stop(text, stop, regex)
    if hit is not None:
        cut_at, ends_at, what = hit
        return Completion(text[:cut_at], tokens_until(tokenizer, body, ends_at), "stop", what)
    if eos_at is not None:
        return Completion(text, eos_at + 1, "eos")
    return Completion(text, len(tokens), "length")


def eos_token_ids(tokenizer, model) -> list[int]:
    """Every token id that ends a turn: the tokenizer's EOS and the model's generation EOS."""
    eos: set[int] = set()
    for source in (
        tokenizer.eos_token_id,
        getattr(getattr(model, "generation_config", None), "eos_token_id", None),
    ):
        if isinstance(source, int):
            eos.add(source)
        elif isinstance(source, list | tuple):
            eos.update(int(x) for x in source)
    if not eos:
        raise ValueError(
            "neither the tokenizer nor the model's generation_config names an eos token"
        )
    return sorted(eos)


# --------------------------------------------------------------------------- HF backend
class _StopOnText:
    """Per-row stopping criterion: a stop string or pattern in the last generated tokens."""

    def __init__(self, tokenizer, prompt_len: int, stop: list[str], stop_regex: list[re.Pattern]):
        self.tokenizer, self.prompt_len = tokenizer, prompt_len
        self.stop, self.stop_regex = stop, stop_regex
        self.done = None

    def __call__(self, input_ids, scores=None, **kwargs):
        import torch

        batch = input_ids.shape[0]
        if self.done is None:
            self.done = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        start = max(self.prompt_len, input_ids.shape[1] - STOP_WINDOW_TOKENS)
        rows = [i for i in range(batch) if not self.done[i]]
        if rows:
            tails = self.tokenizer.batch_decode(
                input_ids[rows, start:].tolist(), skip_special_tokens=True
            )
            for i, tail in zip(rows, tails):
                if locate_stop(tail, self.stop, self.stop_regex) is not None:
                    self.done[i] = True
        return self.done.clone()


class _SuppressEOS:
    """min_new_tokens as a logits processor that only touches the EOS columns (transformers'
    own rewrites the whole vocabulary with torch.where each step: ~25% of a CPU decode step)."""

    def __init__(self, prompt_len: int, min_new_tokens: int, eos_ids: list[int]):
        self.prompt_len, self.min_new_tokens, self.eos_ids = prompt_len, min_new_tokens, eos_ids

    def __call__(self, input_ids, scores):
        if input_ids.shape[1] - self.prompt_len < self.min_new_tokens:
            scores[:, self.eos_ids] = -float("inf")
        return scores


class HFBackend:
    """Batched generation with a transformers causal LM (CPU or GPU).

    Build from a spec (``HFBackend.from_spec("smollm2-135m-instruct")``) or from a model and
    tokenizer already in memory (``HFBackend(model, tokenizer)``: training notebooks pass
    the model they are training; its train/eval mode is restored after generating).

    batch_size: sequences per ``generate`` call (default 32 on CPU, 64 on CUDA).
    autocast: bf16 autocast on CPU: True, False, or None for the hardware's choice
    (:func:`mathlab.precision.sample_bf16`: fp32 greedy; bf16 sampling only where it is
    native and fast); ignored on GPU,
    where the model's own dtype is used. show_progress: a progress line per batch.
    """

    supports_stop_regex = True
    kind = "hf"

    def __init__(
        self,
        model,
        tokenizer,
        batch_size: int | None = None,
        autocast: bool | None = None,
        name: str | None = None,
        show_progress: bool = True,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.device = str(next(model.parameters()).device)
        device_type = self.device.split(":")[0]
        self.batch_size = int(batch_size or DEFAULT_BATCH_SIZE.get(device_type, 16))
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.autocast = None if autocast is None else bool(autocast)
        self.name = (
            name
            or getattr(getattr(model, "config", None), "_name_or_path", None)
            or type(model).__name__
        )
        self.show_progress = show_progress
        pad = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        if pad is None:
            raise ValueError("the tokenizer has neither a pad nor an eos token")
        self.pad_token_id = int(pad)
        self.eos_token_ids = eos_token_ids(tokenizer, model)

    @classmethod
    def from_spec(
        cls, spec: str, device: str = "auto", dtype: str = "auto", seed: int = 0, **opts: Any
    ) -> HFBackend:
        from mathlab.models import load_model, load_tokenizer

        model = load_model(spec, device=device, dtype=dtype, seed=seed)
        return cls(model, load_tokenizer(spec), name=opts.pop("name", spec), **opts)

    def __repr__(self) -> str:
        return f"HFBackend({self.name!r}, device={self.device}, batch_size={self.batch_size}, autocast={self.autocast})"

    # -- helpers
    def _autocast_on(self, sampling: SamplingParams | None = None) -> bool:
        """Whether a generate call with `sampling` runs under bf16 autocast."""
        import torch

        if self.device != "cpu" or next(self.model.parameters()).dtype != torch.float32:
            return False
        from mathlab.precision import sample_bf16

        greedy = sampling is None or sampling.greedy
        return sample_bf16(self.autocast, greedy, "cpu")

    def encode(self, prompt: Prompt) -> list[int]:
        text, templated = render_prompt(self.tokenizer, prompt)
        # A rendered chat template already holds its special tokens; raw text gets the
        # tokenizer's usual ones (e.g. a BOS).
        return self.tokenizer(text, add_special_tokens=not templated)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # -- generation
    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
    ) -> list[list[Completion]]:
        import torch

        sampling = sampling or SamplingParams()
        encoded = [self.encode(as_chat_prompt(p, f"prompts[{i}]")) for i, p in enumerate(prompts)]
        # Greedy samples are all the same: generate one and copy it.
        copies = 1 if sampling.greedy else sampling.n
        items = [(i, j) for i in range(len(encoded)) for j in range(copies)]
        # Longest first: similar lengths share a batch, and memory peaks on the first batch.
        items.sort(key=lambda ij: -len(encoded[ij[0]]))
        batches = [items[s : s + self.batch_size] for s in range(0, len(items), self.batch_size)]
        results: dict[tuple[int, int], Completion] = {}
        regex = [re.compile(p) for p in sampling.stop_regex]
        was_training = self.model.training
        self.model.eval()
        iterator = batches
        if self.show_progress and len(batches) > 1:
            from mathlab.progress import progress

            iterator = progress(
                batches,
                total=len(batches),
                desc=f"{desc} ({len(items)} seqs, bs {self.batch_size})",
                unit="batch",
            )
        try:
            rng_devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
            with torch.random.fork_rng(devices=rng_devices):
                torch.manual_seed(sampling.seed)
                for batch in iterator:
                    outs = self._generate_batch([encoded[i] for i, _ in batch], sampling, regex)
                    for key, comp in zip(batch, outs):
                        results[key] = comp
        finally:
            self.model.train(was_training)
        return [
            [results[(i, j if copies > 1 else 0)] for j in range(sampling.n)]
            for i in range(len(encoded))
        ]

    def _generate_batch(
        self, batch_ids: list[list[int]], sampling: SamplingParams, regex: list[re.Pattern]
    ) -> list[Completion]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        width = max(len(ids) for ids in batch_ids)
        input_ids = torch.full((len(batch_ids), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for r, ids in enumerate(batch_ids):  # left padding
            input_ids[r, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[r, width - len(ids) :] = 1
        input_ids, attention = input_ids.to(self.device), attention.to(self.device)
        config = GenerationConfig(
            max_new_tokens=sampling.max_new_tokens,
            do_sample=not sampling.greedy,
            temperature=float(sampling.temperature) if not sampling.greedy else None,
            top_p=float(sampling.top_p) if not sampling.greedy else None,
            top_k=0 if not sampling.greedy else None,  # plain temperature / nucleus sampling
            num_return_sequences=1,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.pad_token_id,
        )
        processors = LogitsProcessorList()
        if sampling.min_new_tokens:
            processors.append(_SuppressEOS(width, sampling.min_new_tokens, self.eos_token_ids))
        criteria = StoppingCriteriaList()
        if sampling.stop or regex:
            criteria.append(_StopOnText(self.tokenizer, width, sampling.stop, regex))
        autocast = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self._autocast_on(sampling)
            else contextlib.nullcontext()
        )
        # no_grad rather than inference_mode: autocast caches its bf16 copy of each weight
        # only for tensors that require grad, which inference_mode hides (~1.4x slower).
        if sampling.logprobs:
            config.output_logits = True
            config.return_dict_in_generate = True
        with torch.no_grad(), autocast:
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                generation_config=config,
                stopping_criteria=criteria,
                logits_processor=processors,
            )
        if not sampling.logprobs:
            return [self._finish(tokens, sampling, regex) for tokens in out[:, width:].tolist()]
        sequences = out.sequences[:, width:]
        # raw logits of every step -> log-probabilities of the chosen tokens (temperature 1)
        steps = torch.stack([s.float() for s in out.logits], dim=1)  # [batch, new, vocab]
        chosen = torch.log_softmax(steps, dim=-1).gather(2, sequences[:, :, None])[:, :, 0]
        comps = []
        for tokens, lps in zip(sequences.tolist(), chosen.tolist()):
            comp = self._finish(tokens, sampling, regex)
            comp.token_ids, comp.logprobs = tokens[: comp.n_tokens], lps[: comp.n_tokens]
            comps.append(comp)
        return comps

    def _finish(
        self, tokens: list[int], sampling: SamplingParams, regex: list[re.Pattern]
    ) -> Completion:
        return finish_completion(self.tokenizer, tokens, self.eos_token_ids, sampling.stop, regex)


# --------------------------------------------------------------------------- vLLM backend
class VLLMBackend:
    """vLLM offline inference (the ``gpu`` extra); imported only when built.

    spec: any model spec of ``mathlab.models`` that resolves to a folder or a hub id
    (a PEFT adapter is served as a LoRA on its base). Extra options go to ``vllm.LLM``
    (e.g. ``tensor_parallel_size=2``, ``gpu_memory_utilization=0.85``).
    """

    supports_stop_regex = False
    kind = "vllm"

    def __init__(
        self,
        spec: str,
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = 4096,
        name: str | None = None,
        **llm_kwargs: Any,
    ):
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(
                "the vLLM backend needs the gpu extra: pip install -e '.[gpu]' (and a CUDA GPU)"
            ) from exc
        from mathlab.models import _adapter_base, convert_embedded, load_tokenizer, resolve_spec

        kind, path = resolve_spec(spec)
        self.lora = None
        if kind == "adapter":
            from vllm.lora.request import LoRARequest

            base = _adapter_base(path)
            self.lora = LoRARequest("adapter", 1, str(path))
            llm_kwargs.setdefault("enable_lora", True)
            spec_for_model = base
        else:
            spec_for_model = spec
        base_kind, base_path = resolve_spec(spec_for_model)
        if base_kind in ("embedded", "tiny"):
            model_path = str(convert_embedded())
            if base_kind == "tiny":
                raise ValueError(
                    "the vLLM backend does not serve 'tiny-random' (it lives only in memory); use kind='hf'"
                )
        else:
            model_path = str(base_path) if base_path is not None else spec_for_model
        self.tokenizer = load_tokenizer(spec)
        self.name = name or spec
        self.llm = vllm.LLM(
            model=model_path, dtype=dtype, seed=seed, max_model_len=max_model_len, **llm_kwargs
        )
        self._vllm = vllm

    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
    ) -> list[list[Completion]]:
        sampling = sampling or SamplingParams()
        if sampling.stop_regex:
            raise ValueError("the vLLM backend does not support stop_regex (use stop strings)")
        rendered = [
            render_prompt(self.tokenizer, as_chat_prompt(p, f"prompts[{i}]"))
            for i, p in enumerate(prompts)
        ]
        params = self._vllm.SamplingParams(
            n=sampling.n,
            temperature=float(sampling.temperature),
            top_p=float(sampling.top_p),
            max_tokens=sampling.max_new_tokens,
            min_tokens=sampling.min_new_tokens,
            stop=sampling.stop or None,
            seed=sampling.seed,
            include_stop_str_in_output=False,
        )
        token_prompts = [  # the same tokens as the HF backend reads
            {"prompt_token_ids": self.tokenizer(t, add_special_tokens=not templated)["input_ids"]}
            for t, templated in rendered
        ]
        outputs = self.llm.generate(token_prompts, params, lora_request=self.lora, use_tqdm=False)
        result = []
        for out in outputs:
            comps = []
            for o in out.outputs:
                if o.finish_reason == "length":
                    reason, stop = "length", None
                elif isinstance(o.stop_reason, str):
                    reason, stop = "stop", o.stop_reason
                else:
                    reason, stop = "eos", None
                comps.append(Completion(o.text, len(o.token_ids), reason, stop))
            result.append(comps)
        return result


# --------------------------------------------------------------------------- OpenAI backend
class OpenAIError(RuntimeError):
    """An OpenAI-compatible endpoint answered with an error (the message has URL, status, body)."""


class OpenAIBackend:
    """An OpenAI-compatible HTTP endpoint (a vLLM server, any API): a teacher model.

    Chat prompts go to ``{base_url}/chat/completions``; a ``(messages, prefix)`` prompt adds
    the prefix as a final assistant message with ``continue_final_message`` (a vLLM server
    extension) so the model continues it; raw strings go to ``{base_url}/completions``.
    The API key is read from the environment variable named by ``api_key_env`` (none sent
    when it is unset: local servers). Requests run ``max_workers`` at a time, each with a
    ``timeout`` and ``max_retries`` retries on connection errors, 429 and 5xx.
    With n > 1, sample j is its own request with seed ``seed + j`` (exact token counts and
    reproducible samples where the server honours seeds).
    """

    supports_stop_regex = False
    kind = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        max_workers: int = 8,
        max_retries: int = 2,
        name: str | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.model, self.base_url = model, base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout, self.max_workers, self.max_retries = (
            float(timeout),
            int(max_workers),
            int(max_retries),
        )
        self.name = name or model

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.model!r}, base_url={self.base_url!r})"

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/{route}"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body).encode()
        last_error = ""
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                last_error = f"HTTP {exc.code}: {detail}"
                if exc.code != 429 and exc.code < 500:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except json.JSONDecodeError as exc:
                last_error = f"the answer is not JSON: {exc}"
                break
            if attempt < self.max_retries:
                time.sleep(min(8.0, 0.5 * 2**attempt))
        raise OpenAIError(f"POST {url} (model {self.model!r}) failed: {last_error}")

    def _one(self, prompt: ChatPrompt | str, sampling: SamplingParams, seed: int) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": float(sampling.temperature),
            "top_p": float(sampling.top_p),
            "max_tokens": sampling.max_new_tokens,
            "n": 1,
            "seed": seed,
        }
        if sampling.min_new_tokens:
            body["min_tokens"] = sampling.min_new_tokens
        if sampling.stop:
            body["stop"] = sampling.stop
        if isinstance(prompt, str):
            reply = self._post("completions", {**body, "prompt": prompt})
            choice = reply["choices"][0]
            text = choice.get("text") or ""
        else:
            messages = list(prompt.messages)
            if prompt.prefix:
                messages.append({"role": "assistant", "content": prompt.prefix})
                body.update(continue_final_message=True, add_generation_prompt=False)
            reply = self._post("chat/completions", {**body, "messages": messages})
            choice = reply["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        try:
            n_tokens = int(reply["usage"]["completion_tokens"])
        except (KeyError, TypeError, ValueError):
            raise OpenAIError(
                f"{self.base_url}: the answer has no usage.completion_tokens: {reply!r:.300}"
            ) from None
        reason = choice.get("finish_reason")
        stop = choice.get("stop_reason") if isinstance(choice.get("stop_reason"), str) else None
        if reason == "length":
            finish = "length"
        elif stop is not None:
            finish = "stop"
        elif "stop_reason" in choice or not sampling.stop:
            finish = "eos"  # vLLM servers say stop_reason=None for an end of turn
        else:
            finish = (
                "stop"  # the plain API says "stop" for both: ambiguous when stop strings were asked
            )
        return Completion(text, n_tokens, finish, stop)

    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
    ) -> list[list[Completion]]:
        sampling = sampling or SamplingParams()
        if sampling.stop_regex:
            raise ValueError("the OpenAI backend does not support stop_regex (use stop strings)")
        normalised = [as_chat_prompt(p, f"prompts[{i}]") for i, p in enumerate(prompts)]
        copies = 1 if sampling.greedy else sampling.n
        jobs = [(i, j) for i in range(len(normalised)) for j in range(copies)]
        results: dict[tuple[int, int], Completion] = {}
        from mathlab.progress import progress

        with concurrent.futures.ThreadPoolExecutor(
            self.max_workers, thread_name_prefix="openai"
        ) as pool:
            futures = {
                pool.submit(self._one, normalised[i], sampling, sampling.seed + j): (i, j)
                for i, j in jobs
            }
            done = concurrent.futures.as_completed(futures)
            if len(jobs) > self.max_workers:
                done = progress(done, total=len(jobs), desc=f"{desc} ({self.model})", unit="req")
            for future in done:
                results[futures[future]] = future.result()
        return [
            [results[(i, j if copies > 1 else 0)] for j in range(sampling.n)]
            for i in range(len(normalised))
        ]


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


def get_backend(spec_or_model: Any, kind: str = "auto", **opts: Any):
    """A generation backend.

    spec_or_model: a model spec string (``smollm2-135m-instruct``, ``tiny-random``, a
    folder, a hub id; for ``kind="openai"`` the served model's name), a ``(model,
    tokenizer)`` pair, a model with ``tokenizer=`` in opts, or a backend (returned as is).
    kind: ``auto`` (``fast`` on CPU where the engine runs the model, else ``hf``) | ``fast``
    | ``hf`` | ``vllm`` | ``openai``. opts go to the backend (fast/HF: device, dtype,
    batch_size, autocast, name; vLLM: dtype, seed, LLM kwargs; OpenAI: base_url,
    api_key_env, timeout, max_workers).
    """
    if hasattr(spec_or_model, "generate") and hasattr(spec_or_model, "supports_stop_regex"):
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
