"""RFT's Algorithm 1, the union over models and the paths-vs-k curve, on hand-written paths."""

import pytest
from rapidfuzz.distance import Levenshtein

from mathlab.data.records import Problem
from mathlab.rft import (
    algorithm1,
    dedup_paths,
    equation_key,
    new_paths,
    paths_vs_k,
    powers_of_two,
    rft_rows,
    union_paths,
)
from mathlab.sampling import SampledPath

pytestmark = pytest.mark.usefixtures("one_torch_thread")


ORIGINAL = "She buys 3*4 = <<3*4=12>>12 apples.\nThen 12+5 = <<12+5=17>>17.\nThe answer is: 17"
SAME_EQS = "3 bags of 4: <<3*4=12>>12. Add five more: <<12+5=17>>17 apples.\nThe answer is: 17"
OTHER_EQS = "5+12 = <<5+12=17>>17 apples.\nThe answer is: 17"
WRONG_EQ = "3*4 = <<3*4=13>>13, then 13+4 = <<13+4=17>>17.\nThe answer is: 17"
PLAIN = "She has 3 * 4 = 12 apples, and 12 + 5 = 17.\nThe answer is: 17"
PLAIN_WRONG = "She has 3 * 4 = 14 apples, and 14 + 3 = 17.\nThe answer is: 17"


def sp(text, correct=True, model="sft"):
    return SampledPath(text=text, pred="17", correct=correct, n_tokens=10, model=model)


def test_equation_key_reads_annotations_or_written_arithmetic():
    assert equation_key(ORIGINAL) == "3*4=12 | 12+5=17"
    assert equation_key(SAME_EQS) == equation_key(ORIGINAL)
    assert equation_key(PLAIN) == equation_key(ORIGINAL)  # unannotated: arithmetic in the text
    assert equation_key(WRONG_EQ) is None
    assert equation_key(PLAIN_WRONG) is None
    assert equation_key("The answer is: 17") == ""  # no equations: one (empty) key


def test_wrong_equations_are_dropped_and_duplicates_collapse():
    d = algorithm1([ORIGINAL, WRONG_EQ, SAME_EQS, OTHER_EQS, PLAIN_WRONG, ORIGINAL])
    assert d.n_in == 6 and d.bad_equations == 2 and d.duplicates == 2
    assert len(d.kept) == 2
    assert {equation_key(p) for p in d.kept} == {equation_key(ORIGINAL), equation_key(OTHER_EQS)}


def test_text_that_disagrees_with_its_annotation_is_dropped():
    # the calculator filled -5, the model wrote 5 after it: a right answer by a wrong path
    bad = "The change is 5 - 10 = $<<5-10=-5>>5.\nThe answer is: 5"
    good = "The change is 10 - 5 = $<<10-5=5>>5.\nThe answer is: 5"
    rounded = "Each gets 100 / 3 = <<100/3=33.333333>>33.33 grams.\nThe answer is: 33.33"
    assert equation_key(bad) is None and equation_key(good) == "10-5=5"
    assert equation_key(rounded) == "100/3=33.333333"
    assert equation_key("<<78/15=5.2>>5.25 each") is None
    d = algorithm1([bad, good])
    assert (d.bad_equations, d.kept) == (1, [good])


def test_levenshtein_tie_break_keeps_the_more_distinct_path():
    close = "7+1 = <<7+1=8>>8 pens.\nThe answer is: 8"
    far = "Adding one pen to the seven she owns gives <<7+1=8>>8 pens in total.\nThe answer is: 8"
    # R = [other, close]; `far` has close's equations but is farther from `other`
    other = "2*4 = <<2*4=8>>8.\nThe answer is: 8"
    d = algorithm1([other, close, far])
    assert d.duplicates == 1 and d.replaced == 1
    assert d.kept == [other, far]
    assert Levenshtein.distance(far, other) > Levenshtein.distance(close, other)
    # and the other way round: a less distinct duplicate does not replace
    d2 = algorithm1([other, far, close])
    assert d2.kept == [other, far] and d2.replaced == 0


