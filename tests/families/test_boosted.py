"""The boosted-tree families (lightgbm, catboost): categories split natively, early stopping inside
every fit, the trial's deadline between rounds, and a saved model that skops loads back."""

import time

import numpy as np
import pandas as pd
import pytest

from automl.plan import time_limit
from automl.errors import TimeLimitError
from automl.families._catboost import CatBoostClassifier, CatBoostRegressor
from automl.families._lightgbm import LightGBMClassifier, LightGBMRegressor
from automl.trial import TrialSpec

COLUMNS = (["a", "b"], ["city"], [])
ROUNDS = {"lightgbm": "n_estimators", "catboost": "iterations"}
CLASSIFIERS = {"lightgbm": LightGBMClassifier, "catboost": CatBoostClassifier}
REGRESSORS = {"lightgbm": LightGBMRegressor, "catboost": CatBoostRegressor}


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 1500
    cities = np.array([f"c{i}" for i in range(12)])
    effect = dict(zip(cities, rng.normal(scale=2.0, size=12)))
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "city": rng.choice(cities, n)})
    value = frame["a"] + frame["city"].map(effect) + rng.normal(scale=0.3, size=n)
    return frame, np.where(value > 0, "yes", "no"), value


def _pipeline(task, family="lightgbm", **params):
    return TrialSpec(family, params, {}).build(task, COLUMNS, seed=0)


def test_catboost_is_told_which_columns_are_categories(table):
    frame, y, _ = table
    pipe = _pipeline("binary", "catboost", iterations=30).fit(frame, y)
    assert pipe[-1].model_.get_cat_feature_indices() == [0]
    unseen = frame.head(3).assign(city=["nowhere", None, "c1"])
    assert pipe.predict_proba(unseen).shape == (3, 2)


def test_lightgbm_splits_categories_natively(table):
    frame, y, _ = table
    pipe = _pipeline("binary").fit(frame, y)
    assert list(pipe[0].get_feature_names_out()) == ["city", "a", "b"]
    assert pipe[-1].categorical_first == 1
    trees = pipe[-1].model_.booster_.dump_model()["tree_info"]

    def decisions(node):
        if "decision_type" not in node:
            return []
        return [node["decision_type"]] + decisions(node["left_child"]) + decisions(node["right_child"])

    # "==" is LightGBM's categorical split (a set of categories), "<=" a numeric threshold.
    assert "==" in {d for tree in trees for d in decisions(tree["tree_structure"])}
    unseen = frame.head(3).assign(city=["nowhere", None, "c1"])
    assert pipe.predict_proba(unseen).shape == (3, 2)


@pytest.mark.parametrize("family", sorted(ROUNDS))
def test_early_stopping_ends_each_fit_before_its_ceiling(table, family):
    frame, y, value = table
    ceiling = {ROUNDS[family]: 3000, "learning_rate": 0.3}
    classifier = _pipeline("binary", family, **ceiling).fit(frame, y)
    assert classifier[-1].n_iter_ < 3000
    regressor = _pipeline("regression", family, **ceiling).fit(frame, value)
    assert regressor[-1].n_iter_ < 3000 and regressor.score(frame, value) > 0.9


@pytest.mark.parametrize("family", sorted(ROUNDS))
def test_a_lone_row_of_a_class_stays_in_training(family):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = np.array(["a", "b"] * 199 + ["a", "rare"])
    model = CLASSIFIERS[family](**{ROUNDS[family]: 20}, random_state=0).fit(X, y)
    assert list(model.classes_) == ["a", "b", "rare"]
    assert model.predict_proba(X).shape == (400, 3)
    assert set(model.predict(X)) <= {"a", "b", "rare"}


@pytest.mark.parametrize("family", sorted(ROUNDS))
def test_the_trial_deadline_stops_the_boosting(family):
    X = np.random.default_rng(2).normal(size=(300, 4))
    y = X[:, 0] * 2
    with time_limit(time.monotonic() - 1.0), pytest.raises(TimeLimitError):
        REGRESSORS[family](**{ROUNDS[family]: 500}).fit(X, y)


@pytest.mark.parametrize("family", sorted(ROUNDS))
def test_saved_with_skops_and_loaded_back(table, family):
    import skops.io

    frame, y, _ = table
    pipe = _pipeline("binary", family, **{ROUNDS[family]: 50}).fit(frame, y)
    data = skops.io.dumps(pipe)
    loaded = skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))
    np.testing.assert_allclose(loaded.predict_proba(frame), pipe.predict_proba(frame))
