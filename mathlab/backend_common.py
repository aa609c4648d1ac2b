"""What every generation backend shares: the value types (:class:`SamplingParams`,
:class:`Completion`, :class:`ChatPrompt`), prompt rendering, turning generated tokens
into a :class:`Completion` (first EOS, first stop string or pattern), and the common parts
of the backends themselves (:class:`BackendBase`'s ``generate``, :class:`ModelBackend`).

Backends and the interface they share are described in :mod:`mathlab.generate`, which
re-exports the value types and the prompt helpers.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

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


@dataclass
class ToolEvent:
    """A sequence stopped at a tool boundary (a backend with ``supports_tools``).
    ``completion`` is this round's text (as the HF backend would return it for a generate
    call that stopped there); ``index`` and ``sample`` say which prompt and which of its n
    samples."""

    index: int
    sample: int
    completion: Completion


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


def checked_sampling(backend: Any, sampling: SamplingParams | None) -> SamplingParams:
    """`sampling` (default ``SamplingParams()``) once `backend` is known to honour it: an
    option the backend does not support (its ``supports_*`` flags) is an error, never
    silently ignored."""
    sampling = sampling or SamplingParams()
    if sampling.stop_regex and not backend.supports_stop_regex:
        raise ValueError(
            f"the {backend.kind} backend does not support stop_regex (use stop strings)"
        )
    if sampling.logprobs and not backend.supports_logprobs:
        raise ValueError(
            f"the {backend.kind} backend does not return logprobs (use kind='hf' or 'fast')"
        )
    return sampling


def render_prompts(tokenizer, prompts: Sequence[Prompt]) -> list[tuple[str, bool]]:
    """(text, templated) of every prompt, each checked (errors name ``prompts[i]``)."""
    return [
        render_prompt(tokenizer, as_chat_prompt(p, f"prompts[{i}]")) for i, p in enumerate(prompts)
    ]


def encode_text(tokenizer, text: str, templated: bool) -> list[int]:
    """Token ids of a rendered prompt. A rendered chat template already holds its special
    tokens; raw text gets the tokenizer's usual ones (e.g. a BOS)."""
    return tokenizer(text, add_special_tokens=not templated)["input_ids"]


def count_text_tokens(tokenizer, text: str) -> int:
    """Tokens of `text` alone (no special tokens)."""
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def model_name(model, name: str | None) -> str:
    """A backend's name: the one given, else the model's hub id or folder, else its class."""
    return (
        name
        or getattr(getattr(model, "config", None), "_name_or_path", None)
        or type(model).__name__
    )


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


# --------------------------------------------------------------------------- backend parts
def distinct_samples(sampling: SamplingParams) -> int:
    """Samples to generate per prompt: greedy ones would all be the same, so one (repeated
    by :func:`per_prompt`)."""
    return 1 if sampling.greedy else sampling.n


def sample_keys(n_prompts: int, sampling: SamplingParams) -> list[tuple[int, int]]:
    """(prompt, sample) of every sequence to generate, prompt by prompt."""
    return [(i, j) for i in range(n_prompts) for j in range(distinct_samples(sampling))]


def per_prompt(
    results: dict[tuple[int, int], Completion], n_prompts: int, sampling: SamplingParams
) -> list[list[Completion]]:
    """``sampling.n`` completions per prompt from `results` keyed by (prompt, sample)."""
    copies = distinct_samples(sampling)
    return [
        [results[(i, j if copies > 1 else 0)] for j in range(sampling.n)] for i in range(n_prompts)
    ]


class BackendBase:
    """``generate`` for the backends without tool calls (HF, vLLM, OpenAI): `sampling`
    checked against the backend's ``supports_*`` flags (:func:`checked_sampling`), then
    ``self._generate(prompts, sampling, desc)``. The fast backend, a tool backend, has
    its own."""

    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: SamplingParams | None = None,
        desc: str = "generate",
    ) -> list[list[Completion]]:
        """One list of ``sampling.n`` completions per prompt, in the order of the prompts."""
        return self._generate(prompts, checked_sampling(self, sampling), desc)

    def _generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams, desc: str
    ) -> list[list[Completion]]:
        raise NotImplementedError


class ModelBackend:
    """What the backends over a transformers model in this process (HF, fast) share: the
    model and tokenizer, its device, name, autocast choice and progress switch, prompt
    encoding, and eval mode while generating (the model's train/eval mode restored)."""

    def __init__(self, model, tokenizer, name: str | None, autocast: bool | None, show_progress):
        self.model = model
        self.tokenizer = tokenizer
        self.device = str(next(model.parameters()).device)
        self.autocast = None if autocast is None else bool(autocast)
        self.name = model_name(model, name)
        self.show_progress = show_progress

    def _sequences(self, given: int | None, defaults: dict[str, int], fallback: int, what: str):
        """Sequences generated together: `given`, else the default for this device type."""
        n = int(given or defaults.get(self.device.split(":")[0], fallback))
        if n < 1:
            raise ValueError(f"{what} must be >= 1, got {given}")
        return n

    def encode(self, prompt: Prompt) -> list[int]:
        return encode_text(self.tokenizer, *render_prompt(self.tokenizer, prompt))

    def count_tokens(self, text: str) -> int:
        return count_text_tokens(self.tokenizer, text)

    @contextlib.contextmanager
    def _eval_mode(self):
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
            self.model.train(was_training)
