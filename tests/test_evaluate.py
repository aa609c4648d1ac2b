"""The evaluation harness: estimators, grading and aggregation, files, the CLI, a real eval."""

from __future__ import annotations

import json

import pytest
import torch

from mathlab.data.records import Problem, read_rows, write_jsonl
from mathlab.data.records import Sample as SampleRow
from mathlab.evaluate import (
    eval_main,
    evaluate,
    score_results,
    summarize,
)
from mathlab.runs import Run
from mathlab.styles import StyleResult

SCHEMA = {
    "stage",
    "model",
    "dataset",
    "style",
    "n",
    "k",
    "accuracy",
    "maj_at_k",
    "pass_at_k",
    "mean_tokens",
    "by_family",
    "by_steps",
    "by_source",
    "wall_s",
}
ORIGINAL_THREADS = torch.get_num_threads()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    torch.set_num_threads(1)  # tiny-random: threads only add waiting on a busy CPU
    yield
    torch.set_num_threads(ORIGINAL_THREADS)


@pytest.fixture(scope="module")
def tiny():
    from mathlab.generate import get_backend

    return get_backend("tiny-random", autocast=False, show_progress=False)


@pytest.fixture(scope="module")
def problems():
    from mathlab.data.generator import generate_problems

    return generate_problems(3, seed=1, split="test")


# --------------------------------------------------------------------------- aggregation
def _p(i, answer, family, steps, source):
    return Problem(
        f"{source}-{i}",
        f"question {i}",
        answer,
        source=source,
        split="test",
        meta={"family": family, "steps": steps},
    )


def _r(pred, n_tokens=10):
    return StyleResult(
        f"... The answer is: {pred}" if pred else "no idea", pred, n_tokens, 0, "eos", "cot"
    )


def test_score_results_and_summary_by_hand():
    probs = [_p(0, "24", "a", 1, "gen"), _p(1, "10", "a", 2, "gen"), _p(2, "7", "b", 2, "svamp")]
    greedy = [_r("24", 10), _r("11", 20), _r(None, 30)]
    sampled = [
        [_r("24"), _r("24"), _r("23"), _r(None)],
        [_r("10"), _r("9"), _r("9"), _r("8")],
        [_r(None), _r(None), _r("8"), _r("6")],
    ]
    scores = [[0.1, 0.9, 0.5, 0.2], [0.9, 0.1, 0.2, 0.3], [0.0, 0.0, 1.0, 0.5]]
    rows, samples = score_results(probs, "cot", greedy, sampled, scores, model="m", seed=3)
    rec = summarize(rows, k=4, scored=True, stage="baseline", model="m", dataset="t", style="cot")
    assert SCHEMA <= set(rec)
    assert rec["accuracy"] == pytest.approx(1 / 3)
    assert rec["maj_at_k"] == pytest.approx(1 / 3)  # 24 wins; 9 beats 10; nothing for 7
    assert rec["pass_at_k"] == pytest.approx(2 / 3)
    assert rec["bon_at_k"] == pytest.approx(2 / 3)  # the best-scored: 24 (right), 10 (right), 8
    assert rec["mean_tokens"] == pytest.approx(20)
    assert rec["pass_curve"]["1"] == pytest.approx((2 / 4 + 1 / 4 + 0) / 3)
    assert rec["by_family"] == {
        "a": {"n": 2, "accuracy": 0.5, "maj_at_k": 0.5, "pass_at_k": 1.0, "bon_at_k": 1.0},
        "b": {"n": 1, "accuracy": 0.0, "maj_at_k": 0.0, "pass_at_k": 0.0, "bon_at_k": 0.0},
    }
    assert rec["by_steps"]["1"]["accuracy"] == 1.0 and rec["by_steps"]["2"]["n"] == 2
    assert set(rec["by_source"]) == {"gen", "svamp"}
    assert len(samples) == 3 + 12
    assert [s.meta["sample"] for s in samples[:5]] == [0, 0, 1, 2, 3]
    assert samples[0].meta["greedy"] and samples[0].seed is None and samples[1].seed == 3
    assert [s.correct for s in samples if s.problem_id == "gen-0"] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert samples[2].meta["score"] == 0.9
    for s in samples:
        s.validate()


def test_unparseable_gold_never_counts():
    probs = [_p(0, "24", "a", 1, "gen")]
    rows, _ = score_results(probs, "cot", [_r("24")], [[_r("24")] * 2], bad_gold={"gen-0"})
    assert rows[0]["accuracy"] == 0.0 and rows[0]["n_correct"] == 0 and rows[0]["maj_at_k"] == 0.0


