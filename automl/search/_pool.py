"""Warm fold processes that can be killed: folds in parallel, deadlines and memory limits kept.

Each worker receives the training part and its folds once, when it starts; a fold then costs one
small message (the unfitted pipeline and the fold number) and one back (the score). A fold still
running at its deadline is killed with its process, which is replaced before the next trial; a
fold that needs more memory than ``trial_memory_mb`` fails with MemoryError (the limit is set on
the worker's address space). A job for fold ``REFIT`` fits on every training row and sends the
fitted model back: the final fit, killable like a fold. Workers stop by themselves when the
search process is gone, so no fold keeps fitting for a run that no longer exists.

Workers are fresh interpreters (like the MLflow writer), not multiprocessing children: nothing
of the search process is forked, and the caller's ``__main__`` is never re-run in them.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from automl.metrics import Metric

from ._folds import REFIT, FoldData, FoldResult, run_fold, run_refit

GRACE_S = 1.0  # after its deadline, a fold gets this long to stop by itself before it is killed
WATCH_S = 0.5  # how often a worker checks that the search process is still there


def worker_main(req_fd: int, rep_fd: int) -> None:
    """Entry point of a worker process: serve folds until told to stop or orphaned."""
    import pickle
    import signal
    from multiprocessing.connection import Connection

    # Ctrl-C reaches the whole process group; the search process decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    conn = Connection(req_fd, writable=False)
    replies = Connection(rep_fd, readable=False)
    try:
        data, metric, main_pid, memory_mb = pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):
        return
    threading.Thread(target=_watch_parent, args=(main_pid,), daemon=True).start()
    _limit_memory(memory_mb)  # last: starting a thread reserves address space of its own
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fold, pipeline, seconds_left = job
        try:
            replies.send(run_refit(pipeline, data, seconds_left) if fold == REFIT
                         else run_fold(pipeline, data, fold, metric, seconds_left))
        except OSError:  # the search process is gone
            return


def _limit_memory(memory_mb: int | None) -> None:
    """Cap this process's address space at what it uses now plus ``memory_mb``."""
    if not memory_mb:
        return
    import resource

    try:
        with open("/proc/self/status") as fh:
            used_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return
    limit = (used_kb * 1024) + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _die_with_parent() -> None:
    """On Linux, the kernel kills this process when the search process dies, however it dies
    and whatever this one is doing: the watch thread below cannot run while a fit in C code
    holds the interpreter, and such orphans were seen fitting for minutes."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the line above: already an orphan
        os._exit(1)


def _watch_parent(main_pid: int) -> None:
    while True:
        time.sleep(WATCH_S)
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)  # the search process is gone: nobody wants this fold any more
        except PermissionError:
            pass


@dataclass(eq=False)
class _Worker:
    process: Any  # subprocess.Popen
    send: Any
    conn: Any  # replies
    loading: Any  # the thread writing the data; jobs are sent after it
    job: int | None = None  # the fold it is fitting


class PoolRunner:
    """``workers`` warm fold processes; :meth:`run` runs a trial's folds on them."""

    def __init__(self, data: FoldData, metric: Metric, workers: int, memory_mb: int | None = None):
        import pickle

        self.workers, self.memory_mb = workers, memory_mb
        # Pickled once; every worker (and a replacement after a kill) gets these bytes.
        self._payload = pickle.dumps((data, metric, os.getpid(), memory_mb),
                                     protocol=pickle.HIGHEST_PROTOCOL)
        self._pool: list[_Worker | None] = [self._spawn() for _ in range(workers)]
        self.killed = 0  # processes killed at a deadline so far (replaced by new ones)

    def _spawn(self) -> _Worker:
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        code = f"from automl.search._pool import worker_main; worker_main({req_r}, {rep_w})"
        debug = os.environ.get("AUTOML_DEBUG") == "1"
        out = None if debug else subprocess.DEVNULL
        # -P: the working directory is not on sys.path, so nothing there is imported.
        process = subprocess.Popen([sys.executable, "-P", "-c", code], pass_fds=(req_r, rep_w),
                                   env=_worker_env(), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=out)
        os.close(req_r)
        os.close(rep_w)
        send = Connection(req_w, readable=False)
        # The pipe holds 64 KiB: writing the data blocks until the new interpreter reads it
        # (after its imports), so a thread writes it and the search goes on meanwhile.
        loading = threading.Thread(target=_send_quietly, args=(send, self._payload), daemon=True)
        loading.start()
        return _Worker(process, send, Connection(rep_r, writable=False), loading)

    def run(self, jobs: list[tuple[int, Any]], seconds_left: float | None) -> list[FoldResult]:
        """Run ``(fold, pipeline)`` jobs, at most ``workers`` at a time, within ``seconds_left``."""
        deadline = None if seconds_left is None else time.monotonic() + seconds_left
        queue, results = list(jobs), {}
        while queue or any(w is not None and w.job is not None for w in self._pool):
            self._dispatch(queue, deadline, results)
            self._collect(results, deadline)
        for result in results.values():
            if result.kind == "memory" and self.memory_mb:
                result.error += f" (the fold needed more than trial_memory_mb={self.memory_mb})"
        return [results[fold] for fold, _ in jobs]

    def pick(self, spec=None) -> "PoolRunner":
        """The runner for a trial of ``spec``: this one."""
        return self

    def refit(self, model, seconds_left: float | None, cheap: bool = False) -> FoldResult:
        """``model`` fitted on every training row in a worker, killed at ``seconds_left``; the
        result holds the fitted model (or the error, ``kind`` "time" when it was stopped)."""
        result = self.run([(REFIT, model)], seconds_left)[0]
        if result.kind == "time":
            result.error = "TimeLimitError: the fit was still running at its deadline"
        return result

    def _dispatch(self, queue: list, deadline: float | None, results: dict) -> None:
        for i, worker in enumerate(self._pool):
            if not queue:
                return
            if worker is None or worker.process.poll() is not None:
                worker = self._pool[i] = self._spawn()
            if worker.job is None:
                fold, pipeline = queue.pop(0)
                worker.loading.join()
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                worker.job = fold
                try:
                    worker.send.send((fold, pipeline, left))
                except OSError:  # it died between the look and the send
                    results[fold] = self._died(worker)
                    worker.job = None

    def _collect(self, results: dict, deadline: float | None) -> None:
        from multiprocessing.connection import wait

        busy = {w.conn: w for w in self._pool if w is not None and w.job is not None}
        if not busy:  # every dispatch failed (a worker died as it was sent its job)
            return
        timeout = None if deadline is None else max(0.0, deadline + GRACE_S - time.monotonic())
        ready = wait(list(busy), timeout=timeout)
        for conn in ready:
            worker = busy[conn]
            try:
                results[worker.job] = conn.recv()
            except (EOFError, OSError):  # the process died: killed by the kernel, or crashed
                results[worker.job] = self._died(worker)
            worker.job = None
        if not ready:  # past the deadline and its grace: kill what still runs
            for worker in busy.values():
                results[worker.job] = FoldResult(worker.job, error="TimeLimitError: the fold was "
                                                 "still fitting at the trial's deadline", kind="time")
                self._kill(worker)

    def _died(self, worker: _Worker) -> FoldResult:
        code = _reap(worker.process)
        self._replace(worker)
        kind = "memory" if code == -9 else "error"  # SIGKILL from outside: the kernel's OOM killer
        return FoldResult(worker.job, error=f"FoldProcessDied: the fold's process ended with "
                          f"exit code {code}" + (" (out of memory?)" if kind == "memory" else ""),
                          kind=kind)

    def _kill(self, worker: _Worker) -> None:
        worker.process.kill()
        _reap(worker.process)
        self.killed += 1
        self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.conn.close()
        worker.send.close()
        index = self._pool.index(worker)
        self._pool[index] = None  # a fresh one is spawned when the next job needs it

    def warm(self) -> None:
        """Start a process in every empty slot (those killed at a deadline), in the background:
        after the search, the final fit then finds one ready or nearly so."""
        self._pool = [self._spawn() if worker is None else worker for worker in self._pool]

    def close(self) -> None:
        """Stop idle workers, kill busy ones (an interrupted trial's folds are not wanted) and
        those still being sent their data (the stop message must not cut into it)."""
        for worker in self._pool:
            if worker is None:
                continue
            if worker.job is not None or worker.loading.is_alive():
                worker.process.kill()
                continue
            try:
                worker.send.send(None)
            except OSError:
                pass
        for worker in self._pool:
            if worker is not None:
                if _reap(worker.process, timeout=2) is None:
                    worker.process.kill()
                    _reap(worker.process)
                worker.send.close()
                worker.conn.close()
        self._pool = [None] * self.workers


def _send_quietly(conn, payload: bytes) -> None:
    try:
        conn.send_bytes(payload)
    except (OSError, TypeError, ValueError):
        # The worker died, or the pool closed this end while sending (then the connection's
        # handle is None under the write: TypeError): nobody is left to read the data.
        pass


def _reap(process, timeout: float = 5) -> int | None:
    import subprocess

    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def _worker_env() -> dict[str, str]:
    from pathlib import Path

    package_root = str(Path(__file__).resolve().parent.parent.parent)
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    # One BLAS thread per worker from the start: parallelism is across folds.
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
