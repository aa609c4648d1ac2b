"""Diversity and difficulty measures of 01_evolve, on hand-made texts with known answers."""

import doctest

import pytest

from mathlab.data.records import Problem
from mathlab.evolve import diversity
from mathlab.evolve.diversity import difficulty, distinct_ngrams, spread, summary


def test_distinct_ngrams_known_values():
    assert distinct_ngrams(["a b a b"], 1) == 0.5  # 2 distinct of 4
    assert distinct_ngrams(["a b a b"], 2) == pytest.approx(2 / 3)  # ab, ba of ab ba ab
    assert distinct_ngrams(["a b c", "a b d"], 3) == 1.0
    assert distinct_ngrams(["the cat", "the dog"], 1) == 0.75
    assert distinct_ngrams(["Tom's 3 cats!", "tom's 3 CATS"], 1) == 0.5  # case and punctuation
    assert distinct_ngrams(["one"], 2) == 0.0  # no bigram at all
    assert distinct_ngrams([], 1) == 0.0
    assert distinct_ngrams(["小明有三个苹果"], 1) == pytest.approx(7 / 7)
    assert distinct_ngrams(["苹果苹果"], 1) == 0.5


def test_spread_known_values():
    assert spread(["a b c d", "a b c d"], n=1) == 0.0
    assert spread(["a b", "c d"], n=1) == 1.0
    assert spread(["a b c d", "a b c e"], n=1) == pytest.approx(0.4)  # 1 - 3/5
    # three texts: pairs (0.4, 1.0, 1.0) -> mean 0.8
    assert spread(["a b c d", "a b c e", "x y"], n=1) == pytest.approx(0.8)
    assert spread(["only one"]) == 0.0
    assert spread(["", ""], n=3) == 0.0  # no n-grams at all: the same
    texts = [f"t{i} shared words here" for i in range(400)]
    assert spread(texts, n=1, sample=50, seed=1) == spread(texts, n=1, sample=50, seed=1)
    assert spread(texts, n=1) == pytest.approx(1 - 3 / 5)


def test_bad_n():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            distinct_ngrams(["a"], bad)
        with pytest.raises(ValueError, match="positive integer"):
            spread(["a", "b"], n=bad)


def test_difficulty_and_summary():
    rows = [
        Problem(f"p-{i}", f"question {i} with words", "1", meta={"steps": i}) for i in (1, 2, 3, 6)
    ]
    assert difficulty(rows) == 3.0
    assert difficulty(rows + [Problem("x", "q", "1")]) == 3.0  # rows without steps are left out
    assert difficulty([]) == 0.0
    s = summary(rows)
    assert set(s) == {"n", "distinct_1", "distinct_2", "distinct_3", "spread", "mean_steps"}
    assert s["n"] == 4 and s["mean_steps"] == 3.0
    assert s["distinct_1"] == pytest.approx(7 / 16)  # question, with, words + 4 numbers
    assert s["spread"] == 1.0  # every word 3-gram holds its own number


def test_doctests():
    assert doctest.testmod(diversity).failed == 0


def test_phrasing_doctests():
    from mathlab.evolve import phrasing

    result = doctest.testmod(phrasing)
    assert result.failed == 0 and result.attempted > 0
