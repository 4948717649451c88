"""CatBoost as a family: early stopping inside every fit and native categories (``_boosted``;
CatBoost's ordered target statistics encode them), and the trial's deadline looked at after
every iteration. CatBoost is optional (``pip install 'automl[catboost]'``). A saved model holds
CatBoost's own binary model, which skops loads without unpickling code."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin

from automl.plan import check_time
from automl.errors import TimeLimitError

from ._boosted import Boosted, BoostedClassifierMixin


class _Deadline:
    """A CatBoost callback: stop iterating once the search trial's deadline has passed."""

    def after_iteration(self, info) -> bool:
        try:
            check_time()
        except TimeLimitError:
            return False
        return True


class _CatBoost(Boosted):
    def __init__(self, *, iterations=2000, learning_rate=0.08, depth=6, l2_leaf_reg=3.0,
                 random_strength=1.0, bagging_temperature=1.0, border_count=254,
                 one_hot_max_size=2, early_stopping_rounds=50, validation_fraction=0.1,
                 categorical_first=0, random_state=None, n_jobs=1):
        self.iterations, self.learning_rate, self.depth = iterations, learning_rate, depth
        self.l2_leaf_reg, self.random_strength = l2_leaf_reg, random_strength
        self.bagging_temperature, self.border_count = bagging_temperature, border_count
        self.one_hot_max_size, self.early_stopping_rounds = one_hot_max_size, early_stopping_rounds
        self.validation_fraction, self.categorical_first = validation_fraction, categorical_first
        self.random_state, self.n_jobs = random_state, n_jobs

    def _params(self) -> dict:
        return dict(iterations=self.iterations, learning_rate=self.learning_rate, depth=self.depth,
                    l2_leaf_reg=self.l2_leaf_reg, random_strength=self.random_strength,
                    bagging_temperature=self.bagging_temperature, border_count=self.border_count,
                    one_hot_max_size=self.one_hot_max_size, random_seed=self.random_state or 0,
                    thread_count=self.n_jobs, verbose=0, allow_writing_files=False)

    def _fit(self, X, y, validation):
        model = self._make(**self._params())
        kwargs = {"cat_features": list(range(self.categorical_first)), "callbacks": [_Deadline()]}
        if validation is not None:
            kwargs.update(eval_set=(self._rows(validation[0]), validation[1]),
                          early_stopping_rounds=self.early_stopping_rounds)
        model.fit(self._rows(X), y, **kwargs)
        check_time()  # the callback stopped it at the deadline: the trial is over
        self.n_iter_ = int(model.tree_count_)
        return model

    def _rows(self, X):
        """Codes of categorical columns as integers (missing: -1), as CatBoost wants them."""
        X = np.asarray(X, dtype=np.float64)
        if not self.categorical_first:
            return X
        frame = pd.DataFrame(X)
        for j in range(self.categorical_first):
            frame[j] = np.where(np.isnan(X[:, j]), -1, X[:, j]).astype(np.int64)
        return frame


class CatBoostClassifier(BoostedClassifierMixin, ClassifierMixin, _CatBoost):
    """CatBoost gradient-boosted oblivious trees for classes, with early stopping."""

    def _make(self, **params):
        from catboost import CatBoostClassifier as Model

        return Model(**params)


class CatBoostRegressor(RegressorMixin, _CatBoost):
    """CatBoost gradient-boosted oblivious trees for values, with early stopping."""

    def _make(self, **params):
        from catboost import CatBoostRegressor as Model

        return Model(**params)
