"""WizardLM's elimination rules: each bad rewrite is eliminated with its own reason."""

import doctest

import pytest

from mathlab.data.records import Problem
from mathlab.evolve import eliminate
from mathlab.evolve.eliminate import REASONS, count_reasons, kept, mark, text_reason

PARENT = "Tom has 3 boxes of 12 pencils. He gives away 5 pencils. How many pencils are left?"


@pytest.mark.parametrize(
    ("child", "reason"),
    [
        (None, "unparseable"),
        ("   ", "unparseable"),
        ("?!... ---", "punctuation_only"),
        ("How many pencils?", "too_short"),
        ("汤姆有几支？", "too_short"),
        ("I'm sorry, but I cannot rewrite this problem for you today.", "refusal"),
        ("As an AI language model, here is a harder problem about pencils.", "refusal"),
        ("#Rewritten Prompt#: Tom has 3 boxes of 12 pencils and 4 more boxes.", "copied_template"),
        ("Rewritten problem: Tom has 4 boxes of 12 pencils. How many are left?", "copied_template"),
        (PARENT.upper(), "no_gain"),
        (PARENT.replace("?", " ?").replace(".", " ."), "no_gain"),
        (PARENT.replace("How many", "how many"), "no_gain"),
        (
            "Tom has 3 boxes of 12 pencils. He gives away 5 pencils and then buys 8 more. "
            "How many pencils does he have now?",
            None,
        ),
        ("汤姆有3盒铅笔，每盒12支。他送出了5支，又买了8支。他现在有多少支铅笔？", None),
    ],
)
def test_text_rules_name_the_reason(child, reason):
    assert text_reason(PARENT, child) == reason


def test_mark_and_count():
    p = Problem("e-1", "q", "1", meta={"evolve_op": "deepen"})
    rows = [mark(p, None), mark(p, "refusal"), mark(p, "unverified", "2 of 3 solves disagree")]
    assert [r.meta["eliminated_reason"] for r in rows] == [None, "refusal", "unverified"]
    assert rows[2].meta["eliminated_detail"] == "2 of 3 solves disagree"
    assert p.meta == {"evolve_op": "deepen"}  # the parent row is not changed
    assert kept(rows) == rows[:1]
    counts = count_reasons(rows)
    assert counts["kept"] == 1 and counts["refusal"] == 1 and counts["unverified"] == 1
    assert set(counts) == {"kept", *REASONS} and sum(counts.values()) == 3
    with pytest.raises(ValueError, match="unknown elimination reason 'bad'"):
        mark(p, "bad")


def test_doctests():
    result = doctest.testmod(eliminate)
    assert result.failed == 0 and result.attempted > 0
