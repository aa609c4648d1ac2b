"""Deduplication and decontamination, as MathPile documents them, with reports.

* :func:`exact_dedup`: same question after normalisation (NFKC, case, punctuation and
  spacing folded) -> keep the first. Duplicates whose gold answers differ are flagged
  (``conflict``): one of the two golds is wrong.
* :func:`near_dedup`: MinHash LSH (datasketch) over word 5-gram shingles; a candidate
  pair is confirmed with the exact Jaccard similarity of the shingle sets (>= threshold).
* :func:`program_dedup` / :func:`disjoint_by_program`: generated problems share template
  words by design, so two of them are "the same problem" when their programs and numbers
  are (``mathlab.data.generator.program_key``), and generated train/test are kept disjoint
  by program, not by n-grams.
* :func:`contamination` / :func:`decontaminate`: a training item is contaminated when it
  shares any 13-gram of word tokens with a test item (GPT-3, MathPile), or contains the
  whole test item when that is shorter than 13 tokens; counts per test set and example ids.

Tokens are lower-cased words; CJK characters count as one token each, so Chinese text
(which has no spaces) gets n-grams too.

>>> tokens("Ann has 1,200 apples; 小明有12个")
['ann', 'has', '1', '200', 'apples', '小', '明', '有', '12', '个']
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathlab.data.records import Problem
from mathlab.progress import progress

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (CJK: one per character), after NFKC normalisation."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def normalize_text(text: str) -> str:
    """The text exact dedup compares: tokens joined by single spaces."""
    return " ".join(tokens(text))


def text_hash(text: str) -> str:
    return hashlib.sha1(normalize_text(text).encode()).hexdigest()


def _question(item: Any) -> str:
    return item.question if isinstance(item, Problem) else str(item)


def _ident(item: Any, index: int) -> str:
    return getattr(item, "id", None) or f"#{index}"


# --------------------------------------------------------------------------- reports
@dataclass
class DedupReport:
    """What one dedup step removed: pairs (removed id, kept id, similarity)."""

    method: str
    n_in: int = 0
    n_kept: int = 0
    removed: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_removed(self) -> int:
        return len(self.removed)

    def summary(self) -> str:
        extra = ""
        conflicts = sum(1 for r in self.removed if r.get("conflict"))
        if conflicts:
            extra = f" ({conflicts} with a different gold answer)"
        return f"{self.method}: {self.n_in} in, {self.n_removed} removed{extra}, {self.n_kept} kept"

    def to_dict(self, max_examples: int = 20) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "n_in": self.n_in,
            "n_kept": self.n_kept,
            "n_removed": self.n_removed,
            "n_conflicts": sum(1 for r in self.removed if r.get("conflict")),
            "examples": self.removed[:max_examples],
        }


# --------------------------------------------------------------------------- exact / near
def exact_dedup(
    items: Sequence[Any], text: Callable[[Any], str] = _question, name: str = "exact"
) -> tuple[list[Any], DedupReport]:
    """Keep the first of each group of items whose normalised text is identical."""
    seen: dict[str, tuple[int, Any]] = {}
    kept, report = [], DedupReport(name, n_in=len(items))
    for i, item in enumerate(items):
        key = text_hash(text(item))
        if key in seen:
            j, first = seen[key]
            entry = {"removed": _ident(item, i), "kept": _ident(first, j), "similarity": 1.0}
            a, b = getattr(item, "answer", None), getattr(first, "answer", None)
            if a is not None and b is not None and a != b:
                entry["conflict"] = True
            report.removed.append(entry)
            continue
        seen[key] = (i, item)
        kept.append(item)
    report.n_kept = len(kept)
    return kept, report


def shingles(text: str, ngram: int = 5) -> set[str]:
    """Word n-gram shingles of a text (the whole text as one shingle when shorter)."""
    toks = tokens(text)
    if len(toks) <= ngram:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i : i + ngram]) for i in range(len(toks) - ngram + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_dedup(
    items: Sequence[Any],
    threshold: float = 0.9,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = 0,
    text: Callable[[Any], str] = _question,
    show_progress: bool = False,
) -> tuple[list[Any], DedupReport]:
    """Drop items whose shingle Jaccard with an earlier kept item is >= `threshold`.

    MinHash LSH (datasketch) finds candidates in sub-quadratic time (banded at
    `threshold - 0.15`, for recall near the threshold); each candidate is confirmed with
    the exact Jaccard of the two shingle sets, so LSH false positives never remove
    anything and the reported similarity is exact.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"near_dup threshold must be in (0, 1], got {threshold}")
    from datasketch import MinHash, MinHashLSH

    report = DedupReport(
        "near",
        n_in=len(items),
        params={"threshold": threshold, "ngram": ngram, "num_perm": num_perm},
    )
    sets = [shingles(text(item), ngram) for item in items]
    hashes = MinHash.bulk(
        [[s.encode() for s in sh] for sh in sets], num_perm=num_perm, seed=seed + 1
    )
    # LSH banding misses many pairs whose similarity is near its threshold, so candidates
    # are gathered at a lower one and every pair is then confirmed exactly.
    lsh = MinHashLSH(threshold=max(0.1, threshold - 0.15), num_perm=num_perm)
    kept = []
    loop = progress(range(len(items)), desc="near-dup") if show_progress else range(len(items))
    for i in loop:
        if not sets[i]:
            kept.append(items[i])
            continue
        best, best_j = 0.0, None
        for j in lsh.query(hashes[i]):
            sim = jaccard(sets[i], sets[j])
            if sim > best:
                best, best_j = sim, j
        if best_j is not None and best >= threshold:
            report.removed.append(
                {
                    "removed": _ident(items[i], i),
                    "kept": _ident(items[best_j], best_j),
                    "similarity": round(best, 4),
                }
            )
            continue
        lsh.insert(i, hashes[i])
        kept.append(items[i])
    report.n_kept = len(kept)
    return kept, report


