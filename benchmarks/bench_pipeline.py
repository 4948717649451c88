"""automl's pipeline against a hand-written Optuna + scikit-learn loop at the same wall-clock budget.

For each public data set both sides get the same seed, the same rows, the same 5-fold CV count, the
same metric (roc_auc binary, log_loss multiclass, rmse regression), the same budget and 2 cores:

- ours: ``automl.run.run_experiment`` with the default search space (``default.yaml``),
  reading the data set from a temporary CSV, tracking off, a fresh SQLite study in a temp folder;
- baseline: benchmarks/_baseline.py's study (in memory, ``TPESampler(seed=0)``, no pruner) whose
  objective is ``cross_val_score(n_jobs=-1)`` of ``ColumnTransformer(impute + scale | impute +
  one-hot)`` and one of logistic/ridge, random forest or HistGradientBoosting with a few
  hyperparameters; the best is refitted on the training part and scored once on the test rows.

The baseline splits the data itself with ``train_test_split`` (stratified for classification,
``random_state=0``) and the script checks its test rows are exactly the ones automl held out.
Trials/min counts every finished trial (complete, pruned or failed) over the span from the first
trial's start to the last one's end, so start-up, refit, plots and model saving are not included.

    python benchmarks/bench_pipeline.py                       # 7 data sets, 30 s per side (~9 min)
    python benchmarks/bench_pipeline.py --quick               # 2 small data sets, 10 s per side
    python benchmarks/bench_pipeline.py --datasets wine,credit_data --budget 60
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import optuna
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split

from automl.config import ExperimentConfig
from automl.data import prepare, read_table
from automl.run import run_experiment
from automl.split import holdout

import _baseline  # noqa: E402  (benchmarks/_baseline.py: the one hand-written Optuna + scikit-learn loop)
import _tables  # noqa: E402  (benchmarks/_tables.py: the public tables, reserved ones refused)

SEED, CV, TEST_SIZE = 0, 5, 0.2
DEFAULT_BUDGET, QUICK_BUDGET = 30.0, 10.0
QUICK_DATASETS = ("breast_cancer", "penguins")
# Task -> (cross_val_score scoring, automl metric name, printed name, higher is better).
METRICS = {"binary": ("roc_auc", "roc_auc", "roc_auc ^", True),
           "multiclass": ("neg_log_loss", "log_loss", "log_loss v", False),
           "regression": ("neg_root_mean_squared_error", "rmse", "rmse v", False)}


@dataclass(frozen=True)
class DataSpec:
    """A public data set: how to load it, its target and task, and what the baseline leaves out."""

    load: Callable[[], pd.DataFrame]
    target: str
    task: str
    baseline_drop: tuple[str, ...] = ()  # columns a data scientist would drop by hand
    note: str = ""


def _spec(table: str, baseline_drop: tuple[str, ...] = (), note: str = "") -> DataSpec:
    """A table of benchmarks/_tables.py, with what this benchmark's baseline leaves out."""
    entry = _tables.TABLES[table]
    return DataSpec(entry.load, entry.target, entry.task, baseline_drop, note)


DATASETS: dict[str, DataSpec] = {
    **{name: _spec(name) for name in ("breast_cancer", "wine", "diabetes", "digits", "penguins",
                                      "credit_data", "hpc_data")},
    "hotel_rates": _spec("hotel_rates_dates", ("arrival_date",),
                         "baseline drops the arrival_date string (arrival_date_num carries it); ours expands it"),
}
DEFAULT_DATASETS = ("breast_cancer", "wine", "diabetes", "penguins", "credit_data", "hpc_data",
                    "hotel_rates")


@dataclass
class SideResult:
    """One side's outcome on one data set."""

    test_score: float
    n_trials: int
    span_s: float
    test_index: pd.Index
    extra: dict = field(default_factory=dict)

    @property
    def trials_per_min(self) -> float:
        return 60.0 * self.n_trials / self.span_s if self.span_s > 0 else float("nan")


def search_span(trials) -> tuple[int, float]:
    """Finished trials and the seconds from the first trial's start to the last one's end."""
    done = [t for t in trials if t.datetime_complete is not None]
    if not done:
        return 0, 0.0
    span = max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
    return len(done), span.total_seconds()


# --- ours ---------------------------------------------------------------------------------------

def run_ours(name: str, spec: DataSpec, csv: Path, budget: float, workdir: Path) -> SideResult:
    study_name = f"bench-{name}-{time.time_ns()}"
    cfg = ExperimentConfig(data=str(csv), target=spec.target, task=spec.task, timeout=budget,
                           n_trials=None, seed=SEED, cv=CV, test_size=TEST_SIZE, tracking=False,
                           quiet=True, workdir=str(workdir), study_name=study_name)
    summary = run_experiment(cfg)
    study = optuna.load_study(study_name=study_name,
                              storage=f"sqlite:///{workdir / 'mlruns' / 'optuna.db'}")
    n_done, span = search_span(study.get_trials(deepcopy=False))
    test_index, fingerprint = automl_test_rows(cfg)
    if fingerprint != summary["test_fingerprint"]:
        raise RuntimeError(f"{name}: replaying automl's split did not reproduce its test rows")
    metric = METRICS[spec.task][1]
    return SideResult(summary["test_metrics"][metric], n_done, span, test_index,
                      {"states": summary["n_trials"], "best": summary["best_params"]["model"]})


def automl_test_rows(cfg: ExperimentConfig) -> tuple[pd.Index, str]:
    """The row labels automl held out for testing (replayed with its own data and split steps)."""
    frame, _ = read_table(cfg.data)
    data = prepare(frame, cfg.target, cfg.task, cfg.data)
    split = holdout(data, cfg.test_size, cfg.seed)
    return split.X_test.index, split.test_fingerprint


