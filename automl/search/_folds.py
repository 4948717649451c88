"""Fitting and scoring one CV fold, and running a trial's folds in this process.

A fold gets a deadline; models trained in steps stop at it by themselves (automl's gradient-
descent models between epochs, forests between chunks of trees) and the fold raises
:class:`~automl.errors.TimeLimitError`. Models that cannot stop are run in worker processes that
can be killed (``_pool.py``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automl.plan import check_time, time_limit
from automl.errors import ScoreError, describe
from automl.metrics import Metric, compute, predict

FOREST_CHUNK = 25  # trees grown between two looks at the clock


@dataclass
class FoldData:
    """The training part and its folds: what every fold of every trial reads."""

    X: pd.DataFrame
    y: pd.Series
    folds: list[tuple[np.ndarray, np.ndarray]]
    keep_predictions: bool = False  # return each fold's validation predictions (for ensembles)

    @property
    def cells(self) -> int:
        return int(self.X.shape[0] * max(1, self.X.shape[1]))


@dataclass
class FoldResult:
    """What one fold gave: a score, or the error that stopped it (``kind`` says which)."""

    fold: int
    value: float | None = None
    fit_time: float = 0.0
    curve: list[float] | None = None
    predictions: np.ndarray | None = None  # float32: class probabilities, or the predicted values
    predict_s_per_row: float = 0.0
    parts: int = 0  # objects in the fitted model (fold 0 only): what saving it will cost
    model_bytes: int = 0  # the fitted model's pickled size (fold 0 only)
    error: str | None = None
    kind: str = "ok"  # ok | error | time | memory
    model: Any = None  # a refit's fitted model (fold REFIT)


REFIT = -1  # the "fold" of a job that fits on every training row and returns the model


def fit_and_score(pipeline, X: pd.DataFrame, y: pd.Series, train: np.ndarray, valid: np.ndarray,
                  metric: Metric, keep_predictions: bool = False):
    """Fit on the fold's training rows only, score on its validation rows.

    Returns the score, the fit time, for models trained epoch by epoch (automl's gradient-descent
    models) their per-epoch validation (else training) loss curve, with ``keep_predictions`` the
    validation rows' predictions (float32 class probabilities, or values; None for a classifier
    without probabilities), and the seconds a prediction took per row.
    """
    from sklearn.exceptions import ConvergenceWarning

    start = time.perf_counter()
    with warnings.catch_warnings():
        # An unconverged fold is still a valid (if weak) data point; the score says how weak.
        warnings.simplefilter("ignore", ConvergenceWarning)
        _fit(pipeline, X.iloc[train], y.iloc[train])
    elapsed = time.perf_counter() - start
    X_valid, y_valid = X.iloc[valid], y.iloc[valid]
    start = time.perf_counter()
    pred = predict(pipeline, X_valid, (metric.name,))
    predict_time = time.perf_counter() - start
    value = compute(y_valid, pred, (metric.name,))[metric.name]
    if value is None:
        raise ScoreError(f"{metric.name} is undefined for this model on this fold "
                         "(no probabilities, or a single class)")
    if not np.isfinite(value):
        raise ScoreError(f"the {metric.name} score is not finite ({value}); the model diverged")
    model = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    kept = _predictions(pipeline, X_valid, pred) if keep_predictions else None
    return value, elapsed, _epoch_curve(model), kept, predict_time / max(1, len(valid))


def _predictions(model, X: pd.DataFrame, pred) -> np.ndarray | None:
    """What an ensemble averages: probabilities of a classifier, values of a regressor."""
    if getattr(model, "classes_", None) is None:
        values = pred.labels if pred.labels is not None else model.predict(X)
        return np.asarray(values, dtype=np.float32).reshape(-1, 1)
    scores = pred.scores if pred.scores is not None and np.ndim(pred.scores) == 2 else None
    if scores is None:
        if not hasattr(model, "predict_proba"):
            return None
        try:
            scores = model.predict_proba(X)
        except AttributeError:  # e.g. SGD with hinge loss hides predict_proba
            return None
    return np.asarray(scores, dtype=np.float32)


def _fit(pipeline, X: pd.DataFrame, y: pd.Series) -> None:
    model = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    if model is pipeline or not _is_forest(model):
        pipeline.fit(X, y)
        return
    # A forest grown in chunks with warm_start equals one grown at once (scikit-learn advances
    # the random state past the trees it already has), and can look at the clock in between.
    Xt = pipeline[:-1].fit_transform(X, y)
    total = model.n_estimators
    for n in range(min(FOREST_CHUNK, total), total + FOREST_CHUNK, FOREST_CHUNK):
        model.set_params(n_estimators=min(n, total), warm_start=True)
        model.fit(Xt, y)
        check_time()
        if n >= total:
            break


def _is_forest(model) -> bool:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    return isinstance(model, (RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier,
                              ExtraTreesRegressor))


class _Counter:
    """A file that only counts what is written to it."""

    def __init__(self):
        self.n = 0

    def write(self, data) -> int:
        size = memoryview(data).nbytes  # protocol 5 hands large arrays over as PickleBuffer
        self.n += size
        return size


def pickled_size(obj) -> int:
    """Bytes of ``obj`` pickled: the model's size on disk, measured without keeping a copy."""
    import pickle

    counter = _Counter()
    try:
        pickle.Pickler(counter, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    except Exception:  # an unpicklable model has no size to report; the trial stands
        return 0
    return counter.n


def count_parts(obj, depth: int = 0) -> int:
    """Objects and arrays in a fitted model: saving it in a safe format (skops) costs time per
    part (a 200-iteration, 10-class boosting model has 2,000 trees: seconds), not per byte."""
    if depth > 50 or obj is None or isinstance(obj, (bool, int, float, str, bytes, type)):
        return 0
    if isinstance(obj, (list, tuple)):
        return sum(count_parts(item, depth + 1) for item in obj)
    if isinstance(obj, dict):
        return sum(count_parts(value, depth + 1) for value in obj.values())
    if isinstance(obj, np.ndarray) or callable(obj) and not hasattr(obj, "fit"):
        return 1
    inner = getattr(obj, "__dict__", None)
    return 1 + (sum(count_parts(v, depth + 1) for v in inner.values()) if inner else 0)


def _epoch_curve(model) -> list[float] | None:
    model = getattr(model, "regressor_", model)  # inside a TransformedTargetRegressor
    curve = getattr(model, "validation_loss_curve_", None)
    if curve is None:
        curve = getattr(model, "loss_curve_", None)
    return [float(v) for v in curve] if curve is not None else None


def run_fold(pipeline, data: FoldData, fold: int, metric: Metric, seconds_left: float | None) -> FoldResult:
    """One fold, with its error (if any) turned into a result instead of an exception."""
    deadline = None if seconds_left is None else time.monotonic() + seconds_left
    train, valid = data.folds[fold]
    try:
        with time_limit(deadline):
            value, fit_time, curve, kept, per_row = fit_and_score(
                pipeline, data.X, data.y, train, valid, metric, data.keep_predictions)
    except MemoryError as exc:
        return FoldResult(fold, error=describe(exc), kind="memory")
    except Exception as exc:
        kind = "time" if type(exc).__name__ == "TimeLimitError" else "error"
        return FoldResult(fold, error=describe(exc), kind=kind)
    if fold != 0:
        return FoldResult(fold, value, fit_time, curve, kept, per_row)
    return FoldResult(fold, value, fit_time, curve, kept, per_row, count_parts(pipeline),
                      pickled_size(pipeline))


def run_refit(model, data: FoldData, seconds_left: float | None) -> FoldResult:
    """Fit ``model`` on every training row within ``seconds_left``; the result holds it."""
    from sklearn.exceptions import ConvergenceWarning

    deadline = None if seconds_left is None else time.monotonic() + seconds_left
    start = time.perf_counter()
    try:
        with time_limit(deadline), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _fit(model, data.X, data.y)
    except MemoryError as exc:
        return FoldResult(REFIT, error=describe(exc), kind="memory")
    except Exception as exc:
        kind = "time" if type(exc).__name__ == "TimeLimitError" else "error"
        return FoldResult(REFIT, error=describe(exc), kind=kind)
    return FoldResult(REFIT, fit_time=time.perf_counter() - start, model=model)


class InProcessRunner:
    """Runs folds one after the other in this process: no start-up or transfer cost, for small
    data and ``n_jobs=1``. It cannot kill a fit; iterative models still stop at the deadline."""

    def __init__(self, data: FoldData, metric: Metric):
        self.data, self.metric = data, metric
        self.workers = 1

    def pick(self, spec=None) -> "InProcessRunner":
        """The runner for a trial of ``spec``: this one."""
        return self

    def refit(self, model, seconds_left: float | None, cheap: bool = True) -> FoldResult:
        """``model`` fitted on every training row; iterative models stop at the deadline."""
        return run_refit(model, self.data, seconds_left)

    def run(self, jobs: list[tuple[int, Any]], seconds_left: float | None) -> list[FoldResult]:
        results = []
        started = time.monotonic()
        for fold, pipeline in jobs:
            left = None if seconds_left is None else seconds_left - (time.monotonic() - started)
            results.append(run_fold(pipeline, self.data, fold, self.metric, left))
        return results

    def warm(self) -> None:
        pass

    def close(self) -> None:
        pass