def dedup(
    items: Sequence[Any],
    threshold: float = 0.9,
    ngram: int = 5,
    seed: int = 0,
    text: Callable[[Any], str] = _question,
) -> tuple[list[Any], list[DedupReport]]:
    """Exact dedup, then near dedup; both reports."""
    kept, exact = exact_dedup(items, text)
    kept, near = near_dedup(kept, threshold=threshold, ngram=ngram, seed=seed, text=text)
    return kept, [exact, near]


# --------------------------------------------------------------------------- programs
def _program_key() -> Callable[[Problem], str]:
    from mathlab.data.generator import program_key

    return program_key


def program_dedup(
    problems: Sequence[Problem], key: Callable[[Problem], str] | None = None
) -> tuple[list[Problem], DedupReport]:
    """Keep the first generated problem of each program (program + numbers)."""
    key = key or _program_key()
    seen: dict[str, Problem] = {}
    kept, report = [], DedupReport("program", n_in=len(problems))
    for p in problems:
        k = key(p)
        if k in seen:
            report.removed.append({"removed": p.id, "kept": seen[k].id, "similarity": 1.0})
            continue
        seen[k] = p
        kept.append(p)
    report.n_kept = len(kept)
    return kept, report


def disjoint_by_program(
    train: Sequence[Problem],
    test: Sequence[Problem],
    key: Callable[[Problem], str] | None = None,
    name: str = "train/test program overlap",
) -> tuple[list[Problem], DedupReport]:
    """Remove from `test` every problem whose program key occurs in `train` (report it)."""
    key = key or _program_key()
    train_keys: dict[str, str] = {}
    for p in train:
        train_keys.setdefault(key(p), p.id)
    kept, report = [], DedupReport(name, n_in=len(test))
    for p in test:
        k = key(p)
        if k in train_keys:
            report.removed.append({"removed": p.id, "kept": train_keys[k], "similarity": 1.0})
            continue
        kept.append(p)
    report.n_kept = len(kept)
    return kept, report


