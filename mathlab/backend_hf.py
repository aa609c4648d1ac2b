"""The HF backend: batched ``model.generate`` with a transformers causal LM (CPU or GPU),
the reference every other backend is checked against. See :mod:`mathlab.generate`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from mathlab.backend_common import (
    STOP_WINDOW_TOKENS,
    BackendBase,
    Completion,
    ModelBackend,
    Prompt,
    SamplingParams,
    as_chat_prompt,
    eos_token_ids,
    finish_completion,
    locate_stop,
    per_prompt,
    sample_keys,
)

AGREEMENT_NOTE = """bf16 and greedy decoding. Measured with ``benchmarks/sampling.py`` on SmolLM2-135M:
teacher-forced on gold solutions, bf16 autocast changes the next-token argmax at ~1.75% of
positions and the log-probabilities by ~0.03 nats/token, so a sampled distribution barely
moves; but greedy texts diverge after the first flip (7/32 identical texts). Greedy
evaluation therefore stays exact fp32 unless asked, and sampling uses bf16 only where the
CPU computes it natively and fast (:func:`mathlab.precision.sample_bf16`)."""

DEFAULT_BATCH_SIZE = {"cpu": 32, "cuda": 64, "mps": 16}


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


class HFBackend(ModelBackend, BackendBase):
    """Batched generation with a transformers causal LM (CPU or GPU).

    Build from a spec (``HFBackend.from_spec("smollm2-135m-instruct")``) or from a model and
    tokenizer already in memory (``HFBackend(model, tokenizer)``: training notebooks pass
    the model they are training; its train/eval mode is restored after generating).

    batch_size: sequences per ``generate`` call (default 32 on CPU, 64 on CUDA).
    autocast: bf16 autocast on CPU: True, False, or None for the hardware's choice
    (:func:`mathlab.precision.sample_bf16`: fp32 greedy; bf16 sampling only where it is
    native and fast); ignored on GPU, where the model's own dtype is used.
    show_progress: a progress line per batch.
    """

    kind = "hf"
    supports_stop_regex = True
    supports_logprobs = True
    supports_tools = False

    def __init__(
        self,
        model,
        tokenizer,
        batch_size: int | None = None,
        autocast: bool | None = None,
        name: str | None = None,
        show_progress: bool = True,
    ):
        super().__init__(model, tokenizer, name, autocast, show_progress)
        self.batch_size = self._sequences(batch_size, DEFAULT_BATCH_SIZE, 16, "batch_size")
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

    # -- generation
    def _generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams, desc: str
    ) -> list[list[Completion]]:
        import torch

        encoded = [self.encode(as_chat_prompt(p, f"prompts[{i}]")) for i, p in enumerate(prompts)]
        # Greedy samples are all the same: generate one and copy it.
        items = sample_keys(len(encoded), sampling)
        # Longest first: similar lengths share a batch, and memory peaks on the first batch.
        items.sort(key=lambda ij: -len(encoded[ij[0]]))
        batches = [items[s : s + self.batch_size] for s in range(0, len(items), self.batch_size)]
        results: dict[tuple[int, int], Completion] = {}
        regex = [re.compile(p) for p in sampling.stop_regex]
        iterator = batches
        if self.show_progress and len(batches) > 1:
            from mathlab.progress import progress

            iterator = progress(
                batches,
                total=len(batches),
                desc=f"{desc} ({len(items)} seqs, bs {self.batch_size})",
                unit="batch",
            )
        rng_devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        with self._eval_mode(), torch.random.fork_rng(devices=rng_devices):
            torch.manual_seed(sampling.seed)
            for batch in iterator:
                outs = self._generate_batch([encoded[i] for i, _ in batch], sampling, regex)
                for key, comp in zip(batch, outs):
                    results[key] = comp
        return per_prompt(results, len(encoded), sampling)

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
