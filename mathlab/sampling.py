"""k graded samples per question from a model, cached in the run folder.

Several notebooks sample the same way: RFT (03) samples its training questions, the reward
models (04) sample solutions for Math-Shepherd labels and best-of-N, preference pairs (05)
pair correct with incorrect samples. :func:`sample_cached` draws ``k`` samples per problem
in a decoding style (``mathlab.styles``), grades each against the gold answer and writes
them as Sample rows to ``samples/<stage>__<split>__<style>.jsonl``.

The file's sidecar (``.key.json``) holds the cache key: a hash of the model (a trained
folder's stage key, else its spec), the prompts (each problem's id and question, in order)
and the sampling parameters (k, style, temperature, top_p, max_new_tokens, seed). A later
call with the same key reads the file back instead of sampling again; any change to the
model, a question or a parameter samples anew. The generation backend (its kind and batch
size) is not part of the key: it changes how fast samples are drawn, not what they are drawn
from.

    >>> opts = SampleOptions(style="calc", temperature=0.7, max_new_tokens=128, seed=0)
    >>> opts.key_fields()["temperature"]
    0.7
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SampleOptions",
    "SampledPath",
    "load_samples",
    "sample_cached",
    "sample_key",
    "sample_paths",
    "save_samples",
]


@dataclass
class SampledPath:
    """One sampled completion for a question, graded."""

    text: str
    pred: str | None
    correct: bool
    n_tokens: int
    model: str


@dataclass(frozen=True)
class SampleOptions:
    """How to sample: the decoding style and sampling parameters (part of the cache key),
    and the generation backend (kind and ``get_backend`` options; not part of the key)."""

    style: str = "cot"  # cot | calc (the calculator fills in every <<expr= the model writes)
    temperature: float = 0.7
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    backend: str = "auto"
    backend_opts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        params: Any,
        *,
        device: str,
        dtype: str,
        seed: int,
        style: str | None = None,
        **extra: Any,
    ) -> Any:
        """From a section with temperature, max_new_tokens, backend, batch_size (and top_p,
        style when it has them): ``cfg.rft`` samples in the style the models are evaluated in
        (`style`), ``cfg.eval`` has its own. `extra`: fields of a subclass (``k``)."""
        from mathlab.generate import backend_options

        return cls(
            style=style or params.style,
            temperature=params.temperature,
            top_p=getattr(params, "top_p", 1.0),
            max_new_tokens=params.max_new_tokens,
            seed=seed,
            backend=params.backend,
            backend_opts=backend_options(
                params.backend, device=device, dtype=dtype, batch_size=params.batch_size, seed=seed
            ),
            **extra,
        )

    def key_fields(self) -> dict[str, Any]:
        """The parameters that change what is sampled (the cache key's part)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("backend", "backend_opts")
        }


def sample_key(spec: str, problems: Sequence, k: int, options: SampleOptions) -> str:
    """The cache key of k samples per problem from model `spec`: model, prompts, parameters."""
    from mathlab.runs import stable_hash
    from mathlab.training import stage_model_key

    return stable_hash(
        {
            "model": stage_model_key(spec),
            "prompts": stable_hash([[p.id, p.question] for p in problems]),
            "k": k,
            **options.key_fields(),
        }
    )


def sample_paths(
    backend, problems: Sequence, k: int, options: SampleOptions, model_name: str = ""
) -> dict[str, list[SampledPath]]:
    """k sampled paths per problem from a backend, graded: {problem id: [paths]}.

    Decoded by ``mathlab.styles.solve`` in ``options.style`` (``cot`` or ``calc``: the same
    prompt, the calculator filling in every ``<<expr=``).
    """
    from mathlab.answers import is_correct
    from mathlab.generate import SamplingParams
    from mathlab.styles import solve

    sampling = SamplingParams(
        n=k,
        temperature=options.temperature,
        top_p=options.top_p,
        max_new_tokens=options.max_new_tokens,
        seed=options.seed,
    )
    desc = f"{model_name} {options.style} k={k}"
    outputs = solve(backend, list(problems), options.style, sampling, desc=desc)
    result: dict[str, list[SampledPath]] = {}
    for p, completions in zip(problems, outputs, strict=True):
        result[p.id] = [
            SampledPath(
                c.text,
                c.pred,
                c.pred is not None and is_correct(c.pred, p.answer),
                c.n_tokens,
                model_name,
            )
            for c in completions
        ]
    return result


def save_samples(
    path: str | Path,
    samples: Mapping[str, list[SampledPath]],
    problems: Sequence,
    key: str,
    seed: int = 0,
    style: str = "cot",
) -> Path:
    """Write samples as Sample rows (``meta.index``: the sample's index) plus the key sidecar."""
    from mathlab.data.records import Sample, write_jsonl
    from mathlab.prompts import messages_for
    from mathlab.runs import atomic_write_json

    by_id = {p.id: p for p in problems}
    rows = [
        Sample(
            problem_id=pid,
            model=s.model,
            style=style,
            prompt=messages_for(by_id[pid].question, style)[-1]["content"],
            completion=s.text,
            pred=s.pred,
            correct=s.correct,
            n_tokens=s.n_tokens,
            seed=seed,
            meta={"index": i},
        )
        for pid, paths in samples.items()
        for i, s in enumerate(paths)
    ]
    path = Path(path)
    write_jsonl(path, rows)
    atomic_write_json(path.with_suffix(".key.json"), {"key": key})
    return path


def load_samples(path: str | Path, key: str) -> dict[str, list[SampledPath]] | None:
    """Samples saved by :func:`save_samples` with this key, else None (sample again)."""
    from mathlab.data.records import Sample, read_rows

    path = Path(path)
    sidecar = path.with_suffix(".key.json")
    if not (path.is_file() and sidecar.is_file()):
        return None
    if json.loads(sidecar.read_text()).get("key") != key:
        return None
    out: dict[str, list[SampledPath]] = {}
    for row in read_rows(path, Sample):
        out.setdefault(row.problem_id, []).append(
            SampledPath(row.completion, row.pred, row.correct, row.n_tokens, row.model)
        )
    return out


def sample_cached(
    run,
    stage: str,
    spec: str,
    problems: Sequence,
    k: int,
    options: SampleOptions,
    *,
    split: str = "train",
    model_name: str | None = None,
) -> dict[str, list[SampledPath]]:
    """k graded samples per problem from model `spec`, cached in
    ``samples/<stage>__<split>__<style>.jsonl`` (see the module docstring for the key).

    The model is loaded only when the cache does not match; it is freed afterwards.
    """
    from mathlab.generate import get_backend
    from mathlab.training import free_memory

    name = model_name or stage
    key = sample_key(spec, problems, k, options)
    path = run.samples_path(stage, split, options.style)
    cached = load_samples(path, key)
    if cached is not None:
        n = sum(len(v) for v in cached.values())
        print(f"{name}: {n} samples read from {path.name} (same model, prompts and parameters)")
        return cached
    backend = get_backend(spec, kind=options.backend, **options.backend_opts)
    samples = sample_paths(backend, problems, k, options, model_name=name)
    del backend
    free_memory()
    save_samples(path, samples, problems, key, seed=options.seed, style=options.style)
    n = sum(len(v) for v in samples.values())
    c = sum(s.correct for v in samples.values() for s in v)
    print(f"{name}: {n} samples, {c} correct ({c / max(n, 1):.1%})", flush=True)
    return samples