# --------------------------------------------------------------------------- contamination
def _train_texts(p: Any) -> list[str]:
    if isinstance(p, Problem):
        return [p.question, p.solution]
    return [str(p)]


@dataclass
class ContaminationReport:
    """13-gram overlap between a training set and each test set."""

    n: int
    n_train: int = 0
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    contaminated_train: set[str] = field(default_factory=set)

    def summary(self) -> str:
        parts = [
            f"{name}: {s['n_train_contaminated']} train / {s['n_test_contaminated']} of "
            f"{s['n_test']} test items overlap"
            for name, s in self.sets.items()
        ]
        return f"{self.n}-gram contamination vs {self.n_train} train items: " + (
            "; ".join(parts) or "no test sets"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_train": self.n_train,
            "n_train_contaminated": len(self.contaminated_train),
            "sets": self.sets,
        }


def contamination(
    train: Sequence[Any],
    tests: dict[str, Sequence[Any]],
    n: int = 13,
    max_examples: int = 5,
    train_text: Callable[[Any], list[str]] = _train_texts,
    test_text: Callable[[Any], str] = _question,
) -> ContaminationReport:
    """Which training items share an n-gram (default 13 words) with which test items.

    Train items are read as question + solution, test items as their question. A test item
    shorter than `n` tokens counts as contaminating when its whole token sequence occurs in
    a training item (GPT-3's rule). Per test set: n_test, n_short (shorter than n),
    n_test_contaminated, n_train_contaminated, and examples (train id, test id, n-gram).
    """
    train_tokens = [[tokens(t) for t in train_text(p) if t] for p in train]
    report = ContaminationReport(n=n, n_train=len(train))
    for set_name, test in tests.items():
        by_len: dict[int, dict[int, int]] = {}  # gram length -> hash(gram) -> test index
        n_short = 0
        for j, item in enumerate(test):
            toks = tokens(test_text(item))
            if not toks:
                continue
            m = min(n, len(toks))
            n_short += len(toks) < n
            table = by_len.setdefault(m, {})
            for k in range(len(toks) - m + 1):
                table.setdefault(hash(tuple(toks[k : k + m])), j)
        hit_train: set[int] = set()
        hit_test: set[int] = set()
        examples: list[dict[str, Any]] = []
        for i, fields_toks in enumerate(train_tokens):
            for toks in fields_toks:
                for m, table in by_len.items():
                    for k in range(len(toks) - m + 1):
                        gram = tuple(toks[k : k + m])
                        j = table.get(hash(gram))
                        if j is None:
                            continue
                        if i not in hit_train and len(examples) < max_examples:
                            examples.append(
                                {
                                    "train_id": _ident(train[i], i),
                                    "test_id": _ident(test[j], j),
                                    "ngram": " ".join(gram),
                                }
                            )
                        hit_train.add(i)
                        hit_test.add(j)
        report.sets[set_name] = {
            "n_test": len(test),
            "n_short": n_short,
            "n_test_contaminated": len(hit_test),
            "n_train_contaminated": len(hit_train),
            "test_ids": [_ident(test[j], j) for j in sorted(hit_test)][:100],
            "examples": examples,
        }
        report.contaminated_train.update(_ident(train[i], i) for i in hit_train)
    return report


def decontaminate(
    train: Sequence[Any], tests: dict[str, Sequence[Any]], n: int = 13, **kwargs: Any
) -> tuple[list[Any], ContaminationReport]:
    """Remove every training item that overlaps any test set (see :func:`contamination`)."""
    report = contamination(train, tests, n=n, **kwargs)
    kept = [p for i, p in enumerate(train) if _ident(p, i) not in report.contaminated_train]
    return kept, report
