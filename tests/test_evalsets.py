"""mathlab.evalsets: which problems a notebook uses, its evaluation options, per-problem flags."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mathlab.config import EvalParams
from mathlab.data.records import Problem, Sample, write_jsonl
from mathlab.evalsets import (
    EvalOptions,
    SetSizes,
    accuracy_row,
    first_n,
    ids_hash,
    load_sets,
    result_flags,
    saved_flags,
    seeded_subset,
)
from mathlab.generate import backend_options
from mathlab.runs import MissingArtifact, Run
from mathlab.stats import wilson_interval


def _problems(prefix: str, n: int) -> list[Problem]:
    return [
        Problem(f"{prefix}-{i}", f"What is {i} + 1?", str(i + 1), solution=f"{i}+1={i + 1}")
        for i in range(n)
    ]


@pytest.fixture
def run(tmp_path):
    run = Run(tmp_path / "run", notebook="02_sft")
    write_jsonl(run.data_dir / "train.jsonl", _problems("train", 30))
    write_jsonl(run.data_dir / "test.jsonl", _problems("test", 20))
    write_jsonl(run.data_dir / "test_heldout.jsonl", _problems("held", 10))
    write_jsonl(run.data_dir / "real" / "gsm8k.jsonl", _problems("gsm", 8))
    write_jsonl(run.data_dir / "test_distractor.jsonl", _problems("dis", 20))
    write_jsonl(run.data_dir / "test_backward.jsonl", _problems("back", 15))
    return run


def test_seeded_subsets_are_nested_and_seeded():
    items = list(range(100))
    assert seeded_subset(items, 10, seed=1) == seeded_subset(items, 40, seed=1)[:10]
    assert sorted(seeded_subset(items, None, seed=1)) == items
    assert seeded_subset(items, 10, seed=1) != seeded_subset(items, 10, seed=2)
    assert seeded_subset(items, 500, seed=1) == seeded_subset(items, None, seed=1)
    with pytest.raises(ValueError, match=">= 0"):
        seeded_subset(items, -1)


def test_load_sets_sizes_every_set(run):
    sizes = SetSizes(n_train=12, n_test=10, n_heldout=4, n_ablation=3, n_real=5)
    sets = load_sets(run, sizes, seed=7)
    assert list(sets) == ["train", "test", "test_heldout", "ablation", "real/gsm8k"]
    assert [len(v) for v in sets.values()] == [12, 10, 4, 3, 5]
    assert sets["ablation"] == sets["test"][:3]
    assert [p.id for p in sets["real/gsm8k"]] == [f"gsm-{i}" for i in range(5)]  # file order
    bigger = load_sets(run, SetSizes(n_train=20, n_test=None), seed=7)  # nested: a prefix
    assert bigger["train"][:12] == sets["train"] and bigger["test"][:10] == sets["test"]
    assert "real/gsm8k" not in bigger and len(bigger["test_heldout"]) == 10
    assert bigger["ablation"] == bigger["test"]  # n_ablation None: the whole test set
    assert "test_heldout" not in load_sets(run, SetSizes(n_heldout=0), seed=7)
    robust = load_sets(run, SetSizes(n_robust=6), seed=7)  # the robustness sets: opt-in
    assert [len(robust[n]) for n in ("test_distractor", "test_backward")] == [6, 6]
    assert (
        robust["test_backward"] == load_sets(run, SetSizes(n_robust=9), seed=7)["test_backward"][:6]
    )
    assert load_sets(run, sizes, seed=7) == sets  # same seed, same problems
    with pytest.raises(ValueError, match="the train set is empty"):
        load_sets(run, SetSizes(n_train=0), seed=7)
    assert first_n(sets, ["test", "train"], 2) == {
        "test": sets["test"][:2],
        "train": sets["train"][:2],
    }
    assert first_n(sets, ["test"], None) == {"test": sets["test"]}
    assert ids_hash(sets["test"]) != ids_hash(sets["test"][::-1])  # order matters


def test_load_sets_names_the_notebook_that_provides_missing_data(tmp_path):
    with pytest.raises(MissingArtifact, match="00_data"):
        load_sets(Run(tmp_path / "empty"), SetSizes(), seed=0)


def test_set_sizes_and_eval_options_from_the_eval_section():
    params = EvalParams(
        n_test=80,
        n_heldout=0,
        n_real=3,
        n_robust=5,
        style="calc",
        k=4,
        temperature=0.5,
        max_new_tokens=128,
        backend="hf",
        batch_size=16,
    )
    assert SetSizes.of(params, n_train=32, n_ablation=8) == SetSizes(
        n_train=32, n_test=80, n_heldout=0, n_ablation=8, n_real=3, n_robust=5
    )
    opts = EvalOptions.of(params, device="cpu", dtype="float32", seed=3)
    assert (opts.style, opts.k, opts.temperature, opts.max_new_tokens, opts.seed) == (
        "calc",
        4,
        0.5,
        128,
        3,
    )
    assert opts.backend == "hf" and opts.backend_opts == backend_options(
        "hf", device="cpu", dtype="float32", batch_size=16, seed=3
    )
    assert opts.backend_opts == {"device": "cpu", "dtype": "float32", "seed": 3, "batch_size": 16}
    plain = opts.replace(k=1, style="cot")
    assert (plain.k, plain.style, plain.backend_opts) == (1, "cot", opts.backend_opts)
    assert opts.k == 4  # unchanged


def test_backend_options_translate_settings_per_kind():
    assert backend_options("fast", device="cpu", autocast=False) == {
        "device": "cpu",
        "dtype": "auto",
        "seed": 0,
        "autocast": False,
    }
    assert backend_options("vllm", device="cuda", dtype="bfloat16", seed=2, batch_size=8) == {
        "dtype": "bfloat16",
        "seed": 2,
    }
    assert backend_options("openai", device="cpu", batch_size=8) == {}
    assert backend_options("openai", base_url="http://h/v1", api_key_env="K") == {
        "base_url": "http://h/v1",
        "api_key_env": "K",
    }
    with pytest.raises(ValueError, match="unknown backend kind"):
        backend_options("nope")


def test_flags_from_results_and_from_saved_samples(run):
    problems = _problems("test", 4)
    result = SimpleNamespace(
        per_problem=[
            {"id": p.id, "accuracy": float(i % 2 == 0), "n_tokens": 10 * (i + 1)}
            for i, p in enumerate(problems)
        ]
    )
    assert result_flags(result) == [True, False, True, False]
    row = accuracy_row("sft", result, set="test")
    assert row["accuracy"] == 0.5 and row["n"] == 4 and row["mean_tokens"] == 25.0
    assert (row["ci_lo"], row["ci_hi"]) == wilson_interval(2, 4) and row["set"] == "test"
    assert list(row) == ["model", "accuracy", "ci_lo", "ci_hi", "n", "mean_tokens", "set"]
    first = accuracy_row("sft", result, first=1)
    assert (first["accuracy"], first["n"], first["mean_tokens"]) == (1.0, 1, 10.0)

    def sample(p, correct, greedy=True):
        return Sample(p.id, "m", "cot", "q", "a", "1", correct, 3, meta={"greedy": greedy})

    path = run.samples_path("baseline", "real_gsm8k", "cot")
    rows = [sample(problems[0], True), sample(problems[1], False), sample(problems[1], True, False)]
    write_jsonl(path, rows)
    assert saved_flags(run, "baseline", "real/gsm8k", problems[:2]) == [True, False]
    assert saved_flags(run, "baseline", "real/gsm8k", problems) is None  # does not cover all
    assert saved_flags(run, "baseline", "real/gsm8k", problems, prefix=True) == [True, False]
    assert saved_flags(run, "baseline", "real/gsm8k", problems[:2], style="calc") is None
    assert saved_flags(run, "baseline", "real/gsm8k", problems[2:], prefix=True) is None
