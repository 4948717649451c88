"""Every optimizer's defaults learn a standardised real data set about as well as scikit-learn's
exact solvers do: a user who picks an optimizer should not also have to find its step size."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from automl.families.gd import OPTIMIZERS, GDClassifier, GDRegressor
from automl.families.gd._training import auto_learning_rate
from automl.families.gd._losses import binary_log_loss, squared_loss


def _standardised(loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def cancer():
    return _standardised(load_breast_cancer)


@pytest.fixture(scope="module")
def diabetes():
    X_train, X_test, y_train, y_test = _standardised(load_diabetes)
    mean, std = y_train.mean(), y_train.std()
    return X_train, X_test, (y_train - mean) / std, (y_test - mean) / std


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_default_classifier_is_close_to_logistic_regression(cancer, optimizer):
    X_train, X_test, y_train, y_test = cancer
    exact = LogisticRegression().fit(X_train, y_train).score(X_test, y_test)
    ours = GDClassifier(optimizer=optimizer, random_state=0).fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= exact - 0.025, (optimizer, ours.learning_rate_)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_default_regressor_is_close_to_least_squares(diabetes, optimizer):
    X_train, X_test, y_train, y_test = diabetes
    exact = LinearRegression().fit(X_train, y_train).score(X_test, y_test)
    ours = GDRegressor(optimizer=optimizer, random_state=0).fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= exact - 0.03, (optimizer, ours.learning_rate_)


def test_auto_rate_shrinks_with_the_batch_and_the_curvature(cancer):
    X = cancer[0]
    full = auto_learning_rate("gd", len(X), binary_log_loss, X, None, 0.0, True)
    single = auto_learning_rate("sgd", 1, binary_log_loss, X, None, 0.0, True)
    batch = auto_learning_rate("minibatch", 64, binary_log_loss, X, None, 0.0, True)
    assert single < batch < full  # noisier steps must be shorter
    # Squared error curves 4x as much as the logistic loss: a quarter of the step.
    assert auto_learning_rate("gd", len(X), squared_loss, X, None, 0.0, True) \
        == pytest.approx(full / 4, rel=1e-6)
    # Full-batch 1/L: the largest eigenvalue of [X 1]'[X 1]/n, as numpy computes it.
    Xa = np.hstack([X, np.ones((len(X), 1))])
    assert full == pytest.approx(1 / (0.25 * np.linalg.eigvalsh(Xa.T @ Xa / len(X)).max()), rel=0.02)
    assert auto_learning_rate("adam", 64, binary_log_loss, X, None, 0.0, True) == 0.01


def test_an_explicit_rate_is_kept(cancer):
    X_train, _, y_train, _ = cancer
    model = GDClassifier(optimizer="gd", learning_rate=0.3, max_epochs=3, tol=None).fit(X_train, y_train)
    assert model.learning_rate_ == 0.3
