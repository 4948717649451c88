"""Categorical columns for models that need numbers: one-hot for few categories, out-of-fold
target encoding for many.

A column with more categories in a fold than ``max_categories`` used to be one-hot encoded with
all but the most frequent grouped as "infrequent", losing what the rest said. Target encoding
replaces each category by a shrunk mean of the target over the rows that have it (scikit-learn's
``TargetEncoder``, whose ``fit_transform`` cross-fits: a training row's code never saw its own
target), one column per class for more than two classes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class CategoricalEncoder(TransformerMixin, BaseEstimator):
    """One-hot (rare categories grouped) for columns with up to ``max_categories`` categories in
    the fitted rows; ``high_cardinality="target"`` target-encodes the others, ``"onehot"`` keeps
    them one-hot with the rest grouped."""

    def __init__(self, min_frequency=0.01, max_categories=30, high_cardinality="target",
                 regression=False, random_state=0):
        self.min_frequency, self.max_categories = min_frequency, max_categories
        self.high_cardinality, self.regression = high_cardinality, regression
        self.random_state = random_state

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        from sklearn.preprocessing import OneHotEncoder, TargetEncoder

        X = np.asarray(X, dtype=object)
        self.n_features_in_ = X.shape[1]
        many = [len(pd.unique(X[:, j])) > self.max_categories for j in range(X.shape[1])]
        target = self.high_cardinality == "target" and y is not None
        self.high_ = [j for j in range(X.shape[1]) if many[j] and target]
        self.low_ = [j for j in range(X.shape[1]) if j not in self.high_]
        self.onehot_ = OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=False,
                                     min_frequency=self.min_frequency,
                                     max_categories=self.max_categories) if self.low_ else None
        # Told, not inferred: a regression target of whole numbers (prices, counts) looks like
        # classes to type_of_target, which would give one column per distinct value.
        self.target_ = TargetEncoder(target_type="continuous" if self.regression else "auto",
                                     cv=self._folds(y)) if self.high_ else None
        parts = []
        if self.onehot_ is not None:
            parts.append(self.onehot_.fit_transform(X[:, self.low_]))
        if self.target_ is not None:
            parts.append(self.target_.fit_transform(X[:, self.high_], self._target_units(y)))
        return np.hstack(parts).astype(np.float64)

    def _target_units(self, y):
        # A regression target's means come out in the target's units (life expectancy: 30-80),
        # unscaled next to standardised numbers: SGD diverged on them and penalties bit unevenly.
        # Encoding the standardised target puts the codes on the scale of the other features.
        if not self.regression:
            return np.asarray(y)
        y = np.asarray(y, dtype=np.float64)
        spread = float(np.std(y))
        return (y - float(np.mean(y))) / (spread if spread > 0 else 1.0)

    def _folds(self, y):
        # The cross-fitting folds, shuffled with our seed (stratified for classes).
        from sklearn.model_selection import KFold, StratifiedKFold

        splitter = KFold if self.regression else StratifiedKFold
        return splitter(5, shuffle=True, random_state=self.random_state)

    def transform(self, X):
        X = np.asarray(X, dtype=object)
        parts = []
        if self.onehot_ is not None:
            parts.append(self.onehot_.transform(X[:, self.low_]))
        if self.target_ is not None:
            parts.append(self.target_.transform(X[:, self.high_]))
        return np.hstack(parts).astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        names = np.asarray(input_features if input_features is not None else
                           [f"x{j}" for j in range(self.n_features_in_)], dtype=object)
        out = []
        if self.onehot_ is not None:
            out += list(self.onehot_.get_feature_names_out(names[self.low_]))
        if self.target_ is not None:
            out += list(self.target_.get_feature_names_out(names[self.high_]))
        return np.asarray(out, dtype=object)
