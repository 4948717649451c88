"""Tracking overhead per trial: bare Optuna study vs automl's tracker vs optuna-integration's
MLflowCallback, measured in the same run with a near-free objective.

Every variant uses the same objective (5 "fold" values reported, the user attributes automl's
objective writes), the same seeded TPE sampler and a fresh SQLite Optuna storage; the tracked
variants each get a fresh SQLite MLflow store. Per-trial time includes flushing every record, so
nothing is left in a queue when the clock stops. Store set-up (MLflow import, DB migrations,
writer start) is a one-off cost reported on its own line.

    python benchmarks/bench_tracking.py            # 100 and 1000 trials
    python benchmarks/bench_tracking.py --quick    # 100 trials only
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import optuna

from automl.config import ExperimentConfig
from automl.study import make_storage
from automl.trial import attrs
from automl.tracking import open_tracker

optuna.logging.set_verbosity(optuna.logging.ERROR)


def make_objective(on_start=None):
    def objective(trial):
        if on_start is not None:
            on_start(trial)
        x = trial.suggest_float("x", -5, 5)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        folds = [(x - 0.5) ** 2 + 0.01 * i for i in range(5)]
        for i, v in enumerate(folds):
            trial.report(v, i)
        attrs.record_spec(trial, kind, {"x": x}, {})  # what automl's objective writes
        attrs.record_folds(trial, folds, 0.0, std=0.01)
        return sum(folds) / len(folds)
    return objective


def new_study(folder: Path, name: str):
    storage = make_storage(f"sqlite:///{folder / (name + '.db')}")  # automl's SQLite set-up
    study = optuna.create_study(storage=storage, study_name=name,
                                sampler=optuna.samplers.TPESampler(seed=0))
    return study


def bare(folder: Path, n: int) -> tuple[float, float]:
    study = new_study(folder, f"bare{n}")
    start = time.perf_counter()
    study.optimize(make_objective(), n_trials=n)
    return 0.0, time.perf_counter() - start


def ours(folder: Path, n: int) -> tuple[float, float]:
    cfg = ExperimentConfig(data="demo:iris", experiment=f"ours{n}")
    work = folder / f"ours{n}"
    work.mkdir()
    study = new_study(folder, f"ours{n}")
    t0 = time.perf_counter()
    tracker = open_tracker(cfg, work, study, "bench", "", {"automl.metric": "score"}, print).__enter__()
    setup = time.perf_counter() - t0
    start = time.perf_counter()
    study.optimize(make_objective(tracker.on_trial_start), n_trials=n, callbacks=[tracker.on_trial])
    tracker.flush()
    elapsed = time.perf_counter() - start
    tracker.__exit__(None, None, None)
    return setup, elapsed


def callback(folder: Path, n: int) -> tuple[float, float]:
    from optuna_integration import MLflowCallback

    study = new_study(folder, f"cb{n}")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cb = MLflowCallback(tracking_uri=f"sqlite:///{folder / f'cb{n}.mlflow.db'}", metric_name="score")
        import mlflow

        mlflow.set_tracking_uri(f"sqlite:///{folder / f'cb{n}.mlflow.db'}")
        mlflow.search_experiments()  # create the DB before the clock starts, as ours does
    setup = time.perf_counter() - t0
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(make_objective(), n_trials=n, callbacks=[cb])
    return setup, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 trials only")
    sizes = (100,) if parser.parse_args().quick else (100, 1000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            result = {name: fn(folder, n) for name, fn in
                      (("bare", bare), ("ours", ours), ("callback", callback))}
            rows.append((n, result))
    print(f"{'trials':>6} | {'bare ms/trial':>13} | {'automl ms/trial':>15} | {'overhead ms':>11} | "
          f"{'MLflowCallback ms/trial':>23} | {'cb overhead ms':>14} | {'cb/automl overhead':>18}")
    for n, r in rows:
        per = {k: v[1] / n * 1000 for k, v in r.items()}
        ours_over = per["ours"] - per["bare"]
        cb_over = per["callback"] - per["bare"]
        ratio = cb_over / ours_over if ours_over > 0 else float("inf")
        print(f"{n:>6} | {per['bare']:>13.2f} | {per['ours']:>15.2f} | {ours_over:>11.2f} | "
              f"{per['callback']:>23.2f} | {cb_over:>14.2f} | {ratio:>17.1f}x")
    for n, r in rows:
        print(f"one-off set-up at {n} trials: automl tracker {r['ours'][0]:.2f} s, "
              f"MLflowCallback {r['callback'][0]:.2f} s")


if __name__ == "__main__":
    main()