# --------------------------------------------------------------------------- end to end (tiny-random)
def test_evaluate_writes_samples_and_metrics(tiny, problems, tmp_path):
    import datasets

    run = Run(tmp_path / "run", notebook="99_test")
    res = evaluate(
        tiny,
        problems,
        style="cot",
        k=2,
        max_new_tokens=6,
        stage="baseline",
        dataset="gen",
        run=run,
        model_name="tiny-random",
        scorer=lambda completions, **kw: [-float(len(c)) for c in completions],
        seed=5,
    )
    metrics = json.loads(run.metrics_path.read_text())
    assert len(metrics["evals"]) == 1
    rec = metrics["evals"][0]
    assert SCHEMA <= set(rec) and "bon_at_k" in rec
    assert (rec["stage"], rec["model"], rec["dataset"], rec["style"], rec["n"], rec["k"]) == (
        "baseline",
        "tiny-random",
        "gen",
        "cot",
        3,
        2,
    )
    assert rec["temperature"] == 0.7 and rec["wall_s"] > 0
    assert res.samples_path == run.samples_path("baseline", "gen", "cot")
    rows = read_rows(res.samples_path, SampleRow)
    assert len(rows) == 3 * (1 + 2)
    assert all(r.n_tokens <= 6 and r.model == "tiny-random" for r in rows)
    # accuracy is the greedy rows' mean correctness; each row is graded against its gold
    from mathlab.answers import is_correct

    gold = {p.id: p.answer for p in problems}
    assert all(
        r.correct == (r.pred is not None and is_correct(r.pred, gold[r.problem_id])) for r in rows
    )
    greedy_rows = [r for r in rows if r.meta["greedy"]]
    assert rec["accuracy"] == pytest.approx(sum(r.correct for r in greedy_rows) / 3)
    ds = datasets.load_dataset("json", data_files=str(res.samples_path), split="train")
    assert ds.num_rows == 9
    assert {
        "problem_id",
        "model",
        "style",
        "prompt",
        "completion",
        "pred",
        "correct",
        "n_tokens",
        "seed",
    } <= set(ds.column_names)
    # the same stage/style again replaces its record, another style adds one
    evaluate(
        tiny,
        problems,
        style="cot",
        k=2,
        max_new_tokens=6,
        dataset="gen",
        run=run,
        model_name="tiny-random",
    )
    evaluate(
        tiny,
        problems,
        style="pot",
        max_new_tokens=6,
        dataset="gen",
        run=run,
        model_name="tiny-random",
    )
    styles = [e["style"] for e in json.loads(run.metrics_path.read_text())["evals"]]
    assert styles == ["cot", "pot"]


def test_evaluate_refuses_unparseable_gold(tiny):
    probs = [
        Problem("bad-0", "What is it?", "None", source="bad", split="test"),
        Problem("ok-0", "What is 1+1?", "2", source="ok", split="test"),
    ]
    with pytest.raises(ValueError, match="bad-0"):
        evaluate(tiny, probs, max_new_tokens=2)
    res = evaluate(tiny, probs, max_new_tokens=2, on_bad_gold="wrong")
    assert res["n_bad_gold"] == 1 and res.per_problem[0]["accuracy"] == 0.0
    with pytest.raises(ValueError, match="k must be"):
        evaluate(tiny, probs[1:], k=0)


# --------------------------------------------------------------------------- CLI
def test_eval_cli(tmp_path, problems, capsys):
    out = tmp_path / "out"
    rc = eval_main(
        [
            "--model",
            "tiny-random",
            "--data",
            "gen:3",
            "--style",
            "cot,calc",
            "--k",
            "2",
            "--max-new-tokens",
            "5",
            "--out",
            str(out),
            "--autocast",
            "off",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "maj_at_k" in printed and "calc" in printed
    evals = json.loads((out / "metrics" / "eval.json").read_text())["evals"]
    assert [(e["style"], e["n"], e["k"], e["dataset"]) for e in evals] == [
        ("cot", 3, 2, "gen3"),
        ("calc", 3, 2, "gen3"),
    ]
    assert (out / "samples" / "eval__gen3__cot.jsonl").is_file()

    path = write_jsonl(tmp_path / "probs.jsonl", problems)
    assert (
        eval_main(
            [
                "--model",
                "tiny-random",
                "--data",
                str(path),
                "--limit",
                "2",
                "--max-new-tokens",
                "3",
                "--breakdown",
                "none",
            ]
        )
        == 0
    )
    assert "probs" in capsys.readouterr().out

    assert eval_main(["--model", "tiny-random", "--data", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        eval_main(["--model", "tiny-random", "--data", "gen:2", "--style", "direct"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- the embedded model
@pytest.mark.slow
def test_short_evaluation_of_the_embedded_model(tmp_path):
    """SmolLM2-135M on 4 generated problems in every style (greedy)."""
    from mathlab.answers import is_correct
    from mathlab.data.generator import generate_problems
    from mathlab.generate import get_backend

    # one thread (the module fixture): at batch 4 decoding is memory-bound, and on a shared
    # CPU a second thread mostly waits for a descheduled peer
    backend = get_backend("smollm2-135m-instruct", show_progress=False, autocast=True)  # speed
    probs = generate_problems(4, seed=0, split="test")
    run = Run(tmp_path, notebook="99_test")
    budget = 64
    for style in ("cot", "pot", "hybrid", "calc", "tir"):
        res = evaluate(
            backend,
            probs,
            style=style,
            max_new_tokens=budget,
            dataset="gen",
            run=run,
            model_name="smollm2-135m-instruct",
        )
        assert len(res.samples) == 4 and res["n"] == 4
        for s, p in zip(res.samples, probs):
            assert s.correct == (s.pred is not None and is_correct(s.pred, p.answer))
            assert 0 < s.n_tokens <= (2 * budget if style == "hybrid" else budget)
        assert res["accuracy"] == pytest.approx(sum(s.correct for s in res.samples) / 4)
        assert sum(res["finish_reasons"].values()) == 4
        if style == "pot":  # every program ran in the sandbox: an answer or an error
            assert res["mean_tool_calls"] == 1.0
            assert all(s.pred is not None or s.meta["error"] for s in res.samples)
        if style == "hybrid":  # the program's answer when numeric, else a CoT fallback
            from mathlab.answers import parse_number
            from mathlab.prompts import COT_INSTRUCTION, POT_INSTRUCTION

            for s in res.samples:
                if s.meta["style_used"] == "pot":
                    assert parse_number(s.pred) is not None and POT_INSTRUCTION in s.prompt
                else:
                    assert s.meta["style_used"] == "cot" and COT_INSTRUCTION in s.prompt
    assert [e["style"] for e in json.loads(run.metrics_path.read_text())["evals"]] == [
        "cot",
        "pot",
        "hybrid",
        "calc",
        "tir",
    ]
