"""Base class of the gradient-descent linear models: shared parameters, fit and prediction."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._optimizers import LR_SCHEDULES, OPTIMIZERS
from ._training import Trainer
from ._validation import Interval, Kind, Options, validate_params

SHARED_PARAMS_DOC = """\
    optimizer : {"gd", "sgd", "minibatch", "momentum", "nesterov", "adagrad", "rmsprop", \
"adam"}, default="adam"
        Update rule. ``gd`` uses all samples per update, ``sgd`` one (a Python loop per sample,
        slow on large data), the others shuffled mini-batches of ``batch_size``.
    learning_rate : float or "auto", default="auto"
        Initial step size. ``auto``: 1/L for ``gd``, where L bounds the loss's curvature (from
        the data's largest eigenvalue); on mini-batches (``sgd``, ``minibatch``, ``momentum``,
        ``nesterov``) a tenth of 1/L for a batch of that size (also bounded by the largest row),
        times ``1 - momentum`` with a velocity; 0.01 for ``adam``, 0.001 for ``rmsprop``, 0.1
        for ``adagrad``. The rate used is ``learning_rate_``.
    lr_schedule : {"constant", "invscaling", "step"}, default="constant"
        Per-epoch schedule: ``invscaling`` divides by ``(epoch + 1) ** power_t``, ``step``
        multiplies by ``decay`` every ``step_size`` epochs.
    power_t : float, default=0.5
        Exponent of the ``invscaling`` schedule.
    step_size : int, default=10
        Epochs between two decays of the ``step`` schedule.
    decay : float, default=0.5
        Factor applied by the ``step`` schedule.
    batch_size : int, default=64
        Samples per update for every optimizer except ``gd`` and ``sgd``.
    momentum : float, default=0.9
        Velocity decay of ``momentum`` and ``nesterov``.
    beta1 : float, default=0.9
        First-moment decay of ``adam``.
    beta2 : float, default=0.999
        Second-moment decay of ``adam`` and of ``rmsprop``.
    epsilon : float, default=1e-8
        Keeps the steps of ``adagrad``, ``rmsprop`` and ``adam`` finite.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    tol : float or None, default=1e-4
        Training stops once the monitored loss (validation loss with ``early_stopping``,
        otherwise the training objective) has not improved by ``tol`` for ``n_iter_no_change``
        epochs in a row. ``None`` runs all ``max_epochs``.
    n_iter_no_change : int, default=5
        Epochs without improvement tolerated before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for classifiers),
        monitor its loss and restore the parameters of the best epoch.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` is on.
    penalty : {"none", "l2", "l1", "elasticnet"}, default="l2"
        Regulariser; L1 is applied by an exact proximal (soft-threshold) step, so coefficients
        become exactly zero.
    alpha : float, default=1e-4
        Regularisation strength (see the objective above).
    l1_ratio : float, default=0.15
        Share of L1 in the ``elasticnet`` penalty.
    fit_intercept : bool, default=True
        Whether to learn an (unpenalised) intercept.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.
    warm_start : bool, default=False
        Start from the coefficients of the previous ``fit`` (the optimizer state and the
        schedule start afresh).
"""

SHARED_ATTRIBUTES_DOC = """\
    n_iter_ : int
        Epochs run.
    learning_rate_ : float
        The initial step size used (``learning_rate``, or what ``auto`` chose for this data).
    loss_curve_ : list of float
        Training objective per epoch: mean of the mini-batch losses seen during the epoch plus
        the penalty at its end (exact for ``gd``).
    validation_loss_curve_ : list of float or None
        Mean validation loss per epoch (without penalty) when ``early_stopping``, else None.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` was given a DataFrame with string column names.
"""

DIVERGENCE_DOC = """\
    Raises
    ------
    DivergenceError
        From ``fit`` when the training loss becomes NaN/inf or explodes (a too large
        ``learning_rate``); the estimator then keeps its previous fitted state, if any.
