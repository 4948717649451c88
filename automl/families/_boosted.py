"""What the boosted-tree families share: every fit holds out ``validation_fraction`` of its own
rows (stratified for classes) to stop ``early_stopping_rounds`` after the validation loss
stopped improving, so ``n_estimators`` is a ceiling and not a guess; class labels are coded
0..k-1 for the library and decoded on the way out; and the pipeline gives categorical columns
first, as codes, saying how many (``categorical_first``), so the library splits categories
itself instead of one-hot columns.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split

MIN_VALIDATION_ROWS = 30  # below this, early stopping would follow noise: fit every round


class Boosted(BaseEstimator):
    """Base of the boosted-tree wrappers; subclasses fit the library's model in ``_fit``."""

    native_categorical = True  # build_pipeline gives categorical columns as codes, first

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        y = self._encode(np.asarray(y))
        validation = None
        if self.early_stopping_rounds and int(len(y) * self.validation_fraction) >= MIN_VALIDATION_ROWS:
            X, X_val, y, y_val = self._inner_split(X, y)
            validation = (X_val, y_val)
        self.model_ = self._fit(X, y, validation)
        self.n_features_in_ = X.shape[1]
        return self

    def _encode(self, y):
        return y

    def _inner_split(self, X, y):
        return train_test_split(X, y, test_size=self.validation_fraction, random_state=self.random_state)

    def predict(self, X):
        return self.model_.predict(self._rows(X))

    def _rows(self, X):
        return np.asarray(X, dtype=np.float64)


class BoostedClassifierMixin:
    """Class labels as codes 0..k-1 for the library; lone rows of a class stay in training."""

    def _encode(self, y):
        self.classes_, codes = np.unique(y, return_inverse=True)
        return codes

    def _inner_split(self, X, y):
        # A class the booster never saw would be missing from its probabilities.
        labels, counts = np.unique(y, return_counts=True)
        lone = np.isin(y, labels[counts < 2])
        X_fit, X_val, y_fit, y_val = train_test_split(
            X[~lone], y[~lone], test_size=self.validation_fraction, stratify=y[~lone],
            random_state=self.random_state)
        return np.vstack([X_fit, X[lone]]), X_val, np.concatenate([y_fit, y[lone]]), y_val

    def predict_proba(self, X):
        return self.model_.predict_proba(self._rows(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
