"""automl.metrics: which metric per task, its direction, and computing it from a fitted model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier

from automl.errors import ConfigError
from automl.metrics import DEFAULT_METRIC, TASK_METRICS, evaluate, get_metric, score


@pytest.mark.parametrize("task", sorted(TASK_METRICS))
def test_default_metric(task):
    metric = get_metric(task, None)
    assert metric.name == DEFAULT_METRIC[task] and metric.direction in ("maximize", "minimize")


@pytest.mark.parametrize(("task", "name", "direction"), [("binary", "log_loss", "minimize"),
                                                         ("binary", "f1", "maximize"),
                                                         ("regression", "r2", "maximize"),
                                                         ("regression", "mae", "minimize")])
def test_directions(task, name, direction):
    assert get_metric(task, name).direction == direction


@pytest.mark.parametrize(("task", "name"), [("regression", "accuracy"), ("multiclass", "roc_auc"),
                                            ("binary", "rmse"), ("binary", "nope")])
def test_unavailable_metric(task, name):
    with pytest.raises(ConfigError, match=f"metric: '{name}' is not available for a {task} task; choose one of "):
        get_metric(task, name)


@pytest.fixture
def binary(rng):
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0, "yes", "no")
    return X, y


def test_binary_metrics_match_sklearn(binary):
    X, y = binary
    model = LogisticRegression().fit(X, y)
    got = evaluate(model, X, y, TASK_METRICS["binary"])
    proba, labels = model.predict_proba(X), model.predict(X)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert got["f1"] == pytest.approx(skm.f1_score(y, labels, pos_label="yes"))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, labels))


def test_roc_auc_from_decision_function(binary):
    X, y = binary
    model = SGDClassifier(loss="hinge", random_state=0).fit(X, y)
    assert not hasattr(model, "predict_proba")
    expected = skm.roc_auc_score(y, model.decision_function(X))
    assert score(model, X, y, get_metric("binary", "roc_auc")) == pytest.approx(expected)
    # Without probabilities log_loss is undefined: None, so testing every metric never crashes.
    assert score(model, X, y, get_metric("binary", "log_loss")) is None


def test_regression_metrics(rng):
    X = rng.normal(size=(50, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=50)
    model = LinearRegression().fit(X, y)
    got = evaluate(model, X, y, TASK_METRICS["regression"])
    pred = model.predict(X)
    assert got["rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)))
    assert got["mae"] == pytest.approx(np.mean(np.abs(y - pred)))
    assert 0.5 < got["r2"] <= 1
