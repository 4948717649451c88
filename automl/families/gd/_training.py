"""The epoch loop shared by both gradient-descent estimators.

The loop is written once for a linear model ``Z = X @ W + b`` with any loss from ``_losses``: the
estimators only prepare ``X``, the targets ``Y`` (n, k) and the sample weights, and read back the
parameters and curves. Parameters are updated in place by the optimizer.
"""

from __future__ import annotations

import math

import numpy as np

from automl.plan import check_time
from automl.errors import DivergenceError

from ._losses import curvature
from ._optimizers import OPTIMIZERS, scheduled_learning_rate

# An epoch whose mean loss exceeds this many times the loss of the all-zero model (or 1, if that
# is smaller) is treated as diverged: a converging run never climbs that far above its start, and
# stopping here spares the epochs until the values overflow to inf.
DIVERGENCE_FACTOR = 1e4
# ``learning_rate="auto"`` for the adaptive methods, whose steps scale themselves per coordinate
# (Adam's and RMSprop's usual defaults; Adagrad's steps only shrink, so it starts larger).
ADAPTIVE_RATES = {"adagrad": 0.1, "rmsprop": 0.001, "adam": 0.01}
# On mini-batches a step of 1/L is stable but noisy: the constant-rate iterates wander around the
# optimum at a distance that grows with the step. A tenth of it (and of that, the share a
# velocity adds: 1 - momentum) came within 0.02 of the exact solvers on breast cancer and diabetes.
STOCHASTIC_SHARE = 0.1
EIGEN_ROWS = 2000  # rows used to estimate the data's largest eigenvalue
EIGEN_ITERATIONS = 30


def auto_learning_rate(optimizer: str, batch: int, loss, X, s, l2: float, intercept: bool,
                       momentum: float = 0.0) -> float:
    """The step that a plain (or momentum) gradient method can take without diverging: 1 / L.

    L is the smoothness of the mean loss over a batch of ``batch`` rows (Gower et al., 2019,
    "SGD: general analysis and improved rates"): between the full batch's
    curvature x largest eigenvalue of X'X/n and the worst single row's curvature x |x_i|^2.
    A fixed 0.01 left full-batch GD far from the optimum after 200 epochs (breast cancer: 0.916
    accuracy against logistic regression's 0.97).
    """
    if optimizer in ADAPTIVE_RATES:
        return ADAPTIVE_RATES[optimizer]
    c = curvature(loss)
    n = X.shape[0]
    weights = np.ones(n) if s is None else np.asarray(s, dtype=float)
    rows = (np.einsum("ij,ij->i", X, X) + float(intercept)) * weights
    full = _largest_eigenvalue(X, weights, intercept)
    if n > 1:
        share = n * (batch - 1) / (batch * (n - 1))
        smooth = c * (share * full + (1.0 - share) * float(rows.max()))
    else:
        smooth = c * float(rows.max())
    rate = 1.0 / (smooth + l2) if smooth + l2 > 0 else 1.0
    if batch < n:
        rate *= STOCHASTIC_SHARE * (1.0 - momentum if optimizer in ("momentum", "nesterov") else 1.0)
    return rate


def _largest_eigenvalue(X, weights, intercept: bool) -> float:
    """Power iteration for the largest eigenvalue of [X 1]' W [X 1] / n on a sample of rows."""
    rng = np.random.RandomState(0)  # its own stream: the fit's shuffles stay as they were
    if X.shape[0] > EIGEN_ROWS:
        keep = rng.choice(X.shape[0], EIGEN_ROWS, replace=False)
        X, weights = X[keep], weights[keep]
    n, d = X.shape
    v = rng.standard_normal(d + 1 if intercept else d)
    value = 0.0
    for _ in range(EIGEN_ITERATIONS):
        u = X @ v[:d] + (v[d] if intercept else 0.0)
        u *= weights
        g = X.T @ u / n
        if intercept:
            g = np.append(g, u.sum() / n)
        value = float(np.linalg.norm(g))
        if value == 0.0:
            return 0.0
        v = g / value
    return value


