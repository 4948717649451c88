"""Parameters, stopping rules and update rules of the gradient-descent estimators."""

import doctest

import numpy as np
import pytest
import yaml
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import recall_score
from sklearn.preprocessing import StandardScaler

from automl.families.gd import OPTIMIZERS, GDClassifier, GDRegressor, _classifier, _optimizers, _regressor
from automl.families.gd._optimizers import scheduled_learning_rate
from automl.space import SPACES_DIR

SPACE = SPACES_DIR / "optimizers.yaml"


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "params, message",
    [
        ({"optimizer": "lbfgs"}, r"'optimizer' parameter of GDClassifier must be one of \["),
        ({"learning_rate": 0.0}, r"'learning_rate' .* in \(0, inf\) or one of \['auto'\]. Got 0.0 instead"),
        ({"batch_size": 0}, r"'batch_size' .* an int in \[1, inf\)"),
        ({"tol": -1.0}, r"'tol' .* or a NoneType. Got -1.0"),
        ({"penalty": "l3"}, r"'penalty' .* one of \['none', 'l2', 'l1', 'elasticnet'\]"),
        ({"class_weight": "auto"}, r"'class_weight' .* Got 'auto'"),
        ({"early_stopping": 1}, r"'early_stopping' .* a bool. Got 1"),
        ({"validation_fraction": 1.0}, r"'validation_fraction' .* in \(0, 1\)"),
    ],
)
def test_invalid_parameters_are_named_with_allowed_values(binary, params, message):
    with pytest.raises(ValueError, match=message):
        GDClassifier(**params).fit(*binary)


def test_regressor_only_parameters_are_validated(binary):
    with pytest.raises(ValueError, match=r"'loss' parameter of GDRegressor"):
        GDRegressor(loss="hinge").fit(*binary)
    with pytest.raises(ValueError, match=r"'huber_delta'"):
        GDRegressor(loss="huber", huber_delta=0.0).fit(*binary)


def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(
        n_samples=400, n_features=5, weights=[0.9], flip_y=0.1, class_sep=0.5, random_state=0
    )
    plain = GDClassifier(random_state=0).fit(X, y)
    balanced = GDClassifier(class_weight="balanced", random_state=0).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X)) + 0.1


def test_huber_loss_resists_outliers():
    X, y, true_coef = make_regression(
        n_samples=300, n_features=3, noise=0.1, coef=True, random_state=0
    )
    y = y.copy()
    y[:15] += 2000.0
    squared = GDRegressor(optimizer="adam", learning_rate=0.5, random_state=0).fit(X, y)
    huber = GDRegressor(
        optimizer="adam", learning_rate=0.5, loss="huber", huber_delta=1.0, random_state=0
    ).fit(X, y)
    assert np.abs(huber.coef_ - true_coef).max() < 0.1 * np.abs(squared.coef_ - true_coef).max()


def test_early_stopping_records_validation_curve_and_keeps_best_epoch(binary):
    model = GDClassifier(
        early_stopping=True, learning_rate=0.05, n_iter_no_change=3, random_state=0
    ).fit(*binary)
    assert len(model.validation_loss_curve_) == len(model.loss_curve_) == model.n_iter_
    assert model.n_iter_ < model.max_epochs
    best = int(np.argmin(model.validation_loss_curve_))
    assert best < model.n_iter_ - 1
    # The same seed gives the same split and epochs, so a run that ends at the best epoch must
    # hold the parameters the longer run restored.
    ends_at_best = GDClassifier(
        early_stopping=True, learning_rate=0.05, max_epochs=best + 1, tol=None, random_state=0
    ).fit(*binary)
    np.testing.assert_array_equal(model.coef_, ends_at_best.coef_)


def test_without_early_stopping_tol_stops_on_the_training_loss(binary):
    stopped = GDClassifier(tol=1e-2, random_state=0).fit(*binary)
    assert stopped.validation_loss_curve_ is None
    assert stopped.n_iter_ < 50
    full = GDClassifier(tol=None, max_epochs=30, random_state=0).fit(*binary)
    assert full.n_iter_ == 30 and len(full.loss_curve_) == 30


def test_fit_is_reproducible_with_a_seed_and_shuffles_otherwise(binary):
    first = GDClassifier(random_state=3, max_epochs=5).fit(*binary).coef_
    second = GDClassifier(random_state=3, max_epochs=5).fit(*binary).coef_
    other = GDClassifier(random_state=4, max_epochs=5).fit(*binary).coef_
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_fit_intercept_false_leaves_zero_intercept(binary):
    model = GDClassifier(fit_intercept=False, max_epochs=5, random_state=0).fit(*binary)
    np.testing.assert_array_equal(model.intercept_, [0.0])


def test_probabilities_stay_finite_for_extreme_logits(binary):
    X, y = binary
    model = GDClassifier(max_epochs=5, random_state=0).fit(X, y)
    far = X[:3] * 1e6
    assert np.isfinite(model.predict_log_proba(far)).all()
    np.testing.assert_allclose(model.predict_proba(far).sum(axis=1), 1.0)
    expected = model.classes_[(model.decision_function(far) > 0).astype(int)]
    np.testing.assert_array_equal(model.predict(far), expected)


@pytest.mark.parametrize(
    "schedule, epoch, expected",
    [("constant", 9, 0.1), ("invscaling", 3, 0.05), ("step", 9, 0.1), ("step", 10, 0.05)],
)
def test_learning_rate_schedules_count_epochs(schedule, epoch, expected):
    rate = scheduled_learning_rate(schedule, 0.1, epoch, power_t=0.5, step_size=10, decay=0.5)
    assert rate == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_first_update_moves_against_the_gradient(name):
    param = np.array([1.0, -1.0, 0.0])
    grad = np.array([2.0, -0.5, 0.0])
    optimizer = OPTIMIZERS[name](learning_rate=0.1)
    optimizer.update([param], [grad])
    np.testing.assert_array_less(param[:2] * [1, -1], [1.0, 1.0])
    assert param[2] == 0.0


def test_adam_first_step_is_learning_rate_times_sign():
    param = np.zeros(2)
    OPTIMIZERS["adam"](learning_rate=0.01).update([param], [np.array([3.0, -0.1])])
    np.testing.assert_allclose(param, [-0.01, 0.01], rtol=1e-4)


def test_batch_policy_of_gd_and_sgd():
    assert OPTIMIZERS["gd"]().batch_size(32, 1000) == 1000
    assert OPTIMIZERS["sgd"]().batch_size(32, 1000) == 1
    assert OPTIMIZERS["adam"]().batch_size(32, 10) == 10


@pytest.mark.parametrize("module", [_optimizers, _classifier, _regressor])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_optimizers_space_names_only_constructor_parameters():
    space = yaml.safe_load(SPACE.read_text())
    params = space["models"]["gd"]
    shared = set(GDClassifier().get_params()) & set(GDRegressor().get_params())
    assert set(params) <= shared
    assert params["optimizer"]["choices"] == list(OPTIMIZERS)
    numbers = [v for p in params.values() if isinstance(p, dict) for v in (p.get("low"), p.get("high"))]
    assert not any(isinstance(v, str) for v in numbers)
