"""The fast sampler's scheduler: continuous batching over the slots of the KV cache.

One :class:`_Scheduler` runs one ``FastBackend.generate`` call. Every iteration it (1) runs
one packed prefill for prompts that take free slots and for sequences that resume after a
tool, (2) one decode step for every sequence with a pending token, (3) samples, and
finishes, or pauses at a tool boundary, what that step completed. Token sampling
(:func:`_draw`) draws from one random stream per sequence, so a sample's text does not
depend on which other sequences share its batch. See :mod:`mathlab.engine` for the design
and :mod:`mathlab.engine_model` for the forward passes.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathlab.backend_common import (
    STOP_WINDOW_TOKENS,
    Completion,
    SamplingParams,
    ToolEvent,
    finish_completion,
    locate_stop,
)
from mathlab.engine_model import _Runner

SHARED_PREFIX_MIN = 8
"""A token prefix shared by every prompt of a call is computed once when at least this long."""
SAMPLE_BLOCK = 1024


# --------------------------------------------------------------------------- sampling
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


def new_stats(dtype: str) -> dict[str, Any]:
    """The counters of one call (``FastBackend.last_stats``)."""
    return {
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


# --------------------------------------------------------------------------- the scheduler
class _Scheduler:
    """One generate call: which sequences take the slots, prefill, decode and finish when.

    regex / tregex: the compiled ``sampling.stop_regex`` / tool patterns; tool_stop, on_tool
    and max_tool_rounds as in ``FastBackend.generate``; stats: :func:`new_stats`, updated.
    """

    def __init__(
        self,
        runner: _Runner,
        tokenizer,
        eos_token_ids: list[int],
        sampling: SamplingParams,
        regex: list[re.Pattern],
        tregex: list[re.Pattern],
        tool_stop: list[str],
        on_tool: Callable[[list[ToolEvent]], list[str | None]] | None,
        max_tool_rounds: int,
        stats: dict[str, Any],
    ):
        self.runner, self.cache = runner, runner.cache
        self.tokenizer, self.eos_token_ids = tokenizer, eos_token_ids
        self.sampling, self.regex, self.tregex = sampling, regex, tregex
        self.tool_stop, self.on_tool, self.max_tool_rounds = tool_stop, on_tool, max_tool_rounds
        self.stats = stats
        self.results: dict[tuple[int, int], Completion] = {}
        self.free: list[int] = []  # free slots, lowest last (pop() takes it)
        self.running: list[_Seq] = []  # sequences with a pending token
        self.paused: list[tuple[_Seq, str]] = []  # sequences waiting to resume after a tool
        self.bar = None

    def run(
        self,
        rendered: list[tuple[str, bool]],
        encoded: list[list[int]],
        copies: int,
        desc: str,
        show_progress: bool,
    ) -> dict[tuple[int, int], Completion]:
        """Every (prompt, sample) to completion: ``{(i, j): Completion}`` (j < copies).

        Each iteration: (1) one packed prefill for prompts that take free slots and for
        sequences that resume after a tool (batched: each prefill pass streams every weight
        once, so it waits until a group of them is ready, or nothing else can run); (2) one
        decode step for every sequence that has a pending token; (3) finish, or pause at a
        tool boundary, what that step completed."""
        waiting = [(i, j) for i in range(len(encoded)) for j in range(copies)]
        waiting.reverse()  # pop() from the end: prompt order
        total = len(waiting)
        prefix_slot, prefix_len = self._shared_prefix(encoded)
        usable = self.cache.slots - 1  # the last slot holds the shared prefix
        self.free = list(range(usable - 1, -1, -1))
        group = max(1, usable // 8)  # prefill when this many are ready (or nothing can run)
        if show_progress and total > 1:
            from mathlab.progress import progress

            self.bar = progress(
                total=total, desc=f"{desc} ({total} seqs, fast, {usable} slots)", unit="seq"
            )
        try:
            while waiting or self.running or self.paused:
                admit = min(len(waiting), len(self.free))
                ready = admit + len(self.paused)
                if ready and (ready >= group or not self.running or admit == len(waiting) > 0):
                    new = [self._admit(waiting.pop(), rendered, encoded) for _ in range(admit)]
                    resumed, self.paused[:] = list(self.paused), []
                    t0 = time.perf_counter()
                    self._prefill(new, resumed, prefix_slot, prefix_len)
                    self.stats["prefill_s"] += time.perf_counter() - t0
                    self.running.extend(self._process(new + [s for s, _ in resumed]))
                if self.running:
                    self._decode_step()
        finally:
            if self.bar is not None:
                self.bar.close()
        return self.results

    def _admit(self, ij: tuple[int, int], rendered, encoded) -> _Seq:
        """A new sequence for sample j of prompt i, in a free slot."""
        i, j = ij
        rng = None if self.sampling.greedy else random.Random(f"{self.sampling.seed}/{i}/{j}")
        s = _Seq(i, j, rendered[i][0], list(encoded[i]), len(encoded[i]), rng)
        s.slot = self.free.pop()
        return s

    def _decode_step(self) -> None:
        """One decode step for every running sequence (its pending token), then sampling
        and the checks."""
        stats, running = self.stats, self.running
        stats["decode_steps"] += 1
        t0 = time.perf_counter()
        logits = self.runner.decode(
            [s.tokens[-1] for s in running],
            [s.cached for s in running],
            [s.slot for s in running],
        )
        t1 = time.perf_counter()
        self._sample(running, logits)
        t2 = time.perf_counter()
        self.running = self._process(running)
        stats["decode_s"] += t1 - t0
        stats["sample_s"] += t2 - t1
        stats["check_s"] += time.perf_counter() - t2

    def _finish(self, s: _Seq, comp: Completion) -> None:
        if self.sampling.logprobs:
            comp.token_ids = list(s.all_generated)
            comp.logprobs = list(s.logprobs)
        self.results[(s.index, s.sample)] = comp
        self.stats["generated"] += s.generated
        self.free.append(s.slot)
        if self.bar is not None:
            self.bar.update(1)

    def _process(self, seqs: list[_Seq]) -> list[_Seq]:
        """Check each sequence after its newest token; returns those that go on.
        Finished ones free their slot; tool events go to `on_tool` (all of this step's
        at once) and the sequences with a reply wait in `paused`."""
        keep, events = [], []
        for s in seqs:
            outcome = self._check(s)
            if outcome is None:
                keep.append(s)
            elif outcome[0] == "tool":
                events.append((s, outcome[1]))
            else:
                self._finish(s, outcome[1])
        if events:
            assert self.on_tool is not None  # tool stops are only set with a callback
            replies = self.on_tool([ToolEvent(s.index, s.sample, c) for s, c in events])
            if len(replies) != len(events):
                raise ValueError(
                    f"on_tool returned {len(replies)} replies for {len(events)} events"
                )
            for (s, comp), reply in zip(events, replies):
                if reply is None:
                    self._finish(s, Completion("", 0, "stop", comp.stop))
                else:
                    self.paused.append((s, reply))
        return keep

    def _shared_prefix(self, encoded: list[list[int]]) -> tuple[int, int]:
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
        slot = self.cache.slots - 1
        self.runner.prefill(first[:n], [(slot, 0, n)])
        self.stats["prefill_tokens"] += n
        self.stats["shared_prefix"] = n
        return slot, n

    def _prefill(self, new, resumed, prefix_slot, prefix_len) -> None:
        """One packed prefill for new sequences (slots assigned) and for sequences resuming
        after a tool. New: the n samples of one prompt share one prefill (its KV copied),
        all share the call's common prefix. Resumed: the response edited by the tool is
        re-tokenized with the prompt (as the HF backend would), the KV of the common token
        prefix is kept and only the rest is computed. Each then samples its next token."""
        cache = self.cache
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
            left = max(0, self.sampling.max_new_tokens - s.generated)
            cache.grow(len(ids) + left + 8)
            tokens.extend(ids[keep:])
            segments.append((s.slot, keep, len(ids) - keep))
        if not segments:
            return
        self.stats["prefill_tokens"] += len(tokens)
        logits = self.runner.prefill(tokens, segments)
        for row, seqs in enumerate(groups.values()):
            length = len(seqs[0].tokens)
            for s in seqs[1:]:
                cache.copy_slot(seqs[0].slot, s.slot, length)
            self._sample(seqs, logits[row : row + 1].expand(len(seqs), -1))
        for row, (s, _) in enumerate(resumed, start=len(groups)):
            self._sample([s], logits[row : row + 1])

    def _sample(self, seqs: list[_Seq], logits) -> None:
        """Choose the next token of each sequence from its logits row; append it (pending)."""
        import torch

        sampling = self.sampling
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

    def _check(self, s: _Seq) -> tuple[str, Completion] | None:
        """None to go on, or ("done" | "tool", Completion) after this sequence's newest token."""
        sampling, regex, tregex, tool_stop = self.sampling, self.regex, self.tregex, self.tool_stop
        round_tokens = s.tokens[s.round_start :]
        tools_on = s.tool_events < self.max_tool_rounds and bool(tool_stop or tregex)
        if round_tokens[-1] in self.eos_token_ids:
            return "done", self._completion(round_tokens, sampling.stop, regex)
        if sampling.stop or regex or tools_on:
            stops = list(sampling.stop) + (tool_stop if tools_on else [])
            pats = list(regex) + (tregex if tools_on else [])
            start = max(0, len(round_tokens) - STOP_WINDOW_TOKENS)
            tail = self.tokenizer.decode(round_tokens[start:], skip_special_tokens=True)
            if locate_stop(tail, stops, pats) is not None:
                comp = self._completion(round_tokens, stops, pats)
                if comp.finish_reason == "stop":
                    is_tool = tools_on and (
                        (comp.stop in tool_stop and comp.stop not in sampling.stop)
                        or any(p.fullmatch(comp.stop) for p in tregex)
                    )
                    if is_tool and s.generated < sampling.max_new_tokens:
                        return "tool", comp
                    return "done", comp
        if s.generated >= sampling.max_new_tokens:
            return "done", self._completion(round_tokens, sampling.stop, regex)
        return None

    def _completion(self, tokens: list[int], stop, regex) -> Completion:
        return finish_completion(self.tokenizer, tokens, self.eos_token_ids, stop, regex)
