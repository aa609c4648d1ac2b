"""Exact/near dedup, program-level dedup and 13-gram contamination, on real rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from mathlab.data.dedup import (
    contamination,
    decontaminate,
    dedup,
    disjoint_by_program,
    exact_dedup,
    near_dedup,
    normalize_text,
    program_dedup,
    shingles,
    tokens,
)
from mathlab.data.loaders import load_real
from mathlab.data.records import Problem

FIX = Path(__file__).parent / "fixtures"

LONG = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
    "clips in May. How many clips did Natalia sell altogether in April and May if each "
    "friend bought the same number of clips and nobody returned any of them later on?"
)


def P(i, q, a="1", **meta) -> Problem:
    return Problem(f"t-{i}", q, a, source="t", meta=meta)


def test_tokens_and_normalize():
    assert tokens("Ann's 1,200 APPLES!") == ["ann", "s", "1", "200", "apples"]
    assert tokens("小明有12个苹果") == ["小", "明", "有", "12", "个", "苹", "果"]
    assert normalize_text("  How   many?  ") == normalize_text("how many")
    assert shingles("a b c", 5) == {"a b c"} and len(shingles(LONG, 5)) == len(tokens(LONG)) - 4


def test_exact_dedup_keeps_first_and_flags_conflicts():
    items = [
        P(0, "How many apples?", "3"),
        P(1, "how  many APPLES", "3"),
        P(2, "How many pears?", "4"),
        P(3, "HOW MANY PEARS?!", "5"),
    ]
    kept, report = exact_dedup(items)
    assert [p.id for p in kept] == ["t-0", "t-2"]
    assert report.removed == [
        {"removed": "t-1", "kept": "t-0", "similarity": 1.0},
        {"removed": "t-3", "kept": "t-2", "similarity": 1.0, "conflict": True},
    ]
    assert report.to_dict()["n_conflicts"] == 1 and "1 with a different gold" in report.summary()


def test_near_dedup_catches_small_edits_not_different_problems():
    edited = LONG.replace("nobody returned", "no one returned")  # one word changed
    other = LONG.replace("Natalia", "Marco").replace("48", "12").replace("April", "June")
    items = [P(0, LONG), P(1, edited), P(2, other), P(3, "A short unrelated question?")]
    kept, report = near_dedup(items, threshold=0.75)
    assert [p.id for p in kept] == ["t-0", "t-2", "t-3"]
    assert report.removed[0]["removed"] == "t-1" and report.removed[0]["kept"] == "t-0"
    assert report.removed[0]["similarity"] == 0.78  # 39 shared of 50 distinct 5-gram shingles
    kept, report = near_dedup(items, threshold=0.99)  # stricter: nothing is that close
    assert len(kept) == 4 and report.n_removed == 0
    with pytest.raises(ValueError, match="threshold"):
        near_dedup(items, threshold=0)


def test_dedup_pipeline_on_real_rows():
    gsm, _ = load_real(FIX / "gsm8k_sample.jsonl")
    copy = Problem("gsm8k-99", gsm[0].question.upper() + "  ", gsm[0].answer, source="gsm8k")
    near = Problem(
        "gsm8k-98", gsm[2].question.replace("sell?", "sell in all?"), "46000", source="gsm8k"
    )
    kept, (exact, near_rep) = dedup(gsm + [copy, near], threshold=0.9)
    assert exact.removed[0]["removed"] == "gsm8k-99" and exact.removed[0]["kept"] == gsm[0].id
    assert near_rep.removed[0]["removed"] == "gsm8k-98"
    assert [p.id for p in kept] == [p.id for p in gsm]


def test_program_dedup_and_disjointness_with_a_key():
    key = lambda p: p.meta["program"]  # noqa: E731
    train = [P(0, "a", program="x"), P(1, "b", program="y"), P(2, "c", program="x")]
    test = [P(3, "d", program="y"), P(4, "e", program="z")]
    kept, report = program_dedup(train, key=key)
    assert [p.id for p in kept] == ["t-0", "t-1"] and report.removed[0]["kept"] == "t-0"
    kept_test, report = disjoint_by_program(kept, test, key=key)
    assert [p.id for p in kept_test] == ["t-4"]
    assert report.removed == [{"removed": "t-3", "kept": "t-1", "similarity": 1.0}]


def test_contamination_13_grams():
    test_sets = {"gsm": [P(0, LONG), P(1, "What is 2 + 3?")]}
    leaked = " ".join(tokens(LONG)[10:23])  # exactly 13 tokens of the test question
    train = [
        P(10, f"Some preamble. {leaked}. Then more text."),
        P(11, " ".join(tokens(LONG)[10:22]) + " and then something else entirely"),  # 12
        P(12, "Unrelated: what is 2 + 3? Easy."),  # contains the whole short test item
        Problem("t-13", "Clean question here?", "1", solution=f"Copied: {LONG}"),
    ]
    report = contamination(train, test_sets)
    s = report.sets["gsm"]
    assert s["n_test"] == 2 and s["n_short"] == 1
    assert s["n_train_contaminated"] == 3 and s["n_test_contaminated"] == 2
    assert report.contaminated_train == {"t-10", "t-12", "t-13"}
    assert {e["train_id"] for e in s["examples"]} == {"t-10", "t-12", "t-13"}
    assert any(e["ngram"] == leaked for e in s["examples"])
    kept, _ = decontaminate(train, test_sets)
    assert [p.id for p in kept] == ["t-11"]
    assert "3 train / 2 of 2 test" in report.summary()


def test_contamination_real_gsm8k_fixture_against_itself_and_cmath():
    gsm, _ = load_real(FIX / "gsm8k_sample.jsonl")
    cm, _ = load_real(FIX / "cmath_sample.jsonl")
    report = contamination(gsm[:2], {"gsm8k": gsm, "cmath": cm})
    assert report.sets["gsm8k"]["n_train_contaminated"] == 2
    assert report.sets["gsm8k"]["test_ids"] == ["gsm8k-0", "gsm8k-1"]
    assert report.sets["cmath"]["n_train_contaminated"] == 0
    zh = [Problem("z-0", "题目：" + cm[0].question, "7")]  # Chinese: character n-grams
    assert contamination(zh, {"cmath": cm}).sets["cmath"]["n_test_contaminated"] == 1
