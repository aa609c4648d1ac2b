"""The papermill runner on small notebooks written here: order, injection, resume, force, failure."""

import json
import sys

import nbformat
import pytest

from mathlab.runner import run_main


def _notebook(path, *cells, params="preset = 'cpu'\nrun_dir = None\noverrides = None"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "no-such-kernel",
        "display_name": "x",
        "language": "python",
    }
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


LOG = "import pathlib, sys\npathlib.Path(run_dir, 'log.txt').open('a').write(f'{NAME} {preset} {overrides} {sys.executable}\\n')"


@pytest.fixture
def nbdir(tmp_path):
    d = tmp_path / "notebooks"
    d.mkdir()
    _notebook(d / "00_first.ipynb", LOG.replace("{NAME}", "00"))
    _notebook(d / "01_second.ipynb", LOG.replace("{NAME}", "01"), "x = 1 + 1")
    _notebook(d / "02_third.ipynb", LOG.replace("{NAME}", "02"))
    (d / "README.ipynb").write_text("{}")  # not numbered: ignored
    return d


def _run(nbdir, run_dir, *extra):
    return run_main(
        ["--preset", "smoke", "--run-dir", str(run_dir), "--notebooks-dir", str(nbdir), *extra]
    )


def _log(run_dir):
    return (run_dir / "log.txt").read_text().splitlines()


def test_order_injection_skip_force_and_provenance(nbdir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert _run(nbdir, run_dir) == 0
    lines = _log(run_dir)
    assert [line.split()[0] for line in lines] == ["00", "01", "02"]
    assert all(line.split()[1] == "smoke" for line in lines)  # injected preset
    assert all(line.split()[-1] == sys.executable for line in lines)  # this interpreter's kernel
    out = capsys.readouterr().out
    assert (
        "notebook" in out
        and "peak MiB" in out
        and "00_first" in out
        and f"Results: {run_dir}" in out
    )
    executed = nbformat.read(run_dir / "notebooks" / "01_second.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    prov = json.loads((run_dir / "provenance.json").read_text())
    for key in (
        "git_sha",
        "pip_freeze",
        "cpu_model",
        "torch_threads",
        "precision",
        "started",
        "finished",
        "notebooks",
    ):
        assert key in prov, key
    assert any(p.startswith("papermill==") for p in prov["pip_freeze"])
    assert {"flags", "torch_capability", "fp32_gflops", "bf16_fast", "source"} <= set(
        prov["precision"]
    )
    assert f"cpu: {prov['precision']['describe']}" in out  # printed once at the start
    assert (run_dir / "params.yaml").read_text().startswith("preset: smoke")
    assert sorted(p.name for p in nbdir.iterdir()) == [
        "00_first.ipynb",
        "01_second.ipynb",
        "02_third.ipynb",
        "README.ipynb",
    ], "the runner leaves nothing (kernel sockets, outputs) beside the notebooks"

    # same inputs: everything is skipped
    assert _run(nbdir, run_dir) == 0
    assert len(_log(run_dir)) == 3
    assert "skipped" in capsys.readouterr().out

    # a changed notebook re-runs alone
    _notebook(nbdir / "01_second.ipynb", LOG.replace("{NAME}", "01"), "x = 2 + 2")
    assert _run(nbdir, run_dir) == 0
    assert [line.split()[0] for line in _log(run_dir)[3:]] == ["01"]

    # --only selects by number; --force re-executes
    assert _run(nbdir, run_dir, "--only", "2", "--force") == 0
    assert [line.split()[0] for line in _log(run_dir)[4:]] == ["02"]


def test_failure_stops_reports_and_resumes(nbdir, tmp_path, capsys):
    _notebook(
        nbdir / "01_second.ipynb", LOG.replace("{NAME}", "01"), "raise ValueError('bad value 42')"
    )
    run_dir = tmp_path / "run"
    assert _run(nbdir, run_dir) == 1
    captured = capsys.readouterr()
    assert "ValueError: bad value 42" in captured.out
    assert str(run_dir / "notebooks" / "01_second.ipynb") in captured.out + captured.err
    assert [line.split()[0] for line in _log(run_dir)] == ["00", "01"]  # 02 never ran
    failed = nbformat.read(run_dir / "notebooks" / "01_second.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed.cells for o in c.get("outputs", []))

    # fixed: the re-run resumes at the failed notebook
    _notebook(nbdir / "01_second.ipynb", LOG.replace("{NAME}", "01"))
    assert _run(nbdir, run_dir) == 0
    assert [line.split()[0] for line in _log(run_dir)] == ["00", "01", "01", "02"]


def test_finished_run_with_other_parameters_is_refused_unless_force(nbdir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert _run(nbdir, run_dir, "--only", "00") == 0
    assert _run(nbdir, run_dir, "--only", "00", "-p", "seed=3") == 2
    assert "other parameters" in capsys.readouterr().err
    assert _run(nbdir, run_dir, "--only", "00", "-p", "seed=3", "--force") == 0
    assert "seed: 3" in (run_dir / "params.yaml").read_text()
    assert "{'seed': 3}" in _log(run_dir)[-1]  # overrides injected as a dict


def test_bad_arguments_are_clear(nbdir, tmp_path, capsys):
    assert _run(nbdir, tmp_path / "r", "--only", "07") == 2
    assert "--only 07: no such notebook" in capsys.readouterr().err
    assert _run(nbdir, tmp_path / "r", "-p", "data.n_trian=3") == 2
    assert "did you mean 'data.n_train'" in capsys.readouterr().err
    assert run_main(["--preset", "nope", "--run-dir", str(tmp_path / "r")]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err


def test_only_accepts_numbers_and_names(nbdir):
    from mathlab.runner import discover_notebooks

    for spelling in ["1", "01", "01_second", "01_second.ipynb"]:
        assert [p.name for p in discover_notebooks(nbdir, [spelling])] == ["01_second.ipynb"]


def test_printed_lines_stream_prefixed_unless_quiet(tmp_path, capsys):
    d = tmp_path / "nbs"
    d.mkdir()
    _notebook(
        d / "00_talk.ipynb", "import sys\nprint('step 1 of 2')\nprint('warned', file=sys.stderr)"
    )
    args = ["--preset", "smoke", "--notebooks-dir", str(d)]
    assert run_main([*args, "--run-dir", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "[00_talk] step 1 of 2\n" in err and "[00_talk] warned\n" in err
    assert run_main([*args, "--run-dir", str(tmp_path / "b"), "--quiet"]) == 0
    assert "step 1 of 2" not in capsys.readouterr().err


def test_kernel_is_stopped_after_each_notebook(tmp_path):
    import os

    d = tmp_path / "nbs"
    d.mkdir()
    _notebook(
        d / "00_pid.ipynb",
        f"import os\nopen({str(tmp_path / 'pid')!r}, 'w').write(str(os.getpid()))",
    )
    assert (
        run_main(["--preset", "smoke", "--notebooks-dir", str(d), "--run-dir", str(tmp_path / "r")])
        == 0
    )
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
