"""Per-sample losses of the gradient-descent estimators and their gradients.

Each function takes the linear outputs ``Z`` (n, k), the targets ``Y`` (n, k), optional sample
weights ``s`` (n,) and returns ``(mean_loss, dZ)``: the weighted mean loss ``sum(s * l) / n`` and
its gradient with respect to ``Z``. Dividing by ``n`` here, once, keeps the training loop free of
that bookkeeping; the gradients of the coefficients then are ``X.T @ dZ`` and ``dZ.sum(0)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def _weighted_mean(per_sample, dZ, s):
    n = per_sample.shape[0]
    if s is None:
        return float(per_sample.sum()) / n, dZ / n
    return float(per_sample @ s) / n, dZ * (s / n)[:, None]


def squared_loss(Z, Y, s=None):
    """Half squared error ``0.5 * (z - y) ** 2`` (single output)."""
    residual = Z - Y
    return _weighted_mean(0.5 * (residual * residual).ravel(), residual, s)


def huber_loss(Z, Y, s=None, delta=1.0):
    """Huber loss: quadratic for ``|z - y| <= delta``, linear (slope ``delta``) beyond."""
    residual = Z - Y
    size = np.abs(residual)
    per_sample = np.where(size <= delta, 0.5 * residual * residual, delta * (size - 0.5 * delta))
    return _weighted_mean(per_sample.ravel(), np.clip(residual, -delta, delta), s)


def binary_log_loss(Z, Y, s=None):
    """Logistic loss of one logit per sample, ``Y`` in {0, 1}; stable for any ``Z``."""
    per_sample = np.logaddexp(0.0, Z) - Y * Z
    return _weighted_mean(per_sample.ravel(), expit(Z) - Y, s)


def multinomial_log_loss(Z, Y, s=None):
    """Softmax cross-entropy, ``Y`` one-hot (n, k); shifts by the row maximum to avoid overflow."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    per_sample = np.log(total).ravel() - (shifted * Y).sum(axis=1)
    return _weighted_mean(per_sample, exp / total - Y, s)


# The largest second derivative of each loss in its linear output: the "L" that bounds a safe step.
# Softmax cross-entropy's Hessian has spectral norm at most 1/2; the logistic's second derivative
# peaks at 1/4; Huber's is 1 inside delta and 0 beyond.
_CURVATURE = {binary_log_loss: 0.25, multinomial_log_loss: 0.5, squared_loss: 1.0, huber_loss: 1.0}


def curvature(loss) -> float:
    """The curvature bound of ``loss`` (a loss function above, or a ``partial`` of one)."""
    return _CURVATURE[getattr(loss, "func", loss)]
