"""On tiny tables, a fit runs in the search process only when it is known to be cheap; any other
runs in a worker that is killed at its deadline, the final fit included. No wall-clock asserts:
outcomes (a trial PRUNED for its time, a worker killed, no worker started) are checked."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from automl.data import prepare
from automl.families import fit_seconds
from automl.metrics import get_metric
from automl.search import CVObjective, FoldData, make_runner
from automl.trial import TrialSpec, attrs
from automl.search._runner import CHEAP_S, MixedRunner
from automl.space import load_space
from automl.split import cv_folds, holdout

ABSURD = {  # a user's space may set any of these; none may hold a run past its deadline
    "hist_gradient_boosting": {"max_iter": 100_000_000, "early_stopping": False},
    "svm": {"C": 1.0e4},  # libsvm without max_iter runs until it converges
    "mlp": {"max_iter": 100_000_000, "layer_size": 512, "n_layers": 3},
    "logistic": {"max_iter": 1_000_000_000, "tol": 0.0},
    "sgd": {"max_iter": 1_000_000_000, "tol": None},
    "random_forest": {"n_estimators": 100_000_000},
    "extra_trees": {"n_estimators": 100_000_000},
}


@pytest.fixture
def tiny(rng):
    n = 120
    x = rng.normal(size=(n, 4))
    frame = pd.DataFrame(x, columns=list("abcd")).assign(y=np.where(x[:, 0] > 0, "p", "n"))
    data = prepare(frame, "y", "auto", "t")
    split = holdout(data, 0.2, 0)
    return data, FoldData(split.X_train, split.y_train, cv_folds(split, data.task, 3, 0, False))


@pytest.mark.parametrize("family", sorted(ABSURD))
def test_absurd_parameters_are_not_cheap(family):
    seconds = fit_seconds(family, "binary", ABSURD[family], 100, 4, 2)
    assert seconds is None or seconds > CHEAP_S


@pytest.mark.parametrize("family, params", [
    ("logistic", {"C": 100.0, "max_iter": 500}), ("knn", {"n_neighbors": 30}),
    ("decision_tree", {"max_depth": 12}), ("naive_bayes", {}), ("gd", {"max_epochs": 10**9}),
    ("lightgbm", {"n_estimators": 10**9}), ("hist_gradient_boosting", {"max_iter": 100, "max_leaf_nodes": 31}),
])
def test_fast_and_self_stopping_fits_are_cheap_on_a_tiny_table(family, params):
    assert fit_seconds(family, "binary", params, 120, 4, 2) <= CHEAP_S


def test_forests_stop_in_chunks_of_folds_but_not_inside_an_ensemble(tiny):
    data, folds = tiny
    runner = make_runner(folds, get_metric(data.task, None), 1, task=data.task)
    forest = TrialSpec("random_forest", ABSURD["random_forest"], {})
    assert isinstance(runner, MixedRunner) and runner.cheap("random_forest", forest.model_params)
    assert not runner.cheap_all([forest, TrialSpec("naive_bayes", {}, {})])


def _objective(workdir, data, folds, text, seconds):
    (workdir / "space.yaml").write_text(text)
    space = load_space(str(workdir / "space.yaml"), data.task)
    runner = make_runner(folds, get_metric(data.task, None), 1, task=data.task)
    return CVObjective(space, folds, data.columns_by_kind, get_metric(data.task, None), 0, runner,
                       seconds_for=lambda trial: seconds)


def test_cheap_trials_never_start_a_worker(tiny, workdir):
    data, folds = tiny
    objective = _objective(workdir, data, folds, "models:\n  knn:\n    n_neighbors: {type: int, low: 1, high: 9}\n"
                           "  logistic:\n    C: {type: float, low: 0.1, high: 10.0}\n", 30.0)
    study = optuna.create_study()
    study.optimize(objective, n_trials=4)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert objective.runner.pool is None


def test_an_unbounded_fit_on_a_tiny_table_is_killed_at_its_deadline(tiny, workdir):
    data, folds = tiny
    objective = _objective(workdir, data, folds, "models:\n  hist_gradient_boosting:\n"
                           "    max_iter: 100000000\n    early_stopping: false\n", 0.5)
    study = optuna.create_study()
    try:
        study.optimize(objective, n_trials=1)
        trial = study.trials[0]
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert attrs.stopped(trial).startswith("time limit: fold 0 was still fitting")
        assert objective.runner.pool.killed == 1
        objective.runner.warm()  # the killed slot is refilled for the final fit
        assert all(worker is not None for worker in objective.runner.pool._pool)
    finally:
        objective.runner.close()


def test_the_final_fit_is_killed_at_its_deadline_and_a_cheap_one_runs_here(tiny):
    data, folds = tiny
    runner = make_runner(folds, get_metric(data.task, None), 1, task=data.task)
    try:
        cheap = TrialSpec("logistic", {"C": 1.0}, {}).build(data.task, data.columns_by_kind, 0)
        done = runner.refit(cheap, 5.0, cheap=True)
        assert done.kind == "ok" and done.model is cheap and runner.pool is None
        absurd = TrialSpec("hist_gradient_boosting", ABSURD["hist_gradient_boosting"], {})
        result = runner.refit(absurd.build(data.task, data.columns_by_kind, 0), 0.5)
        assert result.kind == "time" and result.model is None and runner.killed == 1
    finally:
        runner.close()
