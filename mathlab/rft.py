"""Rejection-sampling fine-tuning (RFT, Yuan et al. 2023, arXiv 2308.01825).

1. Sample k reasoning paths per training question from a fine-tuned model (temperature
   0.7; :func:`mathlab.sampling.sample_cached`); keep the ones whose final answer is correct.
2. Deduplicate them by their *equation list* (the paper's Algorithm 1, :func:`algorithm1`):
   a path's equations are its ``<<...>>`` calculator annotations, or the arithmetic written
   in the text when it has none (:func:`mathlab.calculator.extract_equations`); a path
   whose equations do not check out is dropped (:func:`mathlab.calculator.equations_check_out`,
   a safe exact evaluator; model text is never passed to ``eval``). Two paths with the same
   equation list are the same reasoning; of the two, the one whose summed Levenshtein
   distance to the *other* kept paths is larger is kept (it adds more diversity).
3. Union over models (the paper's U-set, :func:`union_paths`): the correct paths of several
   models (the SFT model, the base model, any others) go through Algorithm 1 together.
4. Fine-tune the base model on the original solutions plus the kept paths.

The set R that Algorithm 1 grows starts with the question's original solution, so a
sampled path that merely repeats the original's equations adds nothing; the training rows
are the original plus the *new* paths (:func:`new_paths`).

>>> a = "3*4 = <<3*4=12>>12 apples.\\nThe answer is: 12"
>>> b = "He has <<3*4=12>>12 apples in all.\\nThe answer is: 12"
>>> c = "4+4+4 = 12.\\nThe answer is: 12"
>>> [len(algorithm1([a, b, c]).kept), algorithm1([a, b, c]).duplicates]
[2, 1]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rapidfuzz.distance import Levenshtein

from mathlab.calculator import (
    _canonical_value,
    equations_check_out,
    extract_equations,
    find_annotations,
)
from mathlab.sampling import SampledPath

EQUATION_SEP = " | "


# --------------------------------------------------------------------------- Algorithm 1
def equation_key(text: str) -> str | None:
    """The identity of a reasoning path: its equations joined, or None when one is wrong.

    A path with no equations at all has the empty key (all such paths are one path).
    """
    eqs = extract_equations(text)
    if not equations_check_out(eqs) or not text_agrees(text):
        return None
    return EQUATION_SEP.join(eqs)


_AFTER = re.compile(r"\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)")


def text_agrees(text: str) -> bool:
    """Whether the number written right after each ``<<expr=value>>`` is that value.

    GSM8K writes the result again after the annotation (``<<48/2=24>>24``). A model
    decoding with the calculator gets the value filled in but writes the number after
    ``>>`` itself, and can write another one (``<<5-10=-5>>5``): the annotation checks
    out, the reasoning the text shows does not, so RFT drops the path. A rounding to the
    decimals written counts as agreeing (``<<100/3=33.333333>>33.33``).

    >>> text_agrees("<<48/2=24>>24 left"), text_agrees("<<5-10=-5>>5."), text_agrees("<<2*3=6>> apples")
    (True, False, True)
    """
    for a in find_annotations(text):
        m = _AFTER.match(text, a.span[1])
        if not m:
            continue  # nothing written after the annotation
        written = m.group(1).replace(",", "")
        try:
            value, shown = Fraction(_canonical_value(a.value_text)), Fraction(written)
        except (ValueError, ZeroDivisionError):
            return False
        decimals = len(written.partition(".")[2])
        if shown != value and abs(shown - value) > Fraction(1, 2 * 10**decimals):
            return False
    return True


@dataclass
class Dedup:
    """The result of Algorithm 1 on a list of paths."""

    kept: list[str]  # R: the existing paths first (possibly replaced), then the new ones
    n_in: int = 0  # candidate paths examined
    bad_equations: int = 0  # dropped: an equation that does not check out, or text that disagrees
    duplicates: int = 0  # candidates whose equation list was already in R
    replaced: int = 0  # duplicates that replaced the kept path (larger edit distance)
    sources: list[str] = field(default_factory=list)  # where each kept path came from


def algorithm1(
    paths: Sequence[str],
    existing: Sequence[str] = (),
    sources: Sequence[str] | None = None,
    existing_source: str = "original",
) -> Dedup:
    """RFT's Algorithm 1: grow R from `existing` with the `paths` of distinct equation lists.

    For each candidate r: drop it when its equations do not check out; add it when its
    equation list is new; otherwise it competes with the kept path r_j of the same list,
    and replaces it when sum_{r'' in R, r'' != r_j} lev(r, r'') > sum_{...} lev(r_j, r'').
    `sources` (one per path) labels where each path came from (a model name).
    """
    if sources is not None and len(sources) != len(paths):
        raise ValueError(f"{len(sources)} sources for {len(paths)} paths")
    kept = list(existing)
    kept_sources = [existing_source] * len(kept)
    index: dict[str, int] = {}
    for i, r in enumerate(kept):
        key = equation_key(r)
        index.setdefault(key if key is not None else f"\0existing-{i}", i)
    result = Dedup(kept=kept, sources=kept_sources)
    for n, r in enumerate(paths):
        result.n_in += 1
        key = equation_key(r)
        if key is None:
            result.bad_equations += 1
            continue
        source = sources[n] if sources is not None else ""
        j = index.get(key)
        if j is None:
            index[key] = len(kept)
            kept.append(r)
            kept_sources.append(source)
            continue
        result.duplicates += 1
        others = [p for t, p in enumerate(kept) if t != j]
        if _summed_distance(r, others) > _summed_distance(kept[j], others):
            kept[j] = r
            kept_sources[j] = source
            result.replaced += 1
    return result


def _summed_distance(path: str, others: Sequence[str]) -> int:
    return sum(Levenshtein.distance(path, o) for o in others)


def dedup_paths(paths: Sequence[str], existing: Sequence[str] = ()) -> list[str]:
    """The kept paths of Algorithm 1 (see :func:`algorithm1`)."""
    return algorithm1(paths, existing).kept


def new_paths(
    original: str, correct_paths: Sequence[str], sources: Sequence[str] | None = None
) -> Dedup:
    """Algorithm 1 seeded with the original solution; `.kept` holds only the new paths.

    A sampled path with the original's equations adds nothing (it may win the tie-break
    for that slot, but that slot is the original's and is not returned).
    """
    d = algorithm1(correct_paths, existing=[original], sources=sources)
    d.kept, d.sources = d.kept[1:], d.sources[1:]
    return d


# --------------------------------------------------------------------------- statistics
def powers_of_two(k_max: int) -> list[int]:
    """1, 2, 4, ... up to k_max, with k_max itself last."""
    if k_max < 1:
        raise ValueError(f"k must be >= 1, got {k_max}")
    ks, k = [], 1
    while k < k_max:
        ks.append(k)
        k *= 2
    return ks + [k_max]


def paths_vs_k(
    samples: Mapping[str, Sequence[SampledPath]],
    ks: Sequence[int],
    originals: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Correct and distinct paths per question against k, from the first k of each list.

    distinct = paths kept by Algorithm 1 among the correct ones (with `originals`, the new
    paths beyond each question's original solution). Means over questions.
    """
    rows = []
    n_q = len(samples)
    for k in ks:
        correct = distinct = with_correct = 0
        for pid, paths in samples.items():
            first = [s.text for s in paths[:k] if s.correct]
            correct += len(first)
            with_correct += bool(first)
            if originals is not None:
                distinct += len(new_paths(originals[pid], first).kept)
            else:
                distinct += len(algorithm1(first).kept)
        rows.append(
            {
                "k": k,
                "questions": n_q,
                "correct_per_question": correct / n_q if n_q else 0.0,
                "distinct_per_question": distinct / n_q if n_q else 0.0,
                "frac_questions_with_correct": with_correct / n_q if n_q else 0.0,
            }
        )
    return rows


