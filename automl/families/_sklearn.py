"""Builders for families whose searchable parameters differ from the estimator's own.

Each builder takes explicit keyword parameters (what a space may search) and returns a plain
scikit-learn estimator, so saved models never depend on these functions.
"""

from __future__ import annotations

from automl.errors import ConfigError

PENALTIES = ("l1", "l2", "elasticnet")


def logistic(C: float = 1.0, penalty: str = "l2", l1_ratio: float = 0.5, max_iter: int = 1000,
             tol: float = 1e-4, class_weight: str | None = None, fit_intercept: bool = True,
             random_state: int | None = None):
    """Logistic regression; ``penalty`` picks L1, L2 or elastic net (``l1_ratio`` only then)."""
    from sklearn.linear_model import LogisticRegression

    _check_penalty(penalty)
    # scikit-learn >= 1.8 expresses the penalty through l1_ratio alone; lbfgs is fastest for pure L2.
    ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    solver = "lbfgs" if penalty == "l2" else "saga"
    return LogisticRegression(C=C, l1_ratio=ratio, solver=solver, max_iter=max_iter, tol=tol,
                              class_weight=class_weight, fit_intercept=fit_intercept,
                              random_state=random_state)


def linear(penalty: str = "l2", alpha: float = 1.0, l1_ratio: float = 0.5, max_iter: int = 5000,
           tol: float = 1e-4, fit_intercept: bool = True, random_state: int | None = None):
    """Ridge (``l2``), Lasso (``l1``) or ElasticNet (``elasticnet``) regression."""
    from sklearn.linear_model import ElasticNet, Lasso, Ridge

    _check_penalty(penalty)
    if penalty == "l2":
        return Ridge(alpha=alpha, fit_intercept=fit_intercept, random_state=random_state)
    if penalty == "l1":
        return Lasso(alpha=alpha, max_iter=max_iter, tol=tol, fit_intercept=fit_intercept,
                     random_state=random_state)
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=max_iter, tol=tol,
                      fit_intercept=fit_intercept, random_state=random_state)


def mlp(n_layers: int = 1, layer_size: int = 64, activation: str = "relu", solver: str = "adam",
        alpha: float = 1e-4, learning_rate_init: float = 1e-3, learning_rate: str = "constant",
        momentum: float = 0.9, nesterovs_momentum: bool = True, batch_size: int | str = "auto",
        max_iter: int = 200, early_stopping: bool = True, random_state: int | None = None,
        task: str = "binary"):
    """Multi-layer perceptron for ``task``; ``n_layers`` x ``layer_size`` replaces the
    tuple-valued ``hidden_layer_sizes``."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPRegressor if task == "regression" else MLPClassifier
    return cls(hidden_layer_sizes=(layer_size,) * n_layers, activation=activation, solver=solver,
               alpha=alpha, learning_rate_init=learning_rate_init, learning_rate=learning_rate,
               momentum=momentum, nesterovs_momentum=nesterovs_momentum, batch_size=batch_size,
               max_iter=max_iter, early_stopping=early_stopping, random_state=random_state)


def svm_classifier(C: float = 1.0, kernel: str = "rbf", gamma: str | float = "scale",
                   degree: int = 3, coef0: float = 0.0, class_weight: str | None = None,
                   tol: float = 1e-3, max_iter: int = -1, calibration_folds: int = 3,
                   random_state: int | None = None):
    """SVC with probabilities from a sigmoid calibration (replaces the deprecated probability=True)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    svc = SVC(C=C, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0, class_weight=class_weight,
              tol=tol, max_iter=max_iter, random_state=random_state)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=calibration_folds, ensemble=False)


def _check_penalty(penalty: str) -> None:
    if penalty not in PENALTIES:
        raise ConfigError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
