"""automl.families: the allow-list of families and the scikit-learn builders."""

from __future__ import annotations

import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge

from automl.errors import ConfigError, UnknownFamilyError
from automl.families import FAMILIES, RESERVED, build_estimator, get_family
from automl.families._sklearn import linear, logistic, mlp


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_every_family_builds_an_estimator(family, task):
    fam = FAMILIES[family]
    if not fam.supports(task):
        with pytest.raises(UnknownFamilyError, match=f"has no {task} estimator"):
            fam.factory(task)
        return
    est = build_estimator(family, task, {}, seed=7)
    assert hasattr(est, "fit") and hasattr(est, "predict")
    assert not fam.param_names(task) & RESERVED
    params = est.get_params()  # nested too: a calibrated SVC's seed is estimator__random_state
    seeds = [v for k, v in params.items() if k.endswith("random_state")]
    assert all(s == 7 for s in seeds)
    assert all(v in (1, None) for k, v in params.items() if k.endswith("n_jobs"))  # folds are parallel


def test_unknown_family():
    with pytest.raises(UnknownFamilyError, match="unknown model family 'xgb'; choose one of logistic") as caught:
        get_family("xgb")
    assert isinstance(caught.value, KeyError) and caught.value.exit_code == 2


def test_params_unknown_to_the_factory_are_ignored():
    est = build_estimator("knn", "binary", {"n_neighbors": 4, "weights": "distance"}, seed=0)
    assert (est.n_neighbors, est.weights) == (4, "distance")


@pytest.mark.parametrize(("penalty", "ratio", "solver"), [("l2", 0.0, "lbfgs"), ("l1", 1.0, "saga"),
                                                          ("elasticnet", 0.3, "saga")])
def test_logistic_penalty(penalty, ratio, solver):
    est = logistic(penalty=penalty, l1_ratio=0.3, C=2.0)
    assert isinstance(est, LogisticRegression)
    assert (est.l1_ratio, est.solver, est.C) == (ratio, solver, 2.0)


@pytest.mark.parametrize(("penalty", "cls"), [("l2", Ridge), ("l1", Lasso), ("elasticnet", ElasticNet)])
def test_linear_penalty(penalty, cls):
    assert type(linear(penalty=penalty, alpha=0.5)) is cls


@pytest.mark.parametrize("builder", [logistic, linear])
def test_bad_penalty(builder):
    with pytest.raises(ConfigError, match=r"penalty must be one of \('l1', 'l2', 'elasticnet'\), got 'l3'"):
        builder(penalty="l3")


def test_mlp_layers_and_svm_calibration():
    assert mlp(n_layers=3, layer_size=8).hidden_layer_sizes == (8, 8, 8)
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    assert type(build_estimator("mlp", "multiclass", {}, seed=0)) is MLPClassifier
    assert type(build_estimator("mlp", "regression", {}, seed=0).regressor) is MLPRegressor
    svm = build_estimator("svm", "binary", {"C": 3.0}, seed=1)
    assert isinstance(svm, CalibratedClassifierCV) and svm.estimator.C == 3.0


def test_a_family_whose_package_is_missing_is_refused_by_name(monkeypatch):
    from automl.families import Family
    from automl.space import validate

    monkeypatch.setitem(FAMILIES, "catboost", Family("catboost", "x:y", "x:z", requires="no_such_package_xyz"))
    problems, _ = validate({"models": {"catboost": {"depth": 4}}})
    assert problems == ["models.catboost: model family 'catboost' needs the no_such_package_xyz package: "
                        "pip install 'automl[no_such_package_xyz]', or remove it from the space"]
    assert FAMILIES["lightgbm"].available()
