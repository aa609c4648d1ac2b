"""Every notebook, executed headless with the smoke preset through the runner (papermill)."""

import json

import nbformat
import pytest

from mathlab import registry
from mathlab.metrics import validate_metrics
from mathlab.paths import repo_root
from mathlab.runner import discover_notebooks, run_notebooks
from mathlab.runs import collect

NOTEBOOKS = discover_notebooks(repo_root() / "notebooks")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    if not NOTEBOOKS:
        pytest.skip("no notebooks yet")
    run_dir = tmp_path_factory.mktemp("smoke-run")
    summary = run_notebooks(preset="smoke", run_dir=run_dir)
    return summary


def test_every_notebook_runs_with_the_smoke_preset(smoke_run):
    failed = [(r.name, r.error, str(r.output)) for r in smoke_run.results if r.status != "ran"]
    assert not failed, failed
    assert [r.name for r in smoke_run.results] == [nb.stem for nb in NOTEBOOKS]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_writes_metrics_and_figures(smoke_run, nb):
    metrics_path = smoke_run.run_dir / "metrics" / f"{nb.stem}.json"
    assert metrics_path.is_file(), f"{nb.stem} wrote no metrics file"
    metrics = validate_metrics(json.loads(metrics_path.read_text()), str(metrics_path))
    assert metrics["notebook"] == nb.stem and registry.notebook(nb.stem).name == nb.stem
    assert metrics["preset"] == "smoke" and metrics["wall_s"] is not None
    figures = list((smoke_run.run_dir / "figures").glob(f"{nb.stem}__*.png"))
    assert figures, f"{nb.stem} saved no figure"


def test_collect_reads_every_notebook_of_the_run(smoke_run):
    results = collect(smoke_run.run_dir)
    assert list(results.metrics) == [nb.stem for nb in NOTEBOOKS]
    evals = results.evals()
    assert {"stage", "dataset", "accuracy", "notebook"} <= set(evals.columns)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_committed_notebook_is_clean(nb):
    """Outputs stripped, one `parameters` cell of literals, opening markdown cell."""
    parsed = nbformat.read(nb, as_version=4)
    assert parsed.cells[0].cell_type == "markdown", "a notebook opens with a markdown cell"
    code = [c for c in parsed.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "strip outputs"
    tagged = [c for c in parsed.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged `parameters`"
    import ast

    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign | ast.AnnAssign), (
            "the parameters cell holds assignments only"
        )
        value = node.value
        assert value is None or isinstance(ast.literal_eval(value), object), "literals only"
    assert "preset" in tagged[0].source and "run_dir" in tagged[0].source
    # papermill must see every parameter (`--help-notebook`, no "unknown parameter" warning
    # when the runner passes `overrides`): its parser reads `name = value  # help` lines
    import papermill

    names = [
        t.id for node in ast.parse(tagged[0].source).body for t in getattr(node, "targets", [])
    ]
    assert "overrides" in names, "every notebook takes `overrides` (mathlab run -p)"
    assert list(papermill.inspect_notebook(str(nb))) == names


def test_same_seed_gives_the_same_outputs_and_runner_overrides_reach_the_config(
    smoke_run, tmp_path
):
    """Determinism: 00_data, 01_evolve's children (and 02_sft's evaluation samples, which
    read them) again, same bytes."""
    stems = {nb.stem[:2] for nb in NOTEBOOKS}
    again_only = [n for n in ("00", "01", "02") if n in stems]
    again = run_notebooks(preset="smoke", run_dir=tmp_path / "again", only=again_only)
    assert again.ok, [(r.name, r.error) for r in again.results]
    first, second = smoke_run.run_dir, again.run_dir
    for name in ("train.jsonl", "test.jsonl", "test_heldout.jsonl"):
        assert (first / "data" / name).read_bytes() == (second / "data" / name).read_bytes(), name
    for path in sorted((second / "evolve").glob("*.jsonl")):
        assert path.read_bytes() == (first / "evolve" / path.name).read_bytes(), path.name
    for path in sorted((second / "samples").glob("*.jsonl")):
        ref = first / "samples" / path.name
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        ref_rows = [json.loads(line) for line in ref.read_text().splitlines()]
        strip = [{k: v for k, v in r.items() if k not in ("wall_s",)} for r in rows]
        ref_strip = [{k: v for k, v in r.items() if k not in ("wall_s",)} for r in ref_rows]
        assert strip == ref_strip, f"{path.name} differs between two runs with the same seed"

    other = run_notebooks(
        preset="smoke", run_dir=tmp_path / "other", only=["00"], overrides={"data.n_train": 7}
    )
    assert other.ok
    assert len((tmp_path / "other" / "data" / "train.jsonl").read_text().splitlines()) == 7
