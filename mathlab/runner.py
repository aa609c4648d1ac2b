"""`mathlab run`: execute the numbered notebooks headless, in order, into a run folder.

    mathlab run --preset cpu [--run-dir runs/NAME] [--only 02,03] [--force] [-p sft.lr=1e-4]

- Notebooks `notebooks/NN_*.ipynb` run in order through papermill into
  `RUN_DIR/notebooks/`, with a kernel started from *this* interpreter (no registered
  kernelspec needed). Each gets the parameters `preset` and `run_dir` (and `overrides`,
  a dict of `-p key=value` pairs, when given).
- A notebook already completed with the same inputs (its source, the resolved config and
  the mathlab package source) is skipped, so a re-run after a failure resumes where it
  stopped. `--force` re-executes.
- On failure: stop, print the failed notebook's path and the failing cell's error, exit 1.
- A run folder that finished with other parameters is refused unless `--force`.
- At the end: a table of wall time and peak memory per notebook; `provenance.json`
  (git SHA, pip freeze, CPU model, threads, times, and `precision`: the CPU's speed-relevant
  flags, torch's kernel level, a matmul probe and the bf16 decision of `mathlab.precision`)
  in the run folder. The precision line is printed once at the start of a run.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathlab.config import ConfigError, load_config, parse_override
from mathlab.paths import default_run_dir, repo_root
from mathlab.precision import PrecisionError, check_env
from mathlab.runs import atomic_write_json, atomic_write_text

STATE_DIR = ".state"


@dataclass
class NotebookResult:
    name: str
    status: str  # ran | skipped | failed | not run
    wall_s: float = 0.0
    peak_mb: float = 0.0
    output: Path | None = None
    error: str = ""


@dataclass
class RunSummary:
    run_dir: Path
    results: list[NotebookResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status in ("ran", "skipped") for r in self.results)


# --------------------------------------------------------------------------- discovery
def discover_notebooks(notebooks_dir: Path, only: list[str] | None = None) -> list[Path]:
    found = sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if only:
        # "6", "06", "06_rfft" and "06_rfft.ipynb" all name notebook 06
        wanted = {o.strip().split("_")[0].zfill(2) for o in only if o.strip()}
        known = {p.name[:2] for p in found}
        unknown = sorted(wanted - known)
        if unknown:
            raise ConfigError(
                f"--only {','.join(unknown)}: no such notebook in {notebooks_dir} "
                f"(have: {', '.join(sorted(known)) or 'none'})"
            )
        found = [p for p in found if p.name[:2] in wanted]
    return found


# --------------------------------------------------------------------------- hashing
def package_source_hash() -> str:
    """Hash of the mathlab package's .py files: a code change re-runs notebooks."""
    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for path in sorted(pkg.rglob("*.py")):
        h.update(str(path.relative_to(pkg)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def notebook_source_hash(path: Path) -> str:
    """Hash of a notebook's cell sources and tags (outputs and ids ignored)."""
    nb = json.loads(path.read_text())
    cells = [
        (c.get("cell_type"), "".join(c.get("source", "")), c.get("metadata", {}).get("tags", []))
        for c in nb.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]


def inputs_hash(
    nb_path: Path, resolved: dict[str, Any], parameters: dict[str, Any], code_hash: str
) -> str:
    blob = json.dumps(
        {
            "nb": notebook_source_hash(nb_path),
            "config": resolved,
            "params": parameters,
            "code": code_hash,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- kernel
def _kernel_manager(spec_root: Path):
    """A KernelManager whose kernel is this interpreter's ipykernel, whatever is registered."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = spec_root / "mathlab-run"
    spec_dir.mkdir()
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "mathlab (runner)",
                "language": "python",
            }
        )
    )
    ksm = KernelSpecManager(kernel_dirs=[str(spec_root)])
    ksm.ensure_native_kernel = False
    # ipc sockets live beside the spec, not in the notebook's working directory
    return KernelManager(
        kernel_name="mathlab-run",
        kernel_spec_manager=ksm,
        transport="ipc",
        ip=str(spec_root / "kernel-ipc"),
    )


class _PeakMemory:
    """Polls the RSS of this process's children (the kernel and what it spawns)."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peak, self._stop = interval, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            try:
                for child in me.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            self.peak = max(self.peak, total / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)


# --------------------------------------------------------------------------- provenance
def _git_sha(root: Path) -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return "unknown (not a git checkout or no commits)"
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(root: Path) -> dict[str, Any]:
    freeze = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    )
    try:
        import torch

        threads = torch.get_num_threads()
        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        threads, torch_version = None, None
    from mathlab.precision import cpu_precision

    return {
        "git_sha": _git_sha(root),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "torch": torch_version,
        # CPU flags relevant to speed, torch's kernel level, matmul probe, bf16 decision
        "precision": cpu_precision().to_dict(),
        "pip_freeze": freeze,
    }


# --------------------------------------------------------------------------- running
def _first_error_line(exc: Exception) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    where = f"cell [{cell}]: " if cell is not None else ""
    return f"{where}{ename}: {evalue}"


def run_notebooks(
    preset: str = "cpu",
    run_dir: str | Path | None = None,
    only: list[str] | None = None,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    notebooks_dir: str | Path | None = None,
    log=print,
    stream: bool = False,
) -> RunSummary:
    root = repo_root()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else root / "notebooks"
    cfg = load_config(preset, overrides)  # validates preset and overrides before anything runs
    check_env()  # a bad MATHLAB_CPU_BF16 fails here, not in every notebook
    resolved = cfg.to_dict()
    run_dir = Path(run_dir) if run_dir else default_run_dir(cfg.preset)
    run_dir = run_dir.resolve()
    notebooks = discover_notebooks(notebooks_dir, only)

    params_file = run_dir / "params.yaml"
    new_params = cfg.to_yaml()
    finished = (
        any(
            json.loads(p.read_text()).get("status") == "completed"
            for p in (run_dir / STATE_DIR).glob("*.json")
        )
        if (run_dir / STATE_DIR).is_dir()
        else False
    )
    if finished and params_file.exists() and params_file.read_text() != new_params and not force:
        raise ConfigError(
            f"{run_dir} already holds a run with other parameters ({params_file}); "
            "use another --run-dir, or --force to re-run it with the new parameters"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(params_file, new_params)
    (run_dir / "notebooks").mkdir(exist_ok=True)
    (run_dir / STATE_DIR).mkdir(exist_ok=True)

    # inherited by the kernels: line-friendly progress, no GUI backend (restored afterwards)
    saved_env = dict(os.environ)
    os.environ["MATHLAB_HEADLESS"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return _run_all(
            notebooks, run_dir, cfg, resolved, preset, overrides, force, root, log, stream
        )
    finally:
        os.environ.clear()
        os.environ.update(saved_env)


def _run_all(
    notebooks, run_dir, cfg, resolved, preset, overrides, force, root, log, stream=False
) -> RunSummary:
    code_hash = package_source_hash()
    parameters: dict[str, Any] = {"preset": preset, "run_dir": str(run_dir)}
    if overrides:
        parameters["overrides"] = dict(overrides)
    started = time.time()
    summary = RunSummary(run_dir)
    prov = provenance(root)
    log(f"cpu: {prov['precision']['describe']}")
    prov.update(
        preset=cfg.preset, run_dir=str(run_dir), started=time.strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    ctx = _RunContext(run_dir, resolved, parameters, code_hash, force, prov, log, stream)

    failed = False
    for nb in notebooks:
        if failed:
            summary.results.append(NotebookResult(nb.stem, "not run"))
            continue
        result = _run_one(nb, ctx)
        summary.results.append(result)
        failed = result.status == "failed"

    prov.update(
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        wall_s=round(time.time() - started, 1),
        notebooks={
            r.name: {"status": r.status, "wall_s": r.wall_s, "peak_mb": r.peak_mb}
            for r in summary.results
        },
    )
    atomic_write_json(run_dir / "provenance.json", prov)
    return summary


@dataclass
class _RunContext:
    """What every notebook of one run shares: where it writes, the inputs its skip check
    hashes, --force, the run's provenance, the log, whether to stream kernel output."""

    run_dir: Path
    resolved: dict[str, Any]
    parameters: dict[str, Any]
    code_hash: str
    force: bool
    prov: dict[str, Any]
    log: Any
    stream: bool


def _run_one(nb: Path, ctx: _RunContext) -> NotebookResult:
    """Run one notebook (or skip it: completed before with the same inputs) and record it
    in the run's state folder."""
    name, log = nb.stem, ctx.log
    out = ctx.run_dir / "notebooks" / nb.name
    state_path = ctx.run_dir / STATE_DIR / f"{name}.json"
    digest = inputs_hash(nb, ctx.resolved, ctx.parameters, ctx.code_hash)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if (
        not ctx.force
        and state.get("status") == "completed"
        and state.get("hash") == digest
        and out.exists()
    ):
        log(
            f"[{name}] skipped: completed before with the same inputs ({state.get('wall_s', 0):.0f} s then)"
        )
        return NotebookResult(
            name, "skipped", state.get("wall_s", 0.0), state.get("peak_mb", 0.0), out
        )
    log(f"[{name}] running -> {out}")
    t0 = time.time()
    with _PeakMemory() as mem:
        try:
            stream = _Prefixed(name) if ctx.stream else None
            _execute(nb, out, ctx.parameters, cwd=nb.parent, stream=stream)
            status, error = "ran", ""
        except Exception as exc:  # papermill/nbclient errors carry the cell's error
            status, error = "failed", _first_error_line(exc)
    wall = time.time() - t0
    result = NotebookResult(name, status, round(wall, 1), round(mem.peak, 1), out, error)
    if status == "ran":
        atomic_write_json(
            state_path,
            {
                "status": "completed",
                "hash": digest,
                "wall_s": result.wall_s,
                "peak_mb": result.peak_mb,
                "finished": time.time(),
                "git_sha": ctx.prov.get("git_sha"),
                "cpu": ctx.prov["precision"]["describe"],
            },
        )
        log(f"[{name}] done in {wall:.1f} s (peak {mem.peak:.0f} MiB)")
    else:
        state_path.unlink(missing_ok=True)
        log(f"[{name}] FAILED after {wall:.1f} s: {error}")
        log(f"[{name}] the executed notebook with the failing cell: {out}")
    return result


class _Prefixed:
    """A file-like sink for a kernel's stdout/stderr: whole lines, prefixed `[name] `, to stderr.

    The kernels run headless (MATHLAB_HEADLESS=1), so their progress is a few plain lines
    (mathlab.progress): streaming them shows where a long notebook is without opening it.
    """

    def __init__(self, name: str, sink=None):
        self.prefix, self.sink, self.buf = f"[{name}] ", sink, ""

    def write(self, text: str) -> int:
        self.buf += text.replace("\r", "\n")
        *lines, self.buf = self.buf.split("\n")
        out = self.sink or sys.stderr
        for line in lines:
            if line.strip():
                out.write(self.prefix + line + "\n")
        return len(text)

    def flush(self) -> None:
        (self.sink or sys.stderr).flush()


def _execute(
    nb: Path, out: Path, parameters: dict[str, Any], cwd: Path, stream: _Prefixed | None = None
) -> None:
    import papermill as pm

    with tempfile.TemporaryDirectory(prefix="mathlab-kernel-") as spec_root:
        km = _kernel_manager(Path(spec_root))
        try:
            _papermill(pm, nb, out, parameters, cwd, km, stream)
        finally:  # nbclient leaves a kernel it did not create running: stop it here
            _shutdown(km)


def _shutdown(km) -> None:
    try:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001 - the kernel may be gone already
        pass


def _papermill(
    pm, nb: Path, out: Path, parameters: dict[str, Any], cwd: Path, km, stream=None
) -> None:
    pm.execute_notebook(
        str(nb),
        str(out),
        parameters=parameters,
        kernel_name="mathlab-run",
        km=km,
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
        report_mode=False,
        stdout_file=stream,
        stderr_file=stream,
    )


def format_table(summary: RunSummary) -> str:
    rows = [("notebook", "status", "wall s", "peak MiB")]
    for r in summary.results:
        rows.append((r.name, r.status, f"{r.wall_s:.1f}", f"{r.peak_mb:.0f}" if r.peak_mb else "-"))
    total = sum(r.wall_s for r in summary.results if r.status == "ran")
    rows.append(("total (ran)", "", f"{total:.1f}", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mathlab run", description="Execute the notebooks headless."
    )
    parser.add_argument(
        "--preset", default="cpu", help="params/<preset>.yaml (smoke, cpu, gpu) or a YAML path"
    )
    parser.add_argument("--run-dir", default=None, help="run folder (default runs/<preset>)")
    parser.add_argument(
        "--only", default=None, help="notebook numbers, comma-separated (e.g. 02,03)"
    )
    parser.add_argument(
        "--force", action="store_true", help="re-run completed notebooks; accept new parameters"
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. -p sft.lr=1e-4 (repeatable)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="do not stream the notebooks' printed lines and progress (prefixed [name]) to stderr",
    )
    parser.add_argument("--notebooks-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        overrides = dict(parse_override(p) for p in args.param)
        summary = run_notebooks(
            preset=args.preset,
            run_dir=args.run_dir,
            only=args.only.split(",") if args.only else None,
            force=args.force,
            overrides=overrides or None,
            notebooks_dir=args.notebooks_dir,
            stream=not args.quiet,
        )
    except (ConfigError, PrecisionError) as exc:
        print(f"mathlab run: {exc}", file=sys.stderr)
        return 2
    print()
    print(format_table(summary))
    print(f"\nResults: {summary.run_dir}")
    if not summary.ok:
        failed = next(r for r in summary.results if r.status == "failed")
        print(f"FAILED: {failed.name}: {failed.error}\n  see {failed.output}", file=sys.stderr)
        return 1
    return 0
