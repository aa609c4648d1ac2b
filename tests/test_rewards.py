"""mathlab.rewards: TRL-signature rewards, the shaped reward, names, and the best-of-N hook."""

import math

import pytest

from mathlab.evaluate import score_results, summarize
from mathlab.rewards import (
    Reward,
    answer_format,
    completion_text,
    correctness,
    get_reward,
    register_reward,
    score_group,
    shaped,
)
from tests.test_evaluate import _p, _r


def test_correctness_grades_strings_and_conversations_and_skips_bad_gold():
    completions = [
        "3 * 6 = 18. The answer is: 18",
        "The answer is: 17",
        [{"role": "assistant", "content": "\\boxed{18}"}],
        "The answer is: 18",
        "",
        "The answer is: 10001",
    ]
    solution = ["18", "18", "18", "None", "18", "#### 10000"]
    assert correctness(completions, solution, prompts=["p"] * 6) == [1.0, 0.0, 1.0, None, 0.0, 0.0]
    with pytest.raises(ValueError):
        correctness(["1", "2"], ["1"])
    with pytest.raises(ValueError, match="`solution` column"):
        correctness(["1"])


def test_answer_format_wants_a_final_answer_line():
    assert answer_format(
        [
            "2 + 3 = 5.\nThe answer is: 5",
            "The answer is: 5\nand then more text",
            "The answer is:",
            [{"role": "assistant", "content": "x = 4.\nthe answer is: 4\n\n"}],
            "",
        ]
    ) == [1.0, 0.0, 0.0, 1.0, 0.0]


def _length_scorer(completions, **kwargs):
    """A stand-in for a learned scorer: shorter completions score higher; '?' gets no score."""
    return [
        None if "?" in completion_text(c) else -len(completion_text(c)) / 10 for c in completions
    ]


def test_shaped_reward_separates_right_from_wrong_and_ranks_within():
    reward = shaped(_length_scorer)
    out = reward(
        ["The answer is: 5", "Long steps. The answer is: 5", "The answer is: 6", "? 5"],
        solution=["5"] * 4,
    )
    assert 0 < out[1] < out[0] < 1  # right: in (0, 1), the shorter ranked higher
    assert -1 < out[2] < 0  # wrong: in (-1, 0)
    assert out[3] is None
    assert out[0] == pytest.approx(1 / (1 + math.exp(0.5 * 1.6)))
    assert isinstance(reward, Reward) and reward.__name__ == "shaped__length_scorer"


def test_rewards_by_name_and_registered_scorers():
    assert get_reward("correctness") is correctness and get_reward("format") is answer_format
    assert get_reward(_length_scorer) is _length_scorer
    with pytest.raises(ValueError, match=r"unknown reward 'orm' \(known: correctness, format"):
        get_reward("orm")
    register_reward("test_length", _length_scorer)
    assert get_reward("test_length") is _length_scorer
    with pytest.raises(TypeError, match="not a callable"):
        register_reward("bad", 3)


def test_score_group_calls_with_trl_keywords_and_ranks_none_last():
    seen = {}

    def spy(completions, prompts, solution, **kwargs):
        seen.update(prompts=prompts, solution=solution)
        return [1.0, None]

    assert score_group(spy, "Q?", "5", ["a", "b"]) == [1.0, -math.inf]
    assert seen == {"prompts": ["Q?", "Q?"], "solution": ["5", "5"]}
    with pytest.raises(ValueError, match="returned 1 scores for 2 completions"):
        score_group(lambda completions, **kw: [0.0], "Q", "5", ["a", "b"])


def test_best_of_n_with_the_correctness_oracle_is_pass_at_k():
    probs = [_p(0, "24", "a", 1, "gen"), _p(1, "10", "a", 2, "gen"), _p(2, "7", "b", 2, "gen")]
    sampled = [
        [_r("23"), _r("24"), _r(None)],
        [_r("9"), _r("9"), _r("8")],
        [_r(None), _r("7"), _r("7")],
    ]
    for scorer, expected in (("correctness", 2 / 3), ("format", 0.0)):
        scores = [
            score_group(scorer, p.question, p.answer, [r.text for r in row])
            for p, row in zip(probs, sampled, strict=True)
        ]
        rows, _ = score_results(probs, "cot", None, sampled, scores, model="m")
        rec = summarize(
            rows, k=3, greedy=False, scored=True, stage="s", model="m", dataset="t", style="cot"
        )
        assert rec["bon_at_k"] == pytest.approx(expected)
    assert rec["pass_at_k"] == pytest.approx(2 / 3)  # the oracle reaches the ceiling


def test_evaluate_accepts_a_reward_by_name_for_best_of_n(tmp_path):
    from mathlab.data.generator import generate_problems
    from mathlab.evaluate import evaluate
    from mathlab.generate import get_backend

    tiny = get_backend("tiny-random", autocast=False, show_progress=False)
    res = evaluate(
        tiny, generate_problems(2, seed=1, split="test"), k=2, max_new_tokens=6, scorer="format"
    )
    assert "bon_at_k" in res.record
    sampled = [s for s in res.samples if not s.meta["greedy"]]
    assert [s.meta["score"] for s in sampled] == answer_format([s.completion for s in sampled])


def test_doctests():
    import doctest

    from mathlab import rewards, sampling

    for module in (rewards, sampling):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
