"""``automl run --workers N``: start local worker processes and wait for them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from automl._files import new_file, private_folder, write_atomic
from automl.config import ExperimentConfig
from automl.errors import ConfigError

from ._claim import IDLE_POLL_S
from ._shared import shareable_config


def spawn_workers(cfg: ExperimentConfig, storage: str, study_name: str, workdir: Path,
                  tracking_uri: str | None, n_jobs: int) -> list[subprocess.Popen]:
    """Start ``cfg.workers`` ``automl worker`` processes on this host."""
    folder = private_folder(workdir, "mlruns", "workers")
    shared = shareable_config(cfg)
    shared.update(n_jobs=n_jobs, data=cfg.data, test_data=cfg.test_data, space=cfg.space)
    config = write_atomic(folder / f"{study_name}.yaml", yaml.safe_dump(shared))
    # The storage URL travels in the environment, not argv: `ps` would show a password.
    env = {**os.environ, "AUTOML_STORAGE": storage}
    # -P: the working directory is not put on sys.path, so a stray mlflow.py there is not run.
    cmd = [sys.executable, "-P", "-m", "automl", "worker", "--config", str(config), "--study-name",
           study_name, "--workdir", str(workdir), "--quiet"]
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    else:
        cmd.append("--no-tracking")
    logs = private_folder(folder, study_name)
    procs = []
    for i in range(cfg.workers):
        with new_file(logs / f"worker-{i}.log") as log:
            # Own sessions: Ctrl-C reaches only the orchestrator, which stops workers once (SIGTERM).
            procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=log,
                                          start_new_session=True))
    return procs


def wait_workers(procs: list[subprocess.Popen], study, reporter, on_poll=None) -> list[int]:
    """Wait for the workers, updating the progress bar from the study (and calling
    ``on_poll(study)`` every poll); return their exit codes."""
    try:
        while [p.poll() for p in procs].count(None):  # poll every one: it reaps the dead
            reporter.set_progress(study)
            if on_poll is not None:
                on_poll(study)
            time.sleep(IDLE_POLL_S)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()  # workers close their runs as KILLED on SIGTERM
        for p in procs:
            p.wait()
        raise
    reporter.set_progress(study)
    return [p.returncode for p in procs]


def refuse_sqlite(storage: str | None) -> None:
    if (storage or "").startswith("sqlite"):
        raise ConfigError("storage: SQLite cannot take concurrent workers; use the default "
                          "journal storage, journal:///path.log, or PostgreSQL")
