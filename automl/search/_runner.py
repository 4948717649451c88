"""Where a trial's folds run: in this process when the fit is known to be cheap, else in warm
worker processes that can be killed at the deadline."""

from __future__ import annotations

import os

from automl.families import fit_seconds
from automl.metrics import Metric

from ._folds import FoldData, FoldResult, InProcessRunner
from ._pool import PoolRunner

# Below this many cells (rows x columns) a cheap fold fits in milliseconds: worker processes would
# cost more than they save, even several in parallel (a fold's message each way takes longer
# than its fit).
TINY_CELLS = 20_000
# A fit estimated to take at most this long (families/_bounded.py) runs in this process: past
# its deadline it ends at most this late, where a worker is killed after a second's grace.
CHEAP_S = 1.0
# Grown in chunks that look at the clock between them (_folds.py): they stop by themselves.
CHUNKED = frozenset({"random_forest", "extra_trees"})
ONE_HOT_CAP = 31  # a categorical column's encoded width at most (max_categories 30 + infrequent)


def default_memory_mb(workers: int) -> int:
    """Half of the machine's memory, shared by the fold processes."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 4096
    return max(256, int(total / 2 / max(1, workers) / 2**20))


def make_runner(data: FoldData, metric: Metric, workers: int, memory_mb: int | None = None,
                task: str | None = None) -> FoldRunner:
    """On tiny data without a memory limit, folds of cheap fits in this process and the rest in
    worker processes started on first need; else worker processes (killable at a deadline,
    memory-capped) for every fold."""
    if data.cells <= TINY_CELLS and memory_mb is None:
        return MixedRunner(data, metric, workers, task or _task_of(data))
    return PoolRunner(data, metric, workers, memory_mb or default_memory_mb(workers))


def _task_of(data: FoldData) -> str:
    import pandas as pd

    return "regression" if pd.api.types.is_float_dtype(data.y) else "multiclass"


class MixedRunner:
    """Folds of a trial whose fit is known to be cheap run in this process (nothing can stop a
    fit here but the fit itself); any other trial's run in a :class:`PoolRunner`, started when
    the first such trial comes, so a run of cheap families never starts a worker."""

    def __init__(self, data: FoldData, metric: Metric, workers: int, task: str):
        self.data, self.metric, self.task, self.pool_workers = data, metric, task, workers
        self.inline = InProcessRunner(data, metric)
        self.pool: PoolRunner | None = None
        self.workers = 1
        self._classes = 0 if task == "regression" else int(data.y.nunique())
        self._width = _encoded_width(data.X)
        self._seen: dict[str, bool] = {}

    def cheap(self, family: str, params: dict, chunked: bool = True) -> bool:
        """Whether a fit of ``family`` with ``params`` on every training row is known to end
        within CHEAP_S, or to stop by itself at its deadline (forests only when grown in
        chunks: ``chunked``)."""
        if chunked and family in CHUNKED:
            return True
        seconds = fit_seconds(family, self.task, params, len(self.data.y), self._width, self._classes)
        return seconds is not None and seconds <= CHEAP_S

    def cheap_all(self, specs, chunked: bool = False) -> bool:
        """Whether fitting all of ``specs`` one after the other (an ensemble's members) is
        known to end within CHEAP_S."""
        if len(specs) == 1:
            return self.cheap(specs[0].family, specs[0].model_params, chunked)
        total = 0.0
        for spec in specs:
            seconds = fit_seconds(spec.family, self.task, spec.model_params, len(self.data.y),
                                  self._width, self._classes)
            if seconds is None:
                return False
            total += seconds
        return total <= CHEAP_S

    def pick(self, spec):
        """This process for a cheap ``spec``, else the worker pool."""
        key = repr((spec.family, sorted(spec.model_params.items())))
        if key not in self._seen:
            self._seen[key] = self.cheap(spec.family, spec.model_params)
        return self.inline if self._seen[key] else self._pool()

    def _pool(self) -> PoolRunner:
        if self.pool is None:
            self.pool = PoolRunner(self.data, self.metric, self.pool_workers,
                                   default_memory_mb(self.pool_workers))
        return self.pool

    @property
    def killed(self) -> int:
        return 0 if self.pool is None else self.pool.killed

    def refit(self, model, seconds_left: float | None, cheap: bool = False) -> FoldResult:
        """``model`` on every training row: here when ``cheap``, else in a worker."""
        return (self.inline if cheap else self._pool()).refit(model, seconds_left)

    def run(self, jobs, seconds_left):
        return self.inline.run(jobs, seconds_left)

    def warm(self) -> None:
        """Refill the pool's killed slots, when this run has a pool."""
        if self.pool is not None:
            self.pool.warm()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def _encoded_width(X) -> int:
    """Columns after encoding, at most: one per numeric column, a few per datetime, up to
    ONE_HOT_CAP per categorical one."""
    import pandas as pd

    width = 0
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            width += 1
        elif pd.api.types.is_datetime64_any_dtype(column):
            width += 4
        else:
            width += min(int(column.nunique()), ONE_HOT_CAP)
    return max(width, 1)


FoldRunner = MixedRunner | PoolRunner  # what make_runner gives: run(), refit(), warm(), close()
