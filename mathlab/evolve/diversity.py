"""How varied and how hard a set of problems is (01_evolve compares parents and children).

* :func:`distinct_ngrams`: distinct-n (Li et al., 2016), the distinct word n-grams over all
  n-grams of all texts; a set that repeats its phrasing scores low.
* :func:`spread`: the mean pairwise distance ``1 - Jaccard`` between the word n-gram sets
  of a seeded sample of up to 300 texts; 0 when all texts are the same, 1 when no two
  share an n-gram.
* :func:`novelty`: the share of the children's distinct word n-grams that none of the
  parents has: what an operator adds to a training set's phrasing.
* :func:`difficulty`: the mean number of reasoning steps (``meta.steps``).

Words are lower-cased runs of letters, digits and apostrophes; each Chinese character is
one word.

>>> distinct_ngrams(["a b a b"], 1), distinct_ngrams(["a b a b"], 2)
(0.5, 0.6666666666666666)
>>> spread(["a b c d", "a b c e"], n=1)
0.4
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from itertools import combinations

from mathlab.data.records import Problem

__all__ = ["difficulty", "distinct_ngrams", "novelty", "spread", "summary"]

_WORD = re.compile(r"[\u4e00-\u9fff]|[^\W_]+(?:'[^\W_]+)*")


def _ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def distinct_ngrams(texts: Iterable[str], n: int = 1) -> float:
    """Distinct word n-grams / all word n-grams over ``texts`` (0.0 when there are none)."""
    _check_n(n)
    grams = [g for text in texts for g in _ngrams(text, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def spread(texts: Sequence[str], n: int = 3, sample: int = 300, seed: int = 0) -> float:
    """Mean pairwise ``1 - Jaccard`` of the word n-gram sets of up to ``sample`` texts drawn
    with ``seed`` (all of them when fewer); 0.0 for fewer than two texts. Two texts without
    any n-gram count as the same."""
    _check_n(n)
    texts = list(texts)
    if len(texts) > sample:
        texts = random.Random(f"mathlab.diversity:{seed}").sample(texts, sample)
    sets = [set(_ngrams(t, n)) for t in texts]
    if len(sets) < 2:
        return 0.0
    total = 0.0
    for a, b in combinations(sets, 2):
        union = len(a | b)
        total += 1 - len(a & b) / union if union else 0.0
    return total / (len(sets) * (len(sets) - 1) / 2)


def novelty(children: Iterable[str], parents: Iterable[str], n: int = 2) -> float:
    """The share of the distinct n-grams of `children` that occur in none of `parents`.

    >>> novelty(["a b c", "x y"], ["a b d"], n=2)
    0.6666666666666666
    """
    _check_n(n)
    known = {g for t in parents for g in _ngrams(t, n)}
    new = {g for t in children for g in _ngrams(t, n)}
    return len(new - known) / len(new) if new else 0.0


def difficulty(problems: Iterable[Problem]) -> float:
    """The mean ``meta.steps`` of the problems that have it (0.0 when none do)."""
    steps = [p.meta["steps"] for p in problems if (p.meta or {}).get("steps") is not None]
    return sum(steps) / len(steps) if steps else 0.0


def summary(problems: Sequence[Problem], seed: int = 0) -> dict[str, float]:
    """{n, distinct_1, distinct_2, distinct_3, spread, mean_steps} of the questions."""
    questions = [p.question for p in problems]
    out: dict[str, float] = {"n": len(questions)}
    for n in (1, 2, 3):
        out[f"distinct_{n}"] = distinct_ngrams(questions, n)
    out["spread"] = spread(questions, seed=seed)
    out["mean_steps"] = difficulty(problems)
    return out
