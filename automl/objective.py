"""The Optuna objective: sample a pipeline, cross-validate it fold by fold, prune hopeless ones.

Folds run in parallel worker processes in chunks of ``n_jobs``; after each chunk the fold scores
are reported as intermediate values (step = fold index), so the pruner can stop a trial early.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automl.metrics import Metric, score
from automl.preprocess import build_pipeline
from automl.registry import build_estimator
from automl.space import SearchSpace

# User attributes written on every trial; tracking and refit read them back.
ATTR_FAMILY, ATTR_MODEL, ATTR_PREP = "family", "model_params", "prep_params"
ATTR_FOLDS, ATTR_STD, ATTR_FIT_TIME = "fold_scores", "cv_std", "fit_time_s"
ATTR_ERROR, ATTR_PRUNED_AT, ATTR_EPOCH_LOSS = "error", "pruned_at_fold", "epoch_loss"


@dataclass
class TrialSpec:
    """Everything needed to rebuild a trial's pipeline from scratch."""

    family: str
    model_params: dict[str, Any]
    prep_params: dict[str, Any]

    def build(self, task: str, columns, seed: int):
        estimator = build_estimator(self.family, task, self.model_params, seed)
        return build_pipeline(columns, self.prep_params, estimator)

    def flat_params(self) -> dict[str, Any]:
        """Family, its parameters (fixed ones included) and preprocessing, under Optuna's names."""
        return {"model": self.family,
                **{f"{self.family}.{k}": v for k, v in self.model_params.items()},
                **{f"prep.{k}": v for k, v in self.prep_params.items()}}

    @classmethod
    def from_trial(cls, trial) -> "TrialSpec":
        attrs = trial.user_attrs
        return cls(attrs[ATTR_FAMILY], attrs[ATTR_MODEL], attrs[ATTR_PREP])


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
        raise ValueError(f"{metric.name} is undefined for this model on this fold "
                         "(no probabilities, or a single class)")
    if not np.isfinite(value):
        raise ValueError(f"the {metric.name} score is not finite ({value}); the model diverged")
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
        family, model_params, prep_params = self.space.suggest(trial)
        for key, value in ((ATTR_FAMILY, family), (ATTR_MODEL, model_params), (ATTR_PREP, prep_params)):
            trial.set_user_attr(key, value)
        spec = TrialSpec(family, model_params, prep_params)
        scores, fit_time = [], 0.0
        try:
            for chunk in self._chunks():
                results = self._run_chunk(spec, chunk)
                for fold, (value, elapsed, curve) in zip(chunk, results):
                    if fold == 0 and curve:  # one fold's curve shows how the optimizer behaved
                        trial.set_user_attr(ATTR_EPOCH_LOSS, curve)
                    trial.report(value, fold)
                    scores.append(value)
                    fit_time += elapsed
                if len(scores) < len(self.folds) and trial.should_prune():
                    trial.set_user_attr(ATTR_PRUNED_AT, len(scores) - 1)
                    raise optuna.TrialPruned(f"pruned after fold {len(scores) - 1}")
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr(ATTR_ERROR, f"{type(exc).__name__}: {_one_line(exc)}")
            raise
        finally:
            trial.set_user_attr(ATTR_FOLDS, scores)
            trial.set_user_attr(ATTR_FIT_TIME, round(fit_time, 6))
        trial.set_user_attr(ATTR_STD, float(np.std(scores)))
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


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:500] if lines else ""