def test_exact_repeat_does_not_replace():
    d = algorithm1([OTHER_EQS, ORIGINAL, ORIGINAL])
    assert d.kept == [OTHER_EQS, ORIGINAL] and d.replaced == 0 and d.duplicates == 1


def test_new_paths_excludes_the_original_slot():
    d = new_paths(ORIGINAL, [SAME_EQS, OTHER_EQS, PLAIN])
    assert d.kept == [OTHER_EQS]  # SAME_EQS and PLAIN repeat the original's equations
    assert d.duplicates == 2


def test_union_across_models_keeps_distinct_paths_and_credits_models():
    originals = {"p1": ORIGINAL, "p2": "2*4 = <<2*4=8>>8.\nThe answer is: 8"}
    sft = {"p1": [sp(SAME_EQS), sp(OTHER_EQS), sp(WRONG_EQ)], "p2": [sp("x", correct=False)]}
    base = {
        "p1": [
            sp("5 + 12 = 17.\nThe answer is: 17", model="base"),  # = OTHER_EQS's list
            sp("17 - 0 = <<17-0=17>>17.\nThe answer is: 17", model="base"),
        ],
        "p2": [sp("4+4 = <<4+4=8>>8.\nThe answer is: 8", model="base")],
    }
    one = union_paths({"sft": sft}, originals)
    assert one.n_paths == 1 and one.paths["p1"] == [OTHER_EQS] and one.paths["p2"] == []
    assert one.bad_equations == 1 and one.sampled == 4 and one.correct == 3
    both = union_paths({"sft": sft, "base": base}, originals)
    assert both.n_paths == 3
    assert len(both.paths["p1"]) == 2 and len(both.paths["p2"]) == 1
    assert sum(both.by_model().values()) == 3 and both.by_model()["base"] >= 2
    with pytest.raises(KeyError, match="no original"):
        union_paths({"sft": {"p9": [sp(ORIGINAL)]}}, originals)


def test_paths_vs_k_takes_the_first_k_samples():
    samples = {
        "p1": [sp(OTHER_EQS), sp(SAME_EQS), sp("wrong", correct=False), sp(ORIGINAL)],
        "p2": [sp("no", correct=False), sp("no", correct=False), sp(OTHER_EQS), sp(PLAIN)],
    }
    rows = {r["k"]: r for r in paths_vs_k(samples, [1, 2, 4])}
    assert rows[1]["correct_per_question"] == 0.5 and rows[1]["distinct_per_question"] == 0.5
    assert rows[2]["correct_per_question"] == 1.0 and rows[2]["distinct_per_question"] == 1.0
    assert rows[4]["correct_per_question"] == 2.5 and rows[4]["distinct_per_question"] == 2.0
    assert rows[4]["frac_questions_with_correct"] == 1.0
    originals = {"p1": ORIGINAL, "p2": ORIGINAL}
    beyond = {r["k"]: r for r in paths_vs_k(samples, [4], originals)}
    assert beyond[4]["distinct_per_question"] == 1.0  # OTHER_EQS only, per question
    assert powers_of_two(8) == [1, 2, 4, 8] and powers_of_two(6) == [1, 2, 4, 6]
    assert powers_of_two(1) == [1]


def test_rft_rows_hold_the_original_and_the_kept_paths():
    problems = [
        Problem(
            "gen-1",
            "Ann buys 3 bags of 4 apples and 5 more. How many?",
            "17",
            solution="3*4=<<3*4=12>>12\n12+5=<<12+5=17>>17\n#### 17",
            source="gen",
        )
    ]
    kept = union_paths({"sft": {"gen-1": [sp(OTHER_EQS)]}}, {"gen-1": ORIGINAL})
    rows = rft_rows(problems, kept, include_original=False)
    assert len(rows) == 1 and rows[0]["completion"][0]["content"] == OTHER_EQS
    assert rows[0]["prompt"][-1]["content"].startswith("Ann buys")
    assert dedup_paths([OTHER_EQS, OTHER_EQS]) == [OTHER_EQS]
