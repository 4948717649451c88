"""Which columns the final model relies on: permutation importance on the test rows.

Each original column (not each one-hot or text feature: the model is the whole pipeline, fed the
raw table) is shuffled across rows, ``repeats`` times, and the drop in the run's metric is its
importance; the spread over repeats says how sure that is. It runs after the one test and cannot
change what was chosen or the test score. Its cost is measured, not guessed: one scoring pass is
timed first, and repeats, then rows, are cut to fit the time it is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.metrics import Metric, score

REPEATS = 5
MAX_ROWS = 2000  # a sample of the test rows is enough to rank columns
MIN_ROWS = 100
MIN_REPEATS = 2  # a spread needs two
# A shuffled pass against the timed one: it copies the table and shuffles a column first.
# Measured: 61 passes sized at the timed pass's cost took 2.3 s where 1.8 s were given.
SHUFFLED_PASS = 1.3


@dataclass
class Importance:
    """Per original column: the mean drop of the metric when it is shuffled, and its spread."""

    table: pd.DataFrame  # column, importance, std; most important first
    metric: str
    rows: int
    repeats: int

    def top(self, k: int = 5) -> list[dict]:
        return [{"column": r.column, "importance": float(r.importance), "std": float(r.std)}
                for r in self.table.head(k).itertuples()]


def full_size(rows: int, columns: int) -> tuple[int, int]:
    """The rows and scoring passes of an explanation that nothing cuts (what to plan for)."""
    return min(rows, MAX_ROWS), 1 + REPEATS * columns


def permutation_importance(model, X: pd.DataFrame, y: pd.Series, metric: Metric, seed: int,
                           seconds: float | None = None) -> Importance | str:
    """The importance of every column of ``X`` for ``model``; a string saying why not when even
    ``MIN_REPEATS`` shuffles of ``MIN_ROWS`` rows would not fit ``seconds``."""
    rng = np.random.default_rng(seed)
    if len(X) > MAX_ROWS:
        keep = np.sort(rng.choice(len(X), MAX_ROWS, replace=False))
        X, y = X.iloc[keep], y.iloc[keep]
    started = time.perf_counter()
    base = score(model, X, y, metric)
    per_pass = time.perf_counter() - started
    repeats, rows = _fit_to_time(per_pass, X.shape[1], len(X), _for_shuffles(per_pass, seconds))
    if repeats is None:
        return (f"one scoring pass took {per_pass:.2f} s; {X.shape[1]} columns x {MIN_REPEATS} "
                f"shuffles do not fit the {seconds:.1f} s left for it")
    if rows < len(X):
        keep = np.sort(rng.choice(len(X), rows, replace=False))
        X, y = X.iloc[keep], y.iloc[keep]
        base = score(model, X, y, metric)
    sign = 1.0 if metric.direction == "maximize" else -1.0
    records = []
    for column in X.columns:
        drops = [sign * (base - score(model, _shuffled(X, column, rng), y, metric)) for _ in range(repeats)]
        records.append((column, float(np.mean(drops)), float(np.std(drops))))
    table = pd.DataFrame(records, columns=["column", "importance", "std"])
    table = table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    return Importance(table, metric.name, len(X), repeats)


def _for_shuffles(per_pass: float, seconds: float | None) -> float | None:
    """What ``seconds`` leave for the shuffles, counted in timed passes: less the pass already
    timed and the one that scores again when the rows are cut."""
    return None if seconds is None else max(seconds - 2 * per_pass, 0.0) / SHUFFLED_PASS


def _fit_to_time(per_pass: float, columns: int, rows: int, seconds: float | None):
    """Repeats and rows whose shuffles fit ``seconds`` (scoring time grows with rows)."""
    if seconds is None or columns == 0:
        return REPEATS, rows
    passes = seconds / max(per_pass, 1e-6)
    repeats = min(REPEATS, int(passes // columns))
    if repeats >= MIN_REPEATS:
        return repeats, rows
    fewer = int(rows * passes / (columns * MIN_REPEATS))
    return (MIN_REPEATS, fewer) if fewer >= MIN_ROWS else (None, rows)


def _shuffled(X: pd.DataFrame, column: str, rng) -> pd.DataFrame:
    out = X.copy()
    out[column] = X[column].to_numpy()[rng.permutation(len(X))]
    return out
