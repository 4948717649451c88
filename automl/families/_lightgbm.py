"""LightGBM as a family: early stopping inside every fit and native categories (``_boosted``),
and the trial's deadline looked at between boosting rounds. A saved model holds LightGBM's own
text model, which skops loads without unpickling code."""

from __future__ import annotations

from sklearn.base import ClassifierMixin, RegressorMixin

from automl.plan import check_time

from ._boosted import Boosted, BoostedClassifierMixin


def _deadline(env) -> None:
    # A LightGBM callback: a search trial's deadline stops the fit between two rounds.
    check_time()


class _LightGBM(Boosted):
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

    def _params(self) -> dict:
        return dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                    num_leaves=self.num_leaves, max_depth=self.max_depth,
                    min_child_samples=self.min_child_samples, subsample=self.subsample,
                    subsample_freq=1 if self.subsample < 1.0 else 0,
                    colsample_bytree=self.colsample_bytree, reg_alpha=self.reg_alpha,
                    reg_lambda=self.reg_lambda, min_split_gain=self.min_split_gain,
                    max_bin=self.max_bin, cat_smooth=self.cat_smooth,
                    random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1)

    def _fit(self, X, y, validation):
        import lightgbm

        model = self._make(**self._params())
        callbacks = [_deadline]
        kwargs = {"categorical_feature": list(range(self.categorical_first)) or "auto"}
        if validation is not None:
            kwargs.update(eval_X=validation[0], eval_y=validation[1])
            callbacks.append(lightgbm.early_stopping(self.early_stopping_rounds, verbose=False))
        model.fit(X, y, callbacks=callbacks, **kwargs)
        self.n_iter_ = int(model.best_iteration_ or model.n_estimators)
        return model


class LightGBMClassifier(BoostedClassifierMixin, ClassifierMixin, _LightGBM):
    """LightGBM gradient-boosted trees for classes, with early stopping and native categories."""

    def _make(self, **params):
        from lightgbm import LGBMClassifier

        return LGBMClassifier(**params)


class LightGBMRegressor(RegressorMixin, _LightGBM):
    """LightGBM gradient-boosted trees for values, with early stopping and native categories."""

    def _make(self, **params):
        from lightgbm import LGBMRegressor

        return LGBMRegressor(**params)
