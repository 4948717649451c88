"""Scale-out figures, measured in one run.

1. Scaling: trials per minute with 1 vs 2 ``automl worker`` processes on this machine for a
   CPU-bound space (random forests on digits), journal storage, one core per worker
   (``n_jobs: 1``), tracking off so only the search is timed. Trials/min is taken from the
   trials' own start/end times, so process start-up is excluded.
2. Storage overhead per trial: the same near-free objective through automl's ask/tell worker
   loop (claim lock, stale check, heartbeat) on SQLite (WAL), the journal file and PostgreSQL
   (when $AUTOML_TEST_POSTGRES names a server), and plain ``study.optimize`` in memory as the floor.

    python benchmarks/bench_workers.py [--trials 24] [--storage-trials 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna
import yaml

from automl.scaleout import claim_lock, work
from automl.study import make_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)

CPU_SPACE = """
models:
  random_forest:
    n_estimators: {type: int, low: 80, high: 120}
    max_depth: {type: int, low: 6, high: 16}
"""


def scaling(folder: Path, workers: int, trials: int) -> float:
    """Trials per minute with ``workers`` worker processes sharing a budget of ``trials``."""
    (folder / "cpu.yaml").write_text(CPU_SPACE)
    config = folder / f"w{workers}.yaml"
    config.write_text(yaml.safe_dump({"data": "demo:digits", "space": str(folder / "cpu.yaml"),
                                      "n_trials": trials, "cv": 3, "n_jobs": 1, "seed": 0,
                                      "quiet": True, "tracking": False}))
    storage = f"journal://{folder / f'w{workers}.log'}"
    env = {**os.environ, "AUTOML_STORAGE": storage}
    cmd = [sys.executable, "-m", "automl", "worker", "--config", str(config), "--study-name",
           f"w{workers}", "--workdir", str(folder)]
    procs = [subprocess.Popen(cmd, env=env) for _ in range(workers)]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("a worker failed")
    study = optuna.load_study(study_name=f"w{workers}", storage=make_storage(storage))
    done = [t for t in study.trials if t.datetime_complete is not None]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    return len(done) / span * 60


def _objective(trial):
    x = trial.suggest_float("x", -5, 5)
    for i in range(5):
        trial.report((x - 0.5) ** 2 + 0.01 * i, i)
    for key in ("family", "model_params", "prep_params", "fold_scores", "cv_std", "fit_time_s"):
        trial.set_user_attr(key, 0)
    return (x - 0.5) ** 2


class _NoTracker:
    def on_trial(self, study, trial):
        pass

    def kill_run(self, run_id, number):
        pass


def storage_overhead(url: str, folder: Path, n: int) -> float:
    """ms per trial of the worker loop on ``url`` with a near-free objective."""
    name = f"s{uuid.uuid4().hex[:6]}"
    study = optuna.create_study(storage=make_storage(url, heartbeat=(10, 60)), study_name=name,
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.set_user_attr("trial_budget", n)
    start = time.perf_counter()
    work(study, _objective, _NoTracker(), lambda: claim_lock(url, name, folder), grace=60)
    return (time.perf_counter() - start) / n * 1000


def plain(url: str | None, n: int) -> float:
    """ms per trial of plain ``study.optimize`` on the same storage (no claim lock, no heartbeat)."""
    storage = make_storage(url) if url else None
    study = optuna.create_study(storage=storage, study_name=f"p{uuid.uuid4().hex[:6]}",
                                sampler=optuna.samplers.TPESampler(seed=0))
    start = time.perf_counter()
    study.optimize(_objective, n_trials=n)
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--storage-trials", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one, two = scaling(folder, 1, args.trials), scaling(folder, 2, args.trials)
        print(f"{'workers':>7} | {'trials/min':>10} | ratio vs 1")
        print(f"{1:>7} | {one:>10.1f} | 1.00")
        print(f"{2:>7} | {two:>10.1f} | {two / one:.2f}")
        n = args.storage_trials
        urls = [("SQLite (WAL)", f"sqlite:///{folder / 'o.db'}"),
                ("journal file", f"journal://{folder / 'o.log'}")]
        pg = os.environ.get("AUTOML_TEST_POSTGRES")
        if pg:
            urls.append(("PostgreSQL", pg))
        else:
            print("PostgreSQL: skipped (set AUTOML_TEST_POSTGRES to a server URL)")
        floor = plain(None, n)
        print(f"\n{'storage':<14} | {'worker loop ms/trial':>20} | {'plain optimize ms/trial':>23} | "
              f"{'loop/plain':>10} | loop vs in-memory ({floor:.2f} ms)")
        for label, url in urls:
            loop, base = storage_overhead(url, folder, n), plain(url, n)
            print(f"{label:<14} | {loop:>20.2f} | {base:>23.2f} | {loop / base:>9.2f}x | {loop / floor:.1f}x")


if __name__ == "__main__":
    main()
