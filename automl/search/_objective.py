"""The Optuna objective: sample a pipeline, cross-validate it fold by fold, prune hopeless ones.

Folds run in parallel worker processes in chunks of ``n_jobs``; after each chunk the fold scores
are reported as intermediate values (step = fold index), so the pruner can stop a trial early.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from automl.errors import ScoreError, describe
from automl.metrics import Metric, score
from automl.space import SearchSpace

from . import _attrs
from ._spec import TrialSpec


def fit_and_score(pipeline, X: pd.DataFrame, y: pd.Series, train: np.ndarray, valid: np.ndarray,
                  metric: Metric) -> tuple[float, float, list[float] | None]:
    """Fit on the fold's training rows only, score on its validation rows. Runs in a worker.

    Returns the score, the fit time and, for models trained epoch by epoch (automl's gradient-
    descent models), their per-epoch validation (else training) loss curve.
    """
    from sklearn.exceptions import ConvergenceWarning

    start = time.perf_counter()
    with warnings.catch_warnings():
        # An unconverged fold is still a valid (if weak) data point; the score says how weak.
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X.iloc[train], y.iloc[train])
    elapsed = time.perf_counter() - start
    value = score(pipeline, X.iloc[valid], y.iloc[valid], metric)
    if value is None:
        raise ScoreError(f"{metric.name} is undefined for this model on this fold "
                         "(no probabilities, or a single class)")
    if not np.isfinite(value):
        raise ScoreError(f"the {metric.name} score is not finite ({value}); the model diverged")
    return value, elapsed, _epoch_curve(pipeline[-1])


def _epoch_curve(model) -> list[float] | None:
    model = getattr(model, "regressor_", model)  # inside a TransformedTargetRegressor
    curve = getattr(model, "validation_loss_curve_", None)
    if curve is None:
        curve = getattr(model, "loss_curve_", None)
    return [float(v) for v in curve] if curve is not None else None


class CVObjective:
    """Callable objective for ``Study.optimize``: mean CV score of the sampled pipeline."""

    def __init__(self, space: SearchSpace, X: pd.DataFrame, y: pd.Series, folds: list[tuple],
                 columns, metric: Metric, seed: int, n_jobs: int, on_start=None):
        self.space, self.X, self.y, self.folds = space, X, y, folds
        self.columns, self.metric, self.seed, self.n_jobs = columns, metric, seed, n_jobs
        self.on_start = on_start  # e.g. the tracker linking the trial to its MLflow run

    def __call__(self, trial) -> float:
        import optuna

        if self.on_start is not None:
            self.on_start(trial)
        spec = TrialSpec(*self.space.suggest(trial))
        spec.record(trial)
        scores, fit_time = [], 0.0
        try:
            for chunk in self._chunks():
                results = self._run_chunk(spec, chunk)
                for fold, (value, elapsed, curve) in zip(chunk, results):
                    if fold == 0 and curve:  # one fold's curve shows how the optimizer behaved
                        _attrs.record_epoch_loss(trial, curve)
                    trial.report(value, fold)
                    scores.append(value)
                    fit_time += elapsed
                if len(scores) < len(self.folds) and trial.should_prune():
                    _attrs.record_pruned(trial, len(scores) - 1)
                    raise optuna.TrialPruned(f"pruned after fold {len(scores) - 1}")
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            _attrs.record_error(trial, describe(exc))
            raise
        finally:
            _attrs.record_folds(trial, scores, fit_time)
        _attrs.record_cv_std(trial, float(np.std(scores)))
        return float(np.mean(scores))

    def _chunks(self) -> list[list[int]]:
        size = max(1, self.n_jobs)
        idx = list(range(len(self.folds)))
        return [idx[i:i + size] for i in range(0, len(idx), size)]

    def _run_chunk(self, spec: TrialSpec, chunk: list[int]) -> list[tuple]:
        jobs = [(spec.build(self.space.task, self.columns, self.seed), *self.folds[i]) for i in chunk]
        if self.n_jobs == 1 or len(chunk) == 1:
            return [fit_and_score(p, self.X, self.y, tr, va, self.metric) for p, tr, va in jobs]
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=len(chunk), backend="loky")
        return parallel(delayed(fit_and_score)(p, self.X, self.y, tr, va, self.metric)
                        for p, tr, va in jobs)