# --- baseline: what a data scientist writes by hand ---------------------------------------------

def split_rows(frame: pd.DataFrame, target: str, task: str):
    """Drop rows without a target, hold out 20% (stratified for classification), seed 0."""
    frame = frame[frame[target].notna()]
    X, y = frame.drop(columns=target), frame[target]
    # automl rounds the test size (round(0.2 * n)); a float test_size makes sklearn take the
    # ceiling, which picks other rows whenever 0.2 * n is not whole (e.g. diabetes: 89 vs 88).
    n_test = max(1, round(len(y) * TEST_SIZE))
    positions = np.arange(len(y))
    train, test = train_test_split(positions, test_size=n_test, random_state=SEED,
                                   stratify=y if task != "regression" else None)
    train, test = np.sort(train), np.sort(test)
    return X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]


def run_baseline(spec: DataSpec, csv: Path, budget: float) -> SideResult:
    frame = pd.read_csv(csv).drop(columns=list(spec.baseline_drop))
    X_train, y_train, X_test, y_test = split_rows(frame, spec.target, spec.task)
    study = _baseline.search(X_train, y_train, spec.task, METRICS[spec.task][0], folds=CV, timeout=budget)
    n_done, span = search_span(study.trials)
    best = _baseline.pipeline(X_train, optuna.trial.FixedTrial(study.best_params), spec.task)
    best.fit(X_train, y_train)
    states = dict(Counter(t.state.name for t in study.trials))
    return SideResult(test_score(best, X_test, y_test, spec.task), n_done, span, X_test.index,
                      {"states": states, "best": study.best_params["model"]})


def test_score(model, X, y, task: str) -> float:
    if task == "regression":
        return float(skm.root_mean_squared_error(y, model.predict(X)))
    proba = model.predict_proba(X)
    if task == "binary":
        return float(skm.roc_auc_score(y, proba[:, 1]))
    return float(skm.log_loss(y, proba, labels=model.classes_))


# --- driver -------------------------------------------------------------------------------------

def bench_one(name: str, budget: float, folder: Path) -> dict:
    spec = DATASETS[name]
    csv = folder / f"{name}.csv"
    spec.load().to_csv(csv, index=False)
    rows = int(pd.read_csv(csv)[spec.target].notna().sum())
    ours = run_ours(name, spec, csv, budget, folder / f"work-{name}")
    base = run_baseline(spec, csv, budget)
    same = ours.test_index.sort_values().equals(base.test_index.sort_values())
    return {"name": name, "task": spec.task, "rows": rows, "ours": ours, "base": base,
            "same_test": same, "note": spec.note}


def format_table(results: list[dict]) -> str:
    head = ["data set", "task", "metric", "rows", "ours test", "base test", "ours tr/min",
            "base tr/min", "ratio", "same test rows"]
    body = []
    for r in results:
        ours, base = r["ours"], r["base"]
        body.append([r["name"], r["task"], METRICS[r["task"]][2], str(r["rows"]),
                     f"{ours.test_score:.4g}", f"{base.test_score:.4g}",
                     f"{ours.trials_per_min:.1f}", f"{base.trials_per_min:.1f}",
                     f"{ours.trials_per_min / base.trials_per_min:.2f}",
                     "yes" if r["same_test"] else "NO"])
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_notes(results: list[dict], budget: float) -> str:
    lines = [f"budget {budget:g} s per side per data set; seed {SEED}; {CV}-fold CV; "
             "^ higher is better, v lower is better; ratio = ours / baseline trials per minute",
             "ours counts pruned trials (Wilcoxon pruner, folds run 2 at a time) as trials; "
             "both sides run folds in 2 processes"]
    for r in results:
        note = f"; {r['note']}" if r["note"] else ""
        lines.append(f"{r['name']}: ours {describe(r['ours'])}; baseline {describe(r['base'])}{note}")
    return "\n".join(lines)


def describe(side: SideResult) -> str:
    states = ", ".join(f"{k.lower()} {v}" for k, v in sorted(side.extra["states"].items()))
    return f"{states} in {side.span_s:.0f} s (best {side.extra['best']})"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=None,
                        help=f"seconds of search per side per data set (default {DEFAULT_BUDGET:g}, "
                             f"--quick {QUICK_BUDGET:g})")
    parser.add_argument("--datasets", default=None,
                        help=f"comma-separated, from {', '.join(DATASETS)} "
                             f"(default {','.join(DEFAULT_DATASETS)})")
    parser.add_argument("--quick", action="store_true",
                        help=f"{' and '.join(QUICK_DATASETS)} at {QUICK_BUDGET:g} s")
    args = parser.parse_args(argv)
    budget = args.budget or (QUICK_BUDGET if args.quick else DEFAULT_BUDGET)
    names = args.datasets.split(",") if args.datasets else list(QUICK_DATASETS if args.quick
                                                                 else DEFAULT_DATASETS)
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"--datasets: unknown {unknown}; choose from {', '.join(DATASETS)}")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")  # the baseline's convergence warnings would bury the table
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_pipeline-") as tmp:
        for name in names:
            start = time.perf_counter()
            results.append(bench_one(name, budget, Path(tmp)))
            took = time.perf_counter() - start
            print(f"{name}: done in {took:.0f} s", file=sys.stderr, flush=True)
    print(format_table(results))
    print()
    print(format_notes(results, budget))


if __name__ == "__main__":
    main()
