"""Correctness of the gradient-descent estimators against scikit-learn's exact solvers."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from automl.errors import AutomlError
from automl.families.gd import OPTIMIZERS, DivergenceError, GDClassifier, GDRegressor

ALPHA = 0.01
# Learning rates under which each optimizer converges on the standardised problems below.
GOOD_LR = {
    "gd": 0.5,
    "sgd": 0.01,
    "minibatch": 0.05,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.5,
    "rmsprop": 0.01,
    "adam": 0.05,
}


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def sparse_regression():
    rng = np.random.RandomState(0)
    X = StandardScaler().fit_transform(rng.randn(200, 20))
    w = np.zeros(20)
    w[[1, 4, 7, 12, 18]] = [2.0, -3.0, 1.5, 1.0, -2.0]
    return X, X @ w + 0.5 * rng.randn(200)


def ridge_objective(X, y, coef, intercept, alpha=ALPHA):
    residual = y - X @ coef - intercept
    return 0.5 * np.mean(residual**2) + 0.5 * alpha * coef @ coef


def exact(estimator_class, **params):
    """Full-batch gradient descent run to convergence: the deterministic reference setting."""
    settings = dict(optimizer="gd", learning_rate=0.5, alpha=ALPHA, tol=None, max_epochs=1000)
    return estimator_class(**{**settings, **params})


def test_l2_regressor_matches_ridge_with_alpha_times_n(regression):
    X, y = regression
    ridge = Ridge(alpha=len(y) * ALPHA).fit(X, y)
    ours = exact(GDRegressor).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-3)
    np.testing.assert_allclose(ours.intercept_[0], ridge.intercept_, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_l2_classifier_matches_logistic_regression_with_c_one_over_n_alpha(n_classes):
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    reference = LogisticRegression(C=1 / (len(y) * ALPHA), tol=1e-12, max_iter=10_000).fit(X, y)
    ours = exact(GDClassifier, learning_rate=1.0).fit(X, y)
    assert ours.coef_.shape == reference.coef_.shape
    expected = log_loss(y, reference.predict_proba(X))
    assert abs(log_loss(y, ours.predict_proba(X)) - expected) < 1e-4


def test_l1_proximal_step_finds_the_lasso_zero_pattern(sparse_regression):
    X, y = sparse_regression
    lasso = Lasso(alpha=0.1, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = exact(GDRegressor, penalty="l1", alpha=0.1, max_epochs=2000).fit(X, y)
    assert np.count_nonzero(ours.coef_) == 5
    np.testing.assert_array_equal(ours.coef_ == 0, lasso.coef_ == 0)
    np.testing.assert_allclose(ours.coef_, lasso.coef_, atol=1e-6)


def test_elasticnet_penalty_matches_sklearn_elasticnet(sparse_regression):
    X, y = sparse_regression
    reference = ElasticNet(alpha=0.1, l1_ratio=0.5, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = exact(GDRegressor, penalty="elasticnet", alpha=0.1, l1_ratio=0.5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-6)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_reaches_the_ridge_optimum(regression, optimizer):
    X, y = regression
    ridge = Ridge(alpha=len(y) * ALPHA).fit(X, y)
    best = ridge_objective(X, y, ridge.coef_, ridge.intercept_)
    model = GDRegressor(
        optimizer=optimizer,
        learning_rate=GOOD_LR[optimizer],
        alpha=ALPHA,
        batch_size=32,
        lr_schedule="step",
        step_size=20,
        max_epochs=100,
        tol=None,
        random_state=0,
    ).fit(X, y)
    reached = ridge_objective(X, y, model.coef_, model.intercept_[0])
    assert reached <= best * (1 + 5e-3)
    assert model.loss_curve_[-1] < model.loss_curve_[0]


@pytest.mark.parametrize("estimator_class", [GDClassifier, GDRegressor])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "gd"])
def test_too_large_learning_rate_raises_divergence_error_in_first_epochs(
    regression, estimator_class, optimizer
):
    X, y = regression
    # Labels uncorrelated with X: on separable data a huge step is harmless for the log-loss.
    rng = np.random.RandomState(0)
    target = rng.rand(len(y)) > 0.5 if estimator_class is GDClassifier else y * 1e3
    model = estimator_class(optimizer=optimizer, learning_rate=1e6, penalty="none", max_epochs=50)
    with pytest.raises(DivergenceError, match=rf"epoch [12] .*'{optimizer}'.*learning_rate=1000000"):
        model.fit(X, target)
    assert not hasattr(model, "coef_")


def test_divergence_error_is_an_automl_arithmetic_error_with_advice(regression):
    X, y = regression
    with pytest.raises(DivergenceError) as caught:
        GDRegressor(optimizer="gd", learning_rate=10.0).fit(X, y)
    assert isinstance(caught.value, AutomlError)
    assert isinstance(caught.value, ArithmeticError)
    assert "smaller learning_rate, e.g. 1" in str(caught.value)


def test_divergence_keeps_the_previous_fit_usable(regression):
    X, y = regression
    model = GDRegressor(optimizer="gd", learning_rate=0.5, warm_start=True).fit(X, y)
    before = model.predict(X)
    with pytest.raises(DivergenceError):
        model.set_params(learning_rate=1e3).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), before)


@pytest.mark.parametrize("estimator_class", [GDClassifier, GDRegressor])
def test_pickle_round_trip_predicts_identically(regression, estimator_class):
    X, y = regression
    target = y > 0 if estimator_class is GDClassifier else y
    model = estimator_class(random_state=0, max_epochs=20).fit(X, target)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.loss_curve_ == model.loss_curve_


def test_pipeline_with_column_transformer_on_a_dataframe():
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["colour"] = np.where(y == 1, "red", "blue")
    prepare = ColumnTransformer(
        [("num", StandardScaler(), ["a", "b", "c", "d"]), ("cat", OneHotEncoder(), ["colour"])]
    )
    pipeline = make_pipeline(prepare, GDClassifier(random_state=0)).fit(frame, y)
    assert pipeline.score(frame, y) > 0.95
    model = GDClassifier(random_state=0, max_epochs=5).fit(frame[["a", "b"]], y)
    assert list(model.feature_names_in_) == ["a", "b"]


def test_warm_start_continues_from_the_previous_coefficients(regression):
    X, y = regression
    model = exact(GDRegressor, max_epochs=300).fit(X, y)
    fitted = model.coef_.copy()
    model.set_params(warm_start=True, max_epochs=1, learning_rate=1e-3).fit(X, y)
    np.testing.assert_allclose(model.coef_, fitted, atol=1e-6)
    cold = exact(GDRegressor, max_epochs=1, learning_rate=1e-3).fit(X, y)
    assert np.abs(cold.coef_ - fitted).max() > 0.1


def test_warm_start_with_other_classes_names_both_shapes():
    X, y = make_classification(n_samples=90, n_classes=3, n_informative=3, random_state=0)
    model = GDClassifier(warm_start=True, max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match=r"shape \(1, 20\).*shape \(3, 20\)"):
        model.fit(X, y == 0)


def test_a_model_pickled_by_automl_0_1_still_loads():
    """automl 0.1 kept these estimators in ``automl.estimators``; its saved models name that path."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = GDClassifier(random_state=0, max_epochs=5).fit(X, y)
    old = pickle.dumps(model, protocol=0).replace(b"automl.families.gd._classifier",
                                                  b"automl.estimators._classifier")
    assert b"automl.estimators._classifier" in old
    loaded = pickle.loads(old)
    assert type(loaded) is GDClassifier
    assert (loaded.predict(X) == model.predict(X)).all()