"""


def store_params(estimator, params: dict) -> None:
    """Keep every ``__init__`` argument unchanged, as scikit-learn requires (``locals()``)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class BaseGD(BaseEstimator):
    """Linear model ``X @ coef_.T + intercept_`` fitted by first-order optimizers.

    Subclasses list their parameters in their own ``__init__`` (scikit-learn reads them from
    its signature) and define ``_loss_function(n_outputs)``; everything else is shared.
    """

    # Regressors expose coef_ as (n_features,), classifiers as (n_outputs, n_features).
    _flat_coef = False

    _constraints = {
        "optimizer": [Options(*OPTIMIZERS)],
        "learning_rate": [Interval(float, 0, None, open=("low",)), Options("auto")],
        "lr_schedule": [Options(*LR_SCHEDULES)],
        "power_t": [Interval(float, 0, None)],
        "step_size": [Interval(int, 1, None)],
        "decay": [Interval(float, 0, 1, open=("low",))],
        "batch_size": [Interval(int, 1, None)],
        "momentum": [Interval(float, 0, 1, open=("high",))],
        "beta1": [Interval(float, 0, 1, open=("high",))],
        "beta2": [Interval(float, 0, 1, open=("high",))],
        "epsilon": [Interval(float, 0, None, open=("low",))],
        "max_epochs": [Interval(int, 1, None)],
        "tol": [Interval(float, 0, None), Kind(type(None))],
        "n_iter_no_change": [Interval(int, 1, None)],
        "early_stopping": [Kind(bool)],
        "validation_fraction": [Interval(float, 0, 1, open=("low", "high"))],
        "penalty": [Options("none", "l2", "l1", "elasticnet")],
        "alpha": [Interval(float, 0, None)],
        "l1_ratio": [Interval(float, 0, 1)],
        "fit_intercept": [Kind(bool)],
        "warm_start": [Kind(bool)],
    }

    def _loss_function(self, n_outputs):
        raise NotImplementedError

    def _fit_targets(self, X, Y, sample_weight, stratify=None):
        """Fit on float ``X`` (n, d) and targets ``Y`` (n, k); set the fitted attributes."""
        rng = check_random_state(self.random_state)
        W, b = self._initial_params(X.shape[1], Y.shape[1])
        trainer = Trainer(self, self._loss_function(Y.shape[1]), rng)
        train, validation = self._split((X, Y, sample_weight), stratify, rng)
        # Overflow is expected when a run diverges; the trainer detects it and raises.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            W, b, curve, val_curve, n_iter = trainer.run(W, b, train, validation)
        self.coef_ = W[:, 0] if self._flat_coef else W.T
        self.intercept_ = np.zeros(Y.shape[1]) if b is None else b
        self.loss_curve_ = curve
        self.validation_loss_curve_ = val_curve
        self.n_iter_ = n_iter
        self.learning_rate_ = float(trainer.rate)
        return self

    def _initial_params(self, n_features, n_outputs):
        """Zeros, or copies of the previous fit's coefficients under ``warm_start``."""
        W = np.zeros((n_features, n_outputs))
        b = np.zeros(n_outputs)
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.atleast_2d(self.coef_).T
            if previous.shape != W.shape:
                raise ValueError(
                    f"warm_start=True needs coefficients of shape {W.shape[::-1]} for this data, "
                    f"but the previous fit left shape {previous.shape[::-1]}."
                )
            W, b = previous.copy(), np.asarray(self.intercept_, dtype=float).copy()
        return W, (b if self.fit_intercept else None)

    def _split(self, data, stratify, rng):
        """Return ``(train, validation)`` triples; validation is None without early stopping."""
        if not self.early_stopping:
            return data, None
        indices = np.arange(data[0].shape[0])
        seed = rng.randint(np.iinfo(np.int32).max)
        try:
            idx_train, idx_val = train_test_split(
                indices, test_size=self.validation_fraction, stratify=stratify, random_state=seed
            )
        except ValueError:
            # Too few samples of some class to stratify: a plain random split still works.
            idx_train, idx_val = train_test_split(
                indices, test_size=self.validation_fraction, random_state=seed
            )

        def take(idx):
            return tuple(None if a is None else a[idx] for a in data)

        return take(idx_train), take(idx_val)

    def _validate_fit_input(self, X, y, y_numeric):
        validate_params(self, self._constraints)
        return validate_data(self, X, y, dtype=np.float64, y_numeric=y_numeric)

    def _linear(self, X):
        """Raw outputs ``X @ coef_.T + intercept_`` as an (n, k) array."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ np.atleast_2d(self.coef_).T + self.intercept_
