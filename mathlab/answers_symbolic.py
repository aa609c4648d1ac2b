"""math-verify in worker processes with a hard wall-clock timeout: the symbolic back end
of :mod:`mathlab.answers`.

math-verify's own timeout uses ``signal.alarm``, which only works in the main thread and
would cancel any alarm of the caller, so it is disabled (``parsing_timeout=None``,
``timeout_seconds=None``) and a worker that overruns is killed and replaced. A timed-out
comparison is reported as such (None), never a hang, and grading is safe from any thread.

This module imports nothing from mathlab: a worker process loads this file alone (no
re-import of the caller's ``__main__``, no torch), reads one JSON request per line and
answers one per line.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

SYMBOLIC_WORKERS = max(1, min(4, os.cpu_count() or 1))
"""At most this many math-verify worker processes run at once (more threads queue)."""

_STARTUP_TIMEOUT_S = 120.0
_WORKER_MEMORY_BYTES = 4 << 30

_WORKER_BOOT = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_mathlab_answers_worker', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module._worker_main()\n"
)


def _mv_parse(s: str) -> list:
    """math-verify's parse of a normalised answer, without its signal-based timeout."""
    from math_verify import parse

    latex = s.replace("%", "\\%")
    parsed = parse(f"${latex}$", parsing_timeout=None)
    if not any(not isinstance(p, str) for p in parsed):
        parsed = parse(s, parsing_timeout=None) or parsed
    return parsed


def _worker_task(request: dict[str, Any]) -> dict[str, Any]:
    from math_verify import verify

    gold = _mv_parse(request["gold"])
    gold_ok = any(not isinstance(g, str) for g in gold)
    if request["op"] == "gold" or not gold_ok:
        return {"gold_parsed": gold_ok, "equal": False}
    pred = _mv_parse(request["pred"])
    return {"gold_parsed": True, "equal": bool(verify(gold, pred, timeout_seconds=None))}


def _worker_main() -> None:  # pragma: no cover - runs in the worker process
    """Loop of a worker process: one JSON request per stdin line, one reply per line."""
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = (
            _WORKER_MEMORY_BYTES
            if hard == resource.RLIM_INFINITY
            else min(hard, _WORKER_MEMORY_BYTES)
        )
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass
    try:
        logging.disable(logging.CRITICAL)  # math-verify warns on every disabled timeout
        import math_verify  # noqa: F401
    except Exception as exc:
        out.write(json.dumps({"ready": False, "error": repr(exc)}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            reply = _worker_task(json.loads(line))
        except BaseException as exc:  # MemoryError, RecursionError, ...
            reply = {"error": repr(exc)[:200]}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class _WorkerTimeout(Exception):
    pass


class _WorkerDied(Exception):
    """The worker exited while computing (e.g. out of memory on a hostile input)."""


class _WorkerGone(Exception):
    """The worker was already dead when a request was sent: retry on a fresh one."""


class _Worker:
    """One math-verify process, spoken to over pipes; killed when a request overruns.

    A plain ``subprocess`` (not ``multiprocessing``) so that it neither re-imports the
    caller's ``__main__`` nor imports the rest of mathlab: it loads this file alone.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-c", _WORKER_BOOT, os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            close_fds=True,
        )
        self.lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._pump, name="mathlab-grader-pump", daemon=True).start()
        try:
            ready = self._receive(_STARTUP_TIMEOUT_S)
        except (_WorkerTimeout, _WorkerDied) as exc:
            self.kill()
            raise RuntimeError(f"the math-verify worker process did not start ({exc!r})") from exc
        if not ready.get("ready"):
            self.kill()
            raise RuntimeError(
                f"the math-verify worker could not import math_verify: {ready.get('error')}"
            )

    def _pump(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            for line in stdout:
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)

    def _receive(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise _WorkerTimeout from None
        if line is None:
            raise _WorkerDied
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(payload) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise _WorkerGone from None
        return self._receive(timeout)

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class _WorkerPool:
    """Up to ``size`` persistent workers shared by all threads of this process."""

    def __init__(self, size: int) -> None:
        self.pid = os.getpid()
        self.slots = threading.BoundedSemaphore(size)
        self.lock = threading.Lock()
        self.idle: list[_Worker] = []
        self.every: list[_Worker] = []

    def _take(self) -> _Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    return worker
                self.every.remove(worker)
        worker = _Worker()
        with self.lock:
            self.every.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self.lock:
            if worker in self.every:
                self.every.remove(worker)

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's reply, or None when it overran ``timeout`` (the worker is killed)."""
        with self.slots:
            for _attempt in range(2):
                worker = self._take()
                try:
                    reply = worker.request(payload, timeout)
                except _WorkerGone:
                    self._discard(worker)
                    continue
                except (_WorkerTimeout, _WorkerDied):
                    self._discard(worker)
                    return None
                with self.lock:
                    self.idle.append(worker)
                return reply
        return None

    def shutdown(self) -> None:
        with self.lock:
            workers, self.every, self.idle = self.every, [], []
        for worker in workers:
            worker.kill()


_pool: _WorkerPool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _WorkerPool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():  # a forked child gets its own pool
            _pool = _WorkerPool(SYMBOLIC_WORKERS)
        return _pool


def shutdown_symbolic_workers() -> None:
    """Stop the math-verify worker processes (they restart on the next symbolic call)."""
    with _pool_lock:
        pool = _pool
    if pool is not None and pool.pid == os.getpid():
        pool.shutdown()


atexit.register(shutdown_symbolic_workers)


def _symbolic(op: str, gold: str, pred: str, timeout: float) -> tuple[bool, bool] | None:
    """``(gold_parsed, equal)`` from math-verify, or None on timeout.

    Answers are cached per input; timeouts are not (the machine may just have been busy).
    """
    try:
        return _symbolic_cached(op, gold, pred, timeout)
    except _WorkerTimeout:
        return None


@lru_cache(maxsize=65536)
def _symbolic_cached(op: str, gold: str, pred: str, timeout: float) -> tuple[bool, bool]:
    reply = _get_pool().request({"op": op, "gold": gold, "pred": pred}, timeout)
    if reply is None:
        raise _WorkerTimeout
    if "error" in reply:  # e.g. MemoryError inside math-verify: not parsed / not equal
        logger.debug("math-verify worker error: %s", reply["error"])
        return (op != "gold", False)
    return (bool(reply["gold_parsed"]), bool(reply["equal"]))
