"""Linear regression (squared or Huber loss) fitted by gradient descent."""

from __future__ import annotations

from functools import partial

from sklearn.base import RegressorMixin

from ._base import DIVERGENCE_DOC, SHARED_ATTRIBUTES_DOC, SHARED_PARAMS_DOC, BaseGD, store_params
from ._losses import huber_loss, squared_loss
from ._validation import Interval, Options


class GDRegressor(RegressorMixin, BaseGD):
    __doc__ = (
        """Linear regression fitted by a choice of optimizers.

    Minimises the mean loss plus an elastic-net penalty::

        J(w, b) = 1/n * sum_i loss(y_i - x_i @ w - b)
                  + alpha * ((1 - r) / 2 * ||w||_2^2 + r * ||w||_1)

    with ``loss(e) = e**2 / 2`` (``"squared_error"``) or the Huber loss, and ``r`` 0 for
    ``penalty="l2"``, 1 for ``"l1"``, ``l1_ratio`` for ``"elasticnet"``. So ``penalty="l1"``
    has exactly scikit-learn's ``Lasso(alpha)`` objective, ``"elasticnet"`` that of
    ``ElasticNet(alpha, l1_ratio)``, and ``"l2"`` the minimiser of ``Ridge(alpha=n * alpha)``
    (Ridge sums the squared errors instead of averaging half of them).

    Parameters
    ----------
    loss : {"squared_error", "huber"}, default="squared_error"
        Per-sample loss; Huber is quadratic up to ``huber_delta`` and linear beyond.
    huber_delta : float, default=1.0
        Residual size where the Huber loss turns linear.
"""
        + SHARED_PARAMS_DOC
        + """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients.
    intercept_ : ndarray of shape (1,)
        Intercept (zero when ``fit_intercept=False``).
"""
        + SHARED_ATTRIBUTES_DOC
        + "\n"
        + DIVERGENCE_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from automl.families.gd import GDRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = GDRegressor(optimizer="adam", learning_rate=0.1, random_state=0).fit(X, y / 100)
    >>> reg.score(X, y / 100) > 0.99
    True
    """
    )

    _constraints = {
        **BaseGD._constraints,
        "loss": [Options("squared_error", "huber")],
        "huber_delta": [Interval(float, 0, None, open=("low",))],
    }
    _flat_coef = True

    def __init__(
        self,
        *,
        loss="squared_error",
        huber_delta=1.0,
        optimizer="adam",
        learning_rate="auto",
        lr_schedule="constant",
        power_t=0.5,
        step_size=10,
        decay=0.5,
        batch_size=64,
        momentum=0.9,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=5,
        early_stopping=False,
        validation_fraction=0.1,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        random_state=None,
        warm_start=False,
    ):
        store_params(self, locals())

    def fit(self, X, y):
        """Fit the model to ``X`` (n_samples, n_features) and targets ``y``; return ``self``."""
        X, y = self._validate_fit_input(X, y, y_numeric=True)
        return self._fit_targets(X, y.astype(float)[:, None], None)

    def _loss_function(self, n_outputs):
        if self.loss == "huber":
            return partial(huber_loss, delta=self.huber_delta)
        return squared_loss

    def predict(self, X):
        """Predicted targets, shape (n_samples,)."""
        return self._linear(X)[:, 0]
