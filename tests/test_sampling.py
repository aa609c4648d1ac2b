"""mathlab.sampling: k graded samples per question from a real (tiny) model, and the cache."""

import dataclasses

import pytest

from mathlab.answers import is_correct
from mathlab.data.records import Problem, Sample, read_rows
from mathlab.runs import Run
from mathlab.sampling import (
    SampledPath,
    SampleOptions,
    load_samples,
    sample_cached,
    sample_key,
    sample_paths,
    save_samples,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROBLEMS = [
    Problem(
        "gen-1",
        "Ann has 3 apples and buys 2 more. How many apples does she have?",
        "5",
        solution="3+2=<<3+2=5>>5\n#### 5",
        source="gen",
    ),
    Problem(
        "gen-2",
        "A box holds 4 pens. How many pens are in 3 boxes?",
        "12",
        solution="4*3=<<4*3=12>>12\n#### 12",
        source="gen",
    ),
]


def test_sample_paths_grades_k_samples_per_question_with_a_real_backend():
    from mathlab.generate import get_backend

    backend = get_backend("tiny-random", device="cpu", show_progress=False)
    for style in ("cot", "calc"):
        opts = SampleOptions(style=style, max_new_tokens=8, seed=1)
        samples = sample_paths(backend, PROBLEMS, k=2, options=opts, model_name="tiny")
        assert list(samples) == ["gen-1", "gen-2"]
        assert all(len(v) == 2 for v in samples.values())
        for p in PROBLEMS:
            for s in samples[p.id]:
                assert s.model == "tiny" and s.n_tokens <= 8 and isinstance(s.correct, bool)
                assert s.correct == (s.pred is not None and is_correct(s.pred, p.answer))


def test_saved_samples_round_trip_only_under_their_key(tmp_path):
    samples = {
        "gen-1": [
            SampledPath("3+2=<<3+2=5>>5\nThe answer is: 5", "5", True, 12, "sft"),
            SampledPath("nope", None, False, 3, "sft"),
        ]
    }
    path = save_samples(tmp_path / "s.jsonl", samples, PROBLEMS, key="abc", style="calc")
    assert load_samples(path, "abc") == samples
    assert load_samples(path, "other") is None
    rows = read_rows(path, Sample)
    assert [r.meta["index"] for r in rows] == [0, 1] and {r.style for r in rows} == {"calc"}
    assert PROBLEMS[0].question in rows[0].prompt


def test_the_key_covers_model_prompts_and_parameters():
    opts = SampleOptions(max_new_tokens=8, seed=1)
    key = sample_key("tiny-random", PROBLEMS, 2, opts)
    assert key == sample_key("tiny-random", PROBLEMS, 2, opts)
    changed_question = [dataclasses.replace(PROBLEMS[0], question="Ann has 4 apples.")] + PROBLEMS[
        1:
    ]
    others = [
        sample_key("other-model", PROBLEMS, 2, opts),
        sample_key("tiny-random", PROBLEMS[::-1], 2, opts),
        sample_key("tiny-random", PROBLEMS, 3, opts),
        sample_key("tiny-random", PROBLEMS, 2, SampleOptions(max_new_tokens=8, seed=2)),
        sample_key("tiny-random", PROBLEMS, 2, SampleOptions(max_new_tokens=9, seed=1)),
        sample_key(
            "tiny-random", PROBLEMS, 2, SampleOptions(max_new_tokens=8, seed=1, style="calc")
        ),
        sample_key(
            "tiny-random", PROBLEMS, 2, SampleOptions(max_new_tokens=8, seed=1, temperature=1.0)
        ),
        sample_key("tiny-random", changed_question, 2, opts),
    ]
    assert key not in others and len(set(others)) == len(others)
    # the backend and its batch size change how fast samples come, not what they are
    assert key == sample_key(
        "tiny-random",
        PROBLEMS,
        2,
        SampleOptions(max_new_tokens=8, seed=1, backend="hf", backend_opts={"batch_size": 3}),
    )


def test_sample_cached_reads_back_and_resamples_on_change(tmp_path, capsys):
    run = Run(tmp_path / "run")
    opts = SampleOptions(max_new_tokens=8, seed=1, backend="hf", backend_opts={"device": "cpu"})
    first = sample_cached(run, "rft_tiny", "tiny-random", PROBLEMS, 2, opts)
    path = run.samples_path("rft_tiny", "train", "cot")
    assert path.is_file() and "samples, " in capsys.readouterr().out
    again = sample_cached(run, "rft_tiny", "tiny-random", PROBLEMS, 2, opts)
    assert again == first and "read from" in capsys.readouterr().out
    more = sample_cached(run, "rft_tiny", "tiny-random", PROBLEMS, 3, opts)
    assert "read from" not in capsys.readouterr().out
    assert all(len(v) == 3 for v in more.values())
    assert load_samples(path, sample_key("tiny-random", PROBLEMS, 3, opts)) == more
