"""Run model-written Python (Program-of-Thought, tool-integrated reasoning) in a jail.

    >>> from mathlab.sandbox import run_code
    >>> run_code("print(2 + 3)").stdout                        # doctest: +SKIP
    '5\\n'
    >>> r = run_code("while True: pass", timeout=1)            # doctest: +SKIP
    >>> r.ok, r.timed_out, r.error                             # doctest: +SKIP
    (False, True, 'TimeoutError: wall-clock limit of 1 s exceeded')

A misbehaving program (infinite loop, fork bomb, memory bomb, a gigabyte of output, file
or network access, killing its parent...) costs one failed `SandboxResult`, never the run.
Each call starts a fresh process tree in its own Linux namespaces (see
`_sandbox_child.py` for the mechanics):

* user namespace whose only uid is nobody (host uid 65534 when we run as root), so the
  program has no privilege on the host and RLIMIT_NPROC applies (it does not for root);
* pid namespace: the program sees only itself, cannot signal anything outside, and the
  whole tree dies with the namespace's init on timeout;
* net namespace with no interfaces up: no network at all, not even 127.0.0.1;
* mount namespace: a fresh read-only root holding only the system and Python directories,
  a private /proc, a size-capped tmpfs /tmp as the working directory (gone with the
  namespace: nothing is ever written to the host disk), /root, /home, /work, /run hidden;
* ipc, uts and cgroup namespaces;
* rlimits (address space, CPU time, processes+threads, file size, no core dumps),
  no_new_privs, Landlock (read-only filesystem except /tmp, no TCP, no signals outside) and
  a seccomp deny-list (namespaces, mount, ptrace, bpf, keyrings, kernel modules...);
* when we are root on cgroup v1 (as on these machines), a memory cgroup per run that caps
  the whole process tree and its /tmp together (rlimits alone cap each process);
* a scrubbed environment (PATH, LANG, HOME=/tmp, PYTHONHASHSEED... nothing inherited),
  stdin from /dev/null, stdout/stderr capped (the program is stopped when it exceeds the cap).

Where this cannot be set up (not Linux, user namespaces disabled, ...) `run_code` raises
`SandboxUnavailable` instead of running anything unconfined. `isolation_status()` says what
is active. `SandboxPool` / `run_many` run many programs in parallel (threads over
subprocesses: each program is already its own process tree).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = [
    "IsolationStatus",
    "SandboxPool",
    "SandboxResult",
    "SandboxUnavailable",
    "isolation_status",
    "run_code",
    "run_many",
]

MAX_OUTPUT = 64 * 1024  # bytes kept of stdout, and of stderr; more stops the program
_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox_child.py")
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_SIGNAL_ERRORS = {
    "SIGXCPU": "CPU time limit exceeded",
    "SIGXFSZ": "file size limit exceeded",
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGSYS": "forbidden system call",
}


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up here; nothing was run."""


@dataclass
class SandboxResult:
    """What one program did. `ok` means: exited 0, within every limit, output complete."""

    ok: bool
    stdout: str
    error: str | None = None  # one line: the exception, the signal or the limit hit
    stderr: str = ""
    exit_code: int | None = None  # None when killed by a signal
    signal: int | None = None
    timed_out: bool = False
    truncated: bool = False  # output cap hit: the program was stopped
    wall_s: float = 0.0


@dataclass
class IsolationStatus:
    available: bool
    reason: str | None = None  # why not, when unavailable
    layers: list[str] = field(default_factory=list)
    kernel: str = ""
    python: str = sys.executable

    def __str__(self) -> str:
        if not self.available:
            return f"sandbox unavailable: {self.reason}"
        return "\n".join(
            [f"sandbox active (kernel {self.kernel}):"] + [f"  - {layer}" for layer in self.layers]
        )


# ---------------------------------------------------------------------------------------------


