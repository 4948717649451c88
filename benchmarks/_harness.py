"""What every benchmark that runs automl as a user would shares: checkouts of the commits it
compares (a baseline and the new code, both from git, so editing the tree meanwhile is safe) and
one ``automl`` command in its own process group, timed from start to exit and killed past a
limit.

    with checkouts({"baseline": "b587335", "new": "HEAD"}, folder) as code:
        result = run_automl(code["new"], ["run", "--data", "demo:iris"], work, kill_after=120)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def checkouts(refs: dict[str, str], folder: Path):
    """Each ref checked out (``git worktree``) under ``folder``; yields side -> its folder, and
    removes them all at the end."""
    made: dict[str, Path] = {}
    try:
        for side, ref in refs.items():
            path = folder / f"code-{side}"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
                           check=True, capture_output=True)
            made[side] = path
        yield made
    finally:
        for path in made.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                           capture_output=True)


def automl_env(code: Path | None) -> dict[str, str]:
    """The environment of a run of ``code`` (None: the installed automl): no tracking server or
    registry from the caller's shell, output unbuffered."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env["PYTHONUNBUFFERED"] = "1"
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def run_automl(code: Path | None, args: list[str], work: Path, kill_after: float | None = None) -> dict:
    """``python -m automl ARGS`` in ``work`` (made), as a user starts it: wall time from process
    start to exit, exit code, whether it was killed (its whole process group, past
    ``kill_after`` seconds) and its standard error."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "automl", *args], cwd=work, env=automl_env(code),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        killed = True
    return {"wall": time.monotonic() - started, "code": proc.returncode, "killed": killed, "stderr": err}
