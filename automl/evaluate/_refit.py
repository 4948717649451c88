"""Refit the best configuration on all training rows.

The refit starts from a fresh pipeline built from the best trial's parameters, never from a model
fitted on a CV fold (as scikit-learn's ``BaseSearchCV`` refits a clone).
"""

from __future__ import annotations

import warnings

from automl.data import Dataset
from automl.trial import TrialSpec
from automl.split import Split

from ._ensemble import build_ensemble


def refit(trial, data: Dataset, split: Split, seed: int):
    """A fresh pipeline from ``trial``'s parameters, fitted on the whole training part."""
    return _fit(unfitted(trial, data, seed), split.X_train, split.y_train)


def refit_ensemble(members: list[tuple[object, float]], data: Dataset, split: Split, seed: int):
    """A soft-voting ensemble of fresh pipelines of ``(trial, weight)``, fitted on the whole
    training part (every member on every row)."""
    return _fit(unfitted_ensemble(members, data, seed), split.X_train, split.y_train)


def unfitted(trial, data: Dataset, seed: int):
    """The fresh pipeline :func:`refit` fits: ``trial``'s parameters, nothing learnt."""
    return TrialSpec.from_trial(trial).build(data.task, _columns(data), seed)


def unfitted_ensemble(members: list[tuple[object, float]], data: Dataset, seed: int):
    """The fresh ensemble :func:`refit_ensemble` fits."""
    named = [(f"trial_{trial.number}", unfitted(trial, data, seed), weight) for trial, weight in members]
    return build_ensemble(named, data.task)


def refit_on_all_rows(model, split: Split):
    """A fresh copy of the final ``model`` (same parameters, unfitted) fitted on the training and
    test rows together: for after the one test, so the shipped model learns from every row."""
    import pandas as pd
    from sklearn.base import clone

    X = pd.concat([split.X_train, split.X_test])
    y = pd.concat([split.y_train, split.y_test])
    return _fit(clone(model), X, y)


def _columns(data: Dataset):
    return data.columns_by_kind


def _fit(model, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model
