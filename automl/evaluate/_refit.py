"""Refit the best configuration on all training rows.

The refit starts from a fresh pipeline built from the best trial's parameters, never from a model
fitted on a CV fold (as scikit-learn's ``BaseSearchCV`` refits a clone).
"""

from __future__ import annotations

import warnings

from automl.data import Dataset
from automl.search import TrialSpec
from automl.split import Split


def refit(trial, data: Dataset, split: Split, seed: int):
    """A fresh pipeline from ``trial``'s parameters, fitted on the whole training part."""
    from sklearn.exceptions import ConvergenceWarning

    columns = (data.numeric, data.categorical, data.datetime)
    pipeline = TrialSpec.from_trial(trial).build(data.task, columns, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(split.X_train, split.y_train)
    return pipeline