@dataclass
class KeptSet:
    """The new reasoning paths kept per question, and how they were filtered."""

    paths: dict[str, list[str]]  # problem id -> new paths (beyond the original)
    sources: dict[str, list[str]]  # problem id -> the model of each kept path
    sampled: int = 0
    correct: int = 0
    bad_equations: int = 0
    duplicates: int = 0
    replaced: int = 0

    @property
    def n_paths(self) -> int:
        return sum(len(v) for v in self.paths.values())

    def by_model(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for src in self.sources.values():
            for s in src:
                counts[s] = counts.get(s, 0) + 1
        return counts

    def stats(self) -> dict[str, Any]:
        return {
            "sampled": self.sampled,
            "correct": self.correct,
            "bad_equations": self.bad_equations,
            "duplicates": self.duplicates,
            "replaced": self.replaced,
            "kept_new_paths": self.n_paths,
            "questions_with_new_paths": sum(1 for v in self.paths.values() if v),
            "kept_by_model": self.by_model(),
        }


def union_paths(
    per_model: Mapping[str, Mapping[str, Sequence[SampledPath]]], originals: Mapping[str, str]
) -> KeptSet:
    """Algorithm 1 over the correct paths of every model, question by question.

    `per_model`: {model name: {problem id: sampled paths}} in the order the models should
    be visited (the first model's paths are seen first); `originals`: {problem id:
    original solution}. With one model this is RFT on that model alone.
    """
    ids: list[str] = []
    for samples in per_model.values():
        ids.extend(pid for pid in samples if pid not in ids)
    kept = KeptSet(paths={}, sources={})
    for pid in ids:
        texts, sources = [], []
        for model, samples in per_model.items():
            for s in samples.get(pid, []):
                kept.sampled += 1
                if s.correct:
                    texts.append(s.text)
                    sources.append(model)
        kept.correct += len(texts)
        if pid not in originals:
            raise KeyError(f"no original solution for problem {pid}")
        d = new_paths(originals[pid], texts, sources)
        kept.paths[pid] = d.kept
        kept.sources[pid] = d.sources
        kept.bad_equations += d.bad_equations
        kept.duplicates += d.duplicates
        kept.replaced += d.replaced
    return kept


def rft_rows(
    problems: Sequence, kept: KeptSet, fmt: str = "answer_is", include_original: bool = True
) -> list[dict]:
    """Training rows: each problem's original solution (in `fmt`) plus its kept paths."""
    from mathlab.sft import build_rows, sft_row

    rows = build_rows(problems, fmt) if include_original else []
    by_id = {p.id: p for p in problems}
    for pid, paths in kept.paths.items():
        if pid not in by_id:
            raise KeyError(f"kept paths for problem {pid}, which is not in the training set")
        rows.extend(sft_row(by_id[pid].question, text) for text in paths)
    return rows


# --------------------------------------------------------------------------- curves
def union_curve(
    per_model: Mapping[str, Mapping[str, Sequence[SampledPath]]],
    k_max: int,
    originals: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """paths_vs_k for the union: at each k, the first k samples of *every* model pooled."""
    rows = []
    for k in powers_of_two(k_max):
        pooled: dict[str, list[SampledPath]] = {}
        for samples in per_model.values():
            for pid, paths in samples.items():
                pooled.setdefault(pid, []).extend(paths[:k])
        big = max((len(v) for v in pooled.values()), default=1)
        (row,) = paths_vs_k(pooled, [big], originals)
        rows.append({**row, "k": k})
    return rows