def _inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _binds() -> list[tuple[str, str]]:
    """(path, kind) of what the program sees: kind is dir, file, symlink or dev."""
    out: list[tuple[str, str]] = []
    covered: list[str] = []
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            out.append((d, "symlink"))
        elif os.path.isdir(d):
            out.append((d, "dir"))
            covered.append(os.path.realpath(d))
    wanted = {
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    for p in sorted(os.path.abspath(p) for p in wanted):
        if not os.path.isdir(p) or _inside(os.path.realpath(p), covered) or _inside(p, covered):
            continue
        out.append((p, "dir"))
        covered.append(p)
    out += [(d, "dev") for d in _DEVICES if os.path.exists(d)]
    return out


def _python_flags() -> list[str]:
    # Like -I (no user site, script directory not on sys.path) but honouring the
    # environment we set ourselves (PYTHONHASHSEED): nothing of the parent's env gets in.
    return ["-s", "-P", "-B"] if sys.version_info >= (3, 11) else ["-s", "-B"]


def _env(hash_seed: int) -> dict[str, str]:
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    return {
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "USER": "nobody",
        "PYTHONHASHSEED": str(hash_seed),
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
    }


def _error_line(stderr: str) -> str | None:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else None


_memcg: str | None = None  # cgroup-v1 memory directory we make one child in per run
_memcg_ids = itertools.count()
_MEMCG_PREFIX = "mathlab-sandbox-"


def _find_memcg() -> str | None:
    """Our own cgroup-v1 memory directory, when we (root) may create children in it."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and "memory" in parts[1].split(","):
            base = os.path.join("/sys/fs/cgroup/memory", parts[2].lstrip("/"))
            if os.path.isfile(f"{base}/memory.limit_in_bytes") and os.access(base, os.W_OK):
                return base
    return None  # cgroup v2 needs a delegated subtree: not attempted


def _make_memcg(base: str, limit_mb: int) -> str:
    path = f"{base}/{_MEMCG_PREFIX}{os.getpid()}-{next(_memcg_ids)}"
    os.mkdir(path)
    try:
        with open(f"{path}/memory.limit_in_bytes", "w") as f:
            f.write(str(limit_mb << 20))
    except OSError:
        _remove_memcg(path)
        raise
    return path


def _remove_memcg(path: str) -> None:
    for _ in range(100):  # empty once the launcher is reaped; retry a short race
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def _oom_killed(path: str) -> bool:
    try:
        with open(f"{path}/memory.oom_control") as f:
            return any(ln.startswith("oom_kill ") and ln.split()[1] != "0" for ln in f)
    except OSError:
        return False


def _clean_stale_memcgs(base: str) -> None:
    """Remove the empty cgroups a killed parent process left behind."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if name.startswith(_MEMCG_PREFIX):
            pid = name[len(_MEMCG_PREFIX) :].split("-")[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                try:
                    os.rmdir(os.path.join(base, name))
                except OSError:
                    pass


def _spawn(code: str, cfg: dict, timeout: float, max_output: int) -> tuple[SandboxResult, list]:
    memcg = None
    if _memcg and cfg.get("memcg_mb"):
        memcg = _make_memcg(_memcg, cfg["memcg_mb"])
    try:
        return _spawn_in(code, cfg, timeout, max_output, memcg)
    finally:
        if memcg:
            _remove_memcg(memcg)


def _spawn_in(
    code: str, cfg: dict, timeout: float, max_output: int, memcg: str | None
) -> tuple[SandboxResult, list]:
    proc, status_r, t0 = _launch(cfg, timeout, memcg)
    try:
        pipes = _Pipes(proc, status_r, code, max_output)
        # The launcher enforces `timeout` itself; this is the backstop if it cannot.
        pipes.exchange(deadline=t0 + timeout + 2.0 + 0.1 * timeout)
    except BaseException:
        _killpg(proc)
        proc.wait()
        raise
    finally:
        os.close(status_r)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            f.close()
    wall = time.monotonic() - t0
    events = [
        json.loads(line)
        for line in pipes.stat.decode(errors="replace").splitlines()
        if line.startswith("{")
    ]
    st: dict = {}
    for e in events:
        st.update(e)
    _check_launcher(st, pipes, proc.returncode)
    stderr = pipes.err.decode("utf-8", errors="replace")
    exit_code, sig = st.get("exit_code"), st.get("signal")
    # init reports the program's end unless it was killed first: a report means the program
    # finished before the clock ran out, however close the race.
    finished = exit_code is not None or sig is not None
    timed_out = (bool(st.get("timed_out")) or pipes.hard_killed) and not finished
    if timed_out:
        error = f"TimeoutError: wall-clock limit of {timeout:g} s exceeded"
    elif pipes.truncated:
        error = f"OutputLimitExceeded: more than {max_output} bytes of output"
    elif not finished:
        error = f"sandbox stopped unexpectedly (launcher exit {proc.returncode})"
    elif sig is not None:
        error = _signal_error(sig, memcg, cfg.get("memcg_mb"))
    elif exit_code:
        error = _error_line(stderr) or f"exit code {exit_code}"
    else:
        error = None
    result = SandboxResult(
        ok=error is None and exit_code == 0,
        stdout=pipes.out.decode("utf-8", errors="replace"),
        error=error,
        stderr=stderr,
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        truncated=pipes.truncated,
        wall_s=wall,
    )
    return result, events


def _launch(cfg: dict, timeout: float, memcg: str | None) -> tuple[subprocess.Popen, int, float]:
    """Start the launcher (`_sandbox_child.py`) on `cfg`: the process, the read end of its
    status pipe and the time it was started."""
    status_r, status_w = os.pipe()
    cfg = {**cfg, "status_fd": status_w, "timeout": timeout}
    if memcg:
        cfg["cgroup_procs"] = f"{memcg}/cgroup.procs"
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", _CHILD, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(status_w,),
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except BaseException:
        os.close(status_r)
        raise
    finally:
        os.close(status_w)
    return proc, status_r, t0


class _Pipes:
    """The launcher's pipes: the program's source goes to its stdin; its stdout and stderr
    (each kept up to `max_output` bytes) and its status reports (`stat`) are read until
    they close. Output past the cap stops the program (`truncated`)."""

    def __init__(self, proc: subprocess.Popen, status_r: int, code: str, max_output: int):
        self.proc, self.status_r, self.max_output = proc, status_r, max_output
        self.out, self.err, self.stat = bytearray(), bytearray(), bytearray()
        self.truncated = self.hard_killed = False
        self._bufs = {proc.stdout.fileno(): self.out, proc.stderr.fileno(): self.err}
        self._bufs[status_r] = self.stat
        self._source = memoryview(code.encode("utf-8", errors="surrogatepass"))
        self._stdin_fd = proc.stdin.fileno()

    def exchange(self, deadline: float) -> None:
        """Run the pipes until they all close; past `deadline` kill the launcher's group
        (`hard_killed`) and give it 2 s more. Then reap the launcher."""
        sel = selectors.DefaultSelector()
        for fd in self._bufs:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        os.set_blocking(self._stdin_fd, False)
        sel.register(self._stdin_fd, selectors.EVENT_WRITE)
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if self.hard_killed:
                    break
                _killpg(self.proc)
                self.hard_killed = True
                deadline = time.monotonic() + 2.0
                continue
            for key, _ in sel.select(remaining):
                if key.fd == self._stdin_fd:
                    self._write(sel)
                else:
                    self._read(sel, key.fd)
        sel.close()
        try:
            self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            _killpg(self.proc)
            self.proc.wait()

    def _write(self, sel: selectors.BaseSelector) -> None:
        try:
            self._source = self._source[os.write(self._stdin_fd, self._source[:65536]) :]
        except BlockingIOError:
            return
        except BrokenPipeError:
            self._source = self._source[:0]
        if not self._source:
            sel.unregister(self._stdin_fd)
            self.proc.stdin.close()

    def _read(self, sel: selectors.BaseSelector, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if not data:
            sel.unregister(fd)
            return
        buf = self._bufs[fd]
        room = (1 << 20 if fd == self.status_r else self.max_output) - len(buf)
        buf += data[: max(room, 0)]
        if len(data) > room and fd != self.status_r and not self.truncated:
            self.truncated = True
            try:
                self.proc.send_signal(signal.SIGTERM)  # the launcher kills the namespace
            except ProcessLookupError:
                pass


def _check_launcher(st: dict, pipes: _Pipes, returncode: int) -> None:
    """Raise SandboxUnavailable when the sandbox, not the program, failed."""
    if "setup_error" in st:
        raise SandboxUnavailable(f"sandbox setup failed: {st['setup_error']}")
    if (
        "exit_code" not in st
        and "signal" not in st
        and not (
            st.get("timed_out") or st.get("terminated") or pipes.truncated or pipes.hard_killed
        )
        and returncode >= 0  # a killed launcher counts against the program, not us
    ):
        raise SandboxUnavailable(
            f"sandbox launcher failed (exit {returncode}): {pipes.err.decode(errors='replace')[-500:]}"
        )


def _signal_error(sig: int, memcg: str | None, memcg_mb: int | None) -> str:
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    error = f"killed by {name}"
    if sig == signal.SIGKILL and memcg and _oom_killed(memcg):
        error += f" (out of memory: {memcg_mb} MiB for the whole program)"
    elif name in _SIGNAL_ERRORS:
        error += f" ({_SIGNAL_ERRORS[name]})"
    return error


def _killpg(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _config(memory_mb: int, cpu_s: float, max_processes: int, disk_mb: int, hash_seed: int) -> dict:
    return {
        "binds": _binds(),
        "python": os.path.abspath(sys.executable),
        "python_flags": _python_flags(),
        "env": _env(hash_seed),
        "memory_mb": int(memory_mb),
        "cpu_s": max(1, math.ceil(cpu_s)),
        "max_processes": int(max_processes),
        "disk_mb": int(disk_mb),
        # all processes + /tmp, when a memory cgroup is available (see _find_memcg)
        "memcg_mb": int(memory_mb) + int(disk_mb) + 64,
    }


# memory_mb, cpu_s, max_processes, disk_mb, hash_seed: run_code's defaults (timeout 5 s)
_DEFAULTS = (512, 6, 16, 64, 0)
_status: IsolationStatus | None = None
_status_lock = threading.Lock()


def isolation_status(refresh: bool = False) -> IsolationStatus:
    """Probe (once per process) whether the sandbox works here and which layers are on."""
    global _status
    with _status_lock:
        if _status is not None and not refresh:
            return _status
        _status = _probe()
        return _status


def _probe() -> IsolationStatus:
    kernel = os.uname().release if hasattr(os, "uname") else ""
    if not sys.platform.startswith("linux"):
        return IsolationStatus(
            False, f"needs Linux namespaces; this is {sys.platform}", kernel=kernel
        )
    if os.uname().machine not in ("x86_64", "aarch64"):
        return IsolationStatus(
            False, f"unsupported architecture {os.uname().machine}", kernel=kernel
        )
    global _memcg
    _memcg = _find_memcg()
    if _memcg:
        _clean_stale_memcgs(_memcg)
    cfg = {**_config(*_DEFAULTS), "report_layers": True}
    check = "import os; print(os.getuid(), os.getppid(), len(os.listdir('/proc/self/task')))"
    try:
        try:
            res, events = _spawn(check, cfg, timeout=20.0, max_output=MAX_OUTPUT)
        except (SandboxUnavailable, OSError):
            if not _memcg:
                raise
            _memcg = None  # the cgroup layer is optional: try without it
            res, events = _spawn(check, cfg, timeout=20.0, max_output=MAX_OUTPUT)
    except (SandboxUnavailable, OSError) as exc:
        return IsolationStatus(False, str(exc), kernel=kernel)
    if not res.ok or res.stdout.split()[:2] != ["65534", "1"]:
        return IsolationStatus(
            False, f"probe program failed: {res.error or res.stdout!r}", kernel=kernel
        )
    host_uid = "65534 (nobody)" if os.geteuid() == 0 else f"{os.geteuid()} (yours)"
    layers = [
        f"user namespace: the program runs as uid 65534 (host uid {host_uid}), without "
        "capabilities on the host; RLIMIT_NPROC applies",
        "pid namespace: sees and signals only its own processes; killed as a whole",
        "net namespace: no network interface up (no network, not even loopback)",
        "ipc, uts and cgroup namespaces",
    ]
    for e in events:
        layers += e.get("layers", [])
    if _memcg:
        layers.append(
            "memory cgroup (v1): the whole program (all its processes and its /tmp) within "
            "memory_mb + disk_mb + 64 MiB; the kernel OOM-kills inside it, not on the host"
        )
    else:
        layers.append(
            "no memory cgroup (needs root and cgroup v1): memory is bounded per process "
            "only, memory_mb x max_processes in all"
        )
    layers.append(
        "scrubbed environment, stdin from /dev/null, stdout/stderr capped at "
        f"{MAX_OUTPUT // 1024} KiB each"
    )
    return IsolationStatus(True, None, layers=layers, kernel=kernel)


def run_code(
    code: str,
    timeout: float = 5.0,
    memory_mb: int = 512,
    *,
    max_output: int = MAX_OUTPUT,
    max_processes: int = 16,
    disk_mb: int = 64,
    cpu_s: float | None = None,
    hash_seed: int = 0,
) -> SandboxResult:
    """Run `code` with `python` in a fresh sandbox; wait at most `timeout` seconds.

    memory_mb: address-space limit per process; max_processes: processes+threads the
    program may have at once; disk_mb: size of its tmpfs working directory (/tmp) and the
    largest file; cpu_s: CPU seconds per process (default: the timeout rounded up, + 1);
    max_output: bytes kept of stdout and of stderr, beyond which the program is stopped.
    Raises SandboxUnavailable (never runs unconfined) when isolation cannot be set up.
    """
    if not (timeout > 0 and memory_mb > 0 and max_processes > 0 and disk_mb > 0 and max_output > 0):
        raise ValueError("timeout, memory_mb, max_processes, disk_mb and max_output must be > 0")
    status = isolation_status()
    if not status.available:
        raise SandboxUnavailable(status.reason)
    cfg = _config(
        memory_mb, cpu_s if cpu_s is not None else timeout + 1, max_processes, disk_mb, hash_seed
    )
    return _spawn(code, cfg, float(timeout), int(max_output))[0]


class SandboxPool:
    """Run many programs, `workers` at a time, each in its own sandbox.

    with SandboxPool(workers=4) as pool:
        results = pool.map(codes, timeout=5)
    """

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, (os.cpu_count() or 2))
        self._ex = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox")

    def map(self, codes: Iterable[str], **kwargs) -> list[SandboxResult]:
        return list(self._ex.map(lambda c: run_code(c, **kwargs), codes))

    def submit(self, code: str, **kwargs):
        return self._ex.submit(run_code, code, **kwargs)

    def close(self) -> None:
        self._ex.shutdown(wait=True)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_many(codes: Iterable[str], workers: int | None = None, **kwargs) -> list[SandboxResult]:
    """`run_code` over `codes`, `workers` at a time; results in input order."""
    isolation_status()  # probe once, before the threads start
    with SandboxPool(workers) as pool:
        return pool.map(codes, **kwargs)
