"""`mathlab report`: tables from a run's metrics only, and the README's generated block."""

import json

import pytest

from mathlab.cli import main
from mathlab.metrics import Comparison, eval_record
from mathlab.report import BEGIN, END, render, update
from mathlab.runs import Run
from mathlab.stats import compare_paired


@pytest.fixture
def run_dir(tmp_path):
    run = Run(tmp_path / "r", notebook="02_sft", preset="cpu", seed=0)
    base = [True] * 9 + [False] * 91
    sft = [True] * 45 + [False] * 55
    run.add_eval(eval_record("baseline", "base", "test", "calc", n=100, accuracy=0.09))
    run.add_eval(eval_record("sft", "sft", "test", "calc", n=100, accuracy=0.45))
    run.add_comparison(Comparison.from_paired("baseline", "sft", "test", compare_paired(base, sft)))
    run.finish()
    (run.path / "provenance.json").write_text(
        json.dumps({"git_sha": "abcdef123456", "precision": {"describe": "Test CPU (AVX2)"}})
    )
    return run.path


def test_render_reads_the_metrics_and_names_the_run(run_dir):
    text = render(run_dir, markdown=True)
    assert "commit abcdef1" in text and "Test CPU (AVX2)" in text and "preset cpu" in text
    assert "| 02_sft | sft | test | calc | 100 | 45.0% | 35.6%–54.8% |" in text
    assert "sft vs baseline" in text and "+36.0 points" in text and "sft better" in text
    plain = render(run_dir, markdown=False)
    assert "|" not in plain.splitlines()[3] and "45.0%" in plain


def test_update_rewrites_only_the_generated_block(run_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{BEGIN}\nold numbers\n{END}\n\nafter\n")
    update(readme, run_dir)
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n" + BEGIN) and text.endswith(END + "\n\nafter\n")
    assert "old numbers" not in text and "45.0%" in text
    update(readme, run_dir)  # idempotent
    assert readme.read_text() == text
    readme.write_text("no block here\n")
    assert main(["report", str(run_dir), "--update", str(readme)]) == 2


def test_cli_errors_name_the_problem(run_dir, tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    metrics = run_dir / "metrics" / "02_sft.json"
    data = json.loads(metrics.read_text())
    data["evals"][0]["n"] = -1
    metrics.write_text(json.dumps(data))
    assert main(["report", str(run_dir)]) == 2
    assert "02_sft.json: evals[0]" in capsys.readouterr().err


def _sample_file(run_dir, answers):
    from mathlab.data.records import Sample, write_jsonl

    rows = [
        Sample(
            problem_id=f"p{i}",
            model="sft",
            style="calc",
            prompt="q",
            completion=text,
            pred=None,
            correct=ok,
            n_tokens=3,
            meta={"greedy": True},
        )
        for i, (ok, text) in enumerate(answers)
    ]
    write_jsonl(run_dir / "samples" / "sft__test__calc.jsonl", rows)


def test_several_runs_side_by_side_with_per_problem_differences(run_dir, tmp_path, capsys):
    other = Run(tmp_path / "r2", notebook="02_sft", preset="cpu", seed=1)
    other.add_eval(eval_record("sft", "sft", "test", "calc", n=100, accuracy=0.40))
    other.add_eval(eval_record("rft", "rft", "test", "calc", n=100, accuracy=0.47))
    other.finish()
    _sample_file(run_dir, [(True, "a"), (False, "b"), (True, "c")])
    _sample_file(other.path, [(True, "a"), (True, "b2"), (True, "c2")])
    assert main(["report", str(run_dir), str(other.path), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "run 1: Run `r`" in out and "run 2: Run `r2`" in out
    assert "| 02_sft | sft | test | calc | 45.0% (n=100) | 40.0% (n=100) | 5.0 points |" in out
    assert "run 2: 1 graded, 2 texts of 3 |" in out
    assert "| 02_sft | rft | test | calc | - | 47.0% (n=100) | - | - |" in out
    assert "| 02_sft | baseline | test | calc | 9.0% (n=100) | - | - | - |" in out
    assert main(["report", str(run_dir), str(other.path), "--update", "README.md"]) == 2
