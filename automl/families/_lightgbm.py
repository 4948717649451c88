"""LightGBM as a family: early stopping on an inner validation split, the trial's deadline
looked at between boosting rounds, and categorical columns split natively.

The estimators wrap ``lightgbm.LGBMClassifier``/``LGBMRegressor`` rather than being them so that
every fit, a CV fold's and the final refit alike, holds out ``validation_fraction`` of its own
rows (stratified for classes) and stops ``early_stopping_rounds`` after the validation loss
stopped improving: ``n_estimators`` is a ceiling, not a guess. The pipeline puts the categorical
columns first as integer codes (:func:`automl.preprocess.build_pipeline`) and says how many
(``categorical_first``), so LightGBM partitions categories instead of splitting one-hot columns.
A saved model holds LightGBM's own text model, which skops loads without unpickling code.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split

from automl.budget import check_time

MIN_VALIDATION_ROWS = 30  # below this, early stopping would follow noise: fit every round


def _deadline(env) -> None:
    # A LightGBM callback: a search trial's deadline stops the fit between two rounds.
    check_time()


class _LightGBM(BaseEstimator):
    native_categorical = True  # build_pipeline gives categorical columns as codes, first

    def __init__(self, *, n_estimators=2000, learning_rate=0.05, num_leaves=31, max_depth=-1,
                 min_child_samples=20, subsample=1.0, colsample_bytree=1.0, reg_alpha=0.0,
                 reg_lambda=0.0, min_split_gain=0.0, max_bin=255, cat_smooth=10.0,
                 early_stopping_rounds=50, validation_fraction=0.1, categorical_first=0,
                 random_state=None, n_jobs=1):
        self.n_estimators, self.learning_rate, self.num_leaves = n_estimators, learning_rate, num_leaves
        self.max_depth, self.min_child_samples, self.subsample = max_depth, min_child_samples, subsample
        self.colsample_bytree, self.reg_alpha, self.reg_lambda = colsample_bytree, reg_alpha, reg_lambda
        self.min_split_gain, self.max_bin, self.cat_smooth = min_split_gain, max_bin, cat_smooth
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.categorical_first, self.random_state, self.n_jobs = categorical_first, random_state, n_jobs

    def _booster_params(self) -> dict:
        return dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                    num_leaves=self.num_leaves, max_depth=self.max_depth,
                    min_child_samples=self.min_child_samples, subsample=self.subsample,
                    subsample_freq=1 if self.subsample < 1.0 else 0,
                    colsample_bytree=self.colsample_bytree, reg_alpha=self.reg_alpha,
                    reg_lambda=self.reg_lambda, min_split_gain=self.min_split_gain,
                    max_bin=self.max_bin, cat_smooth=self.cat_smooth,
                    random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1)

    def fit(self, X, y):
        import lightgbm

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        self.model_ = self._make(**self._booster_params())
        callbacks = [_deadline]
        kwargs = {"categorical_feature": list(range(self.categorical_first)) or "auto"}
        held = int(len(y) * self.validation_fraction)
        if self.early_stopping_rounds and held >= MIN_VALIDATION_ROWS:
            X, X_val, y, y_val = self._inner_split(X, y)
            kwargs.update(eval_X=X_val, eval_y=y_val)
            callbacks.append(lightgbm.early_stopping(self.early_stopping_rounds, verbose=False))
        self.model_.fit(X, y, callbacks=callbacks, **kwargs)
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = int(self.model_.best_iteration_ or self.model_.n_estimators)
        return self

    def _inner_split(self, X, y):
        return train_test_split(X, y, test_size=self.validation_fraction,
                                random_state=self.random_state)

    def predict(self, X):
        return self.model_.predict(np.asarray(X, dtype=np.float64))


class LightGBMClassifier(ClassifierMixin, _LightGBM):
    """LightGBM gradient-boosted trees for classes, with early stopping and native categories."""

    def _make(self, **params):
        from lightgbm import LGBMClassifier

        return LGBMClassifier(**params)

    def _inner_split(self, X, y):
        # Classes with a single row stay in training: a class the booster never saw would be
        # missing from its probabilities.
        labels, counts = np.unique(y, return_counts=True)
        lone = np.isin(y, labels[counts < 2])
        X_fit, X_val, y_fit, y_val = train_test_split(
            X[~lone], y[~lone], test_size=self.validation_fraction, stratify=y[~lone],
            random_state=self.random_state)
        return np.vstack([X_fit, X[lone]]), X_val, np.concatenate([y_fit, y[lone]]), y_val

    def fit(self, X, y):
        # LightGBM sees class codes 0..k-1 (its validation labels are not encoded for it).
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        return super().fit(X, codes)

    def predict_proba(self, X):
        return self.model_.predict_proba(np.asarray(X, dtype=np.float64))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class LightGBMRegressor(RegressorMixin, _LightGBM):
    """LightGBM gradient-boosted trees for values, with early stopping and native categories."""

    def _make(self, **params):
        from lightgbm import LGBMRegressor

        return LGBMRegressor(**params)