class Trainer:
    """Runs the epochs of one ``fit`` of ``estimator`` with the per-sample loss ``loss``.

    Parameters
    ----------
    estimator : GDClassifier or GDRegressor
        Source of the hyper-parameters; it is only read.
    loss : callable
        ``loss(Z, Y, s) -> (mean_loss, dZ)``, see ``_losses``.
    rng : numpy.random.RandomState
        Shuffles the samples each epoch.
    """

    def __init__(self, estimator, loss, rng):
        self.est = estimator
        self.loss = loss
        self.rng = rng
        ratio = {"none": 0.0, "l2": 0.0, "l1": 1.0}.get(estimator.penalty, estimator.l1_ratio)
        alpha = 0.0 if estimator.penalty == "none" else estimator.alpha
        self.l1 = alpha * ratio
        self.l2 = alpha * (1.0 - ratio)
        self.optimizer = OPTIMIZERS[estimator.optimizer](
            learning_rate=0.0,  # set every epoch from the schedule
            momentum=estimator.momentum,
            beta1=estimator.beta1,
            beta2=estimator.beta2,
            epsilon=estimator.epsilon,
        )

    def forward(self, X):
        """Linear outputs ``X @ W (+ b)`` of the current parameters."""
        Z = X @ self.W
        if self.b is not None:
            Z += self.b
        return Z

    def penalty(self):
        """Elastic-net penalty ``l2 / 2 * ||W||^2 + l1 * |W|_1`` of the coefficients."""
        value = 0.0
        if self.l2:
            value += 0.5 * self.l2 * float(np.vdot(self.W, self.W))
        if self.l1:
            value += self.l1 * float(np.abs(self.W).sum())
        return value

    def run(self, W, b, train, validation=None):
        """Train from ``W`` (d, k) and ``b`` (k,) or None; return ``(W, b, curves...)``.

        ``train`` and ``validation`` are ``(X, Y, s)`` triples. With a validation set the
        stopping rule watches the validation loss and the best parameters seen are restored.
        Returns ``(W, b, loss_curve, validation_curve, n_iter)``.
        """
        self._allocate(W, b)
        est = self.est
        self.rate = est.learning_rate
        if self.rate == "auto":
            batch = self.optimizer.batch_size(est.batch_size, train[0].shape[0])
            self.rate = auto_learning_rate(est.optimizer, batch, self.loss, train[0], train[2],
                                           self.l2, self.b is not None, est.momentum)
        limit = DIVERGENCE_FACTOR * max(self._zero_model_loss(train), 1.0)
        losses, val_losses = [], ([] if validation is not None else None)
        best, best_theta, stale = math.inf, None, 0
        for epoch in range(est.max_epochs):
            self.optimizer.learning_rate = scheduled_learning_rate(
                est.lr_schedule, self.rate, epoch, est.power_t, est.step_size, est.decay
            )
            check_time()  # a search trial's deadline: stop between epochs, not by being killed
            loss = self._epoch(*train)
            self._check_diverged(loss, limit, epoch)
            losses.append(loss)
            score = loss
            if validation is not None:
                score = self.loss(self.forward(validation[0]), *validation[1:])[0]
                val_losses.append(score)
                if score < best:
                    best_theta = self.theta.copy()
            stale = stale + 1 if est.tol is not None and score > best - est.tol else 0
            best = min(best, score)
            if stale >= est.n_iter_no_change:
                break
        if best_theta is not None:
            self.theta[...] = best_theta
        b = None if self.b is None else self.b.copy()
        return self.W.copy(), b, losses, val_losses, epoch + 1

    def _allocate(self, W, b):
        """Pack the parameters (and their gradients) in one flat vector with views W and b.

        The optimizer then updates a single array per step, which halves its Python overhead
        on mini-batches compared with updating coefficients and intercept separately.
        """
        size = W.size
        self.theta = np.concatenate([W.ravel(), [] if b is None else b])
        self.grad = np.empty_like(self.theta)
        self.W = self.theta[:size].reshape(W.shape)
        self.grad_W = self.grad[:size].reshape(W.shape)
        self.b = None if b is None else self.theta[size:]
        self.grad_b = None if b is None else self.grad[size:]

    def _epoch(self, X, Y, s):
        """One pass over shuffled mini-batches; returns the mean batch objective."""
        n_samples = X.shape[0]
        batch = self.optimizer.batch_size(self.est.batch_size, n_samples)
        order = self.rng.permutation(n_samples) if batch < n_samples else None
        total = 0.0
        for start in range(0, n_samples, batch):
            if order is None:
                Xb, Yb, sb = X, Y, s
            else:
                idx = order[start : start + batch]
                Xb, Yb, sb = X[idx], Y[idx], (None if s is None else s[idx])
            loss, dZ = self.loss(self.forward(Xb), Yb, sb)
            if not math.isfinite(loss):
                return loss
            total += loss * Xb.shape[0]
            self._step(Xb, dZ)
        return total / n_samples + self.penalty()

    def _step(self, Xb, dZ):
        """Gradient step on the smooth part, then the exact L1 proximal (soft-threshold) step."""
        np.matmul(Xb.T, dZ, out=self.grad_W)
        if self.l2:
            self.grad_W += self.l2 * self.W
        if self.b is not None:
            dZ.sum(axis=0, out=self.grad_b)
        self.optimizer.update([self.theta], [self.grad])
        if self.l1:
            # Soft-thresholding by l1 * step is the proximal map of the L1 term for the step just
            # taken; unlike a subgradient step it sets small coefficients exactly to zero.
            step = self.optimizer.step_size(0)
            shrink = self.l1 * (step if np.isscalar(step) else step[: self.W.size])
            coef = self.theta[: self.W.size]
            np.copyto(coef, np.sign(coef) * np.maximum(np.abs(coef) - shrink, 0.0))

    def _zero_model_loss(self, train):
        """Loss of the all-zero model on (at most) the first 1000 training samples."""
        X, Y, s = (None if a is None else a[:1000] for a in train)
        Z = np.zeros((X.shape[0], self.W.shape[1]))
        return self.loss(Z, Y, s)[0]

    def _check_diverged(self, loss, limit, epoch):
        # The last update of an epoch can overflow the parameters after its loss was computed.
        if math.isfinite(loss) and loss < limit and np.isfinite(self.theta).all():
            return
        est = self.est
        raise DivergenceError(
            f"{type(est).__name__} diverged in epoch {epoch + 1} with optimizer="
            f"{est.optimizer!r} and learning_rate={self.rate!r}: the training loss "
            f"became {loss:.3g}. Use a smaller learning_rate, e.g. {self.rate / 10:.3g}."
        )
