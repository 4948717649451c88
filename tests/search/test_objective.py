"""automl.search's objective: fold fitting without leakage, trial attributes, failures and pruning."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from automl.data import prepare
from automl.errors import ScoreError
from automl.families import build_estimator
from automl.metrics import get_metric
from automl.preprocess import build_pipeline
from automl.search import CVObjective, FoldData, FoldError, InProcessRunner, PoolRunner, fit_and_score
from automl.trial import TrialSpec
from automl.trial import attrs as A
from automl.space import load_space
from automl.split import cv_folds, holdout


class RowRecorder(TransformerMixin, BaseEstimator):
    """Passes data through and remembers the index labels of the rows it was fitted on."""

    def fit(self, X, y=None):
        self.fit_index_ = list(X.index)
        return self

    def transform(self, X):
        return X


@pytest.fixture
def prepared(rng, seed):
    """A table with NaNs whose statistics differ between folds, its holdout split and 3 folds."""
    n = 90
    x = rng.normal(size=n) * np.arange(1, n + 1)  # scale grows with the row: folds differ
    x[rng.random(n) < 0.2] = np.nan
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": np.where(np.arange(n) % 2, "a", "b")})
    data = prepare(frame, "y", "auto", "src")
    split = holdout(data, 0.2, seed)
    return data, split, cv_folds(split, data.task, 3, seed, False)


def test_fold_preprocessing_sees_only_its_training_rows(prepared, seed):
    data, split, folds = prepared
    X, y = split.X_train, split.y_train
    metric = get_metric(data.task, "accuracy")
    full_median = X["x"].median()
    for train, valid in folds:
        pipe = build_pipeline((data.numeric, [], []), {"numeric_imputer": "median"},
                              build_estimator("knn", data.task, {"n_neighbors": 3}, seed))
        value, _, curve, _, _ = fit_and_score(pipe, X, y, train, valid, metric)
        assert curve is None  # not an epoch-trained model
        assert 0 <= value <= 1
        numeric = pipe.named_steps["preprocess"].named_transformers_["numeric"]
        imputer, scaler = numeric.steps[1][1], numeric.steps[2][1]
        fold_rows = X.iloc[train][data.numeric]
        np.testing.assert_allclose(imputer.statistics_, fold_rows.median().to_numpy())
        np.testing.assert_allclose(scaler.mean_, fold_rows.fillna(fold_rows.median()).mean().to_numpy())
        assert imputer.statistics_[0] != pytest.approx(full_median)


def test_recorded_fit_rows_exclude_validation_and_test_rows(prepared, seed):
    data, split, folds = prepared
    X, y = split.X_train, split.y_train
    test_rows = set(split.X_test.index)
    assert test_rows and not test_rows & set(X.index)
    for train, valid in folds:
        inner = build_pipeline((data.numeric, [], []), {}, build_estimator("knn", data.task, {}, seed))
        pipe = Pipeline([("record", RowRecorder()), ("model", inner)])
        fit_and_score(pipe, X, y, train, valid, get_metric(data.task, None))
        seen = set(pipe.named_steps["record"].fit_index_)
        assert seen == set(X.index[train])
        assert not seen & set(X.index[valid]) and not seen & test_rows


def test_non_finite_score_is_an_error(rng):
    class Diverged(BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.full(len(X), 1e200)  # squared, this overflows to inf

    X, y = pd.DataFrame({"x": rng.normal(size=10)}), pd.Series(rng.normal(size=10))
    with np.errstate(over="ignore"), pytest.raises(ScoreError, match="rmse score is not finite"):
        fit_and_score(Diverged(), X, y, np.arange(5), np.arange(5, 10), get_metric("regression", None))


def _objective(prepared, space_file, seed, n_jobs=1, **kwargs):
    data, split, folds = prepared
    space = load_space(space_file, data.task)
    fold_data = FoldData(split.X_train, split.y_train, folds)
    metric = get_metric(data.task, "accuracy")
    runner = InProcessRunner(fold_data, metric) if n_jobs == 1 else PoolRunner(fold_data, metric, n_jobs)
    return CVObjective(space, fold_data, (data.numeric, [], []), metric, seed, runner, **kwargs)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_trial_attributes_and_score(prepared, seed, n_jobs):
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    objective = _objective(prepared, "fast.yaml", seed, n_jobs)
    study.optimize(objective, n_trials=2)
    objective.runner.close()
    for trial in study.trials:
        assert len(A.fold_scores(trial)) == 3
        assert trial.value == pytest.approx(np.mean(A.fold_scores(trial)))
        assert A.cv_std(trial) == pytest.approx(np.std(A.fold_scores(trial)))
        assert A.family(trial) == trial.params["model"]
        assert A.fit_time(trial) > 0 and A.predict_rate(trial) > 0 and A.parts(trial) > 0
        spec = TrialSpec.from_trial(trial)
        assert (spec.family, spec.model_params, spec.prep_params) == A.spec_parts(trial)
        # What the objective learns is two attributes (each is a transaction of the storage).
        assert set(trial.user_attrs) == {A.SPEC, A.FOLDS}


def test_failing_fit_is_recorded_and_reraised(prepared, seed, workdir):
    (workdir / "s.yaml").write_text("models:\n  knn: {n_neighbors: 500}\n")  # more than a fold's rows
    study = optuna.create_study(direction="maximize")
    study.optimize(_objective(prepared, "./s.yaml", seed), n_trials=1, catch=(FoldError,))
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs[A.ERROR].startswith("ValueError: Expected n_neighbors <= n_samples")
    assert A.fold_scores(trial) == [] and A.cv_std(trial) is None


class AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return True


def test_pruned_trial_records_the_fold(prepared, seed):
    study = optuna.create_study(direction="maximize", pruner=AlwaysPrune())
    study.optimize(_objective(prepared, "fast.yaml", seed), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED
    # Pruners are asked after every fold but the last (one fold process here).
    assert trial.user_attrs[A.PRUNED_AT] == 0 and len(A.fold_scores(trial)) == 1
    assert trial.intermediate_values == dict(enumerate(A.fold_scores(trial)))


def test_a_models_size_is_its_pickled_size_also_for_large_arrays():
    """Protocol 5 hands large arrays to the file as buffers: they count too (a forest of deep
    trees measured 0 bytes before)."""
    import pickle

    from automl.search._folds import pickled_size

    model = {"small": [1, 2, 3], "large": np.zeros(500_000)}  # 4 MB: written as a buffer
    assert pickled_size(model) == len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)) > 4_000_000
