"""The epoch loop shared by both gradient-descent estimators.

The loop is written once for a linear model ``Z = X @ W + b`` with any loss from ``_losses``: the
estimators only prepare ``X``, the targets ``Y`` (n, k) and the sample weights, and read back the
parameters and curves. Parameters are updated in place by the optimizer.
"""

from __future__ import annotations

import math

import numpy as np

from automl.errors import AutomlError

from ._optimizers import OPTIMIZERS, scheduled_learning_rate

# An epoch whose mean loss exceeds this many times the loss of the all-zero model (or 1, if that
# is smaller) is treated as diverged: a converging run never climbs that far above its start, and
# stopping here spares the epochs until the values overflow to inf.
DIVERGENCE_FACTOR = 1e4


class DivergenceError(AutomlError, ArithmeticError):
    """The training loss became NaN/inf or exploded: the learning rate is too large.

    Raised by ``fit`` instead of returning a model that predicts NaN, so a search trial that
    draws a too large learning rate fails (or is pruned) rather than scoring garbage.
    """


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
            learning_rate=estimator.learning_rate,
            momentum=estimator.momentum,
            beta1=estimator.beta1,
            beta2=estimator.beta2,
            epsilon=estimator.epsilon,
        )

    def objective(self, params, X, Y, s):
        """Training objective (mean loss plus penalty) of ``params`` on ``(X, Y, s)``."""
        return self.loss(self.forward(params, X), Y, s)[0] + self.penalty(params[0])

    def forward(self, params, X):
        """Linear outputs ``X @ W (+ b)``."""
        Z = X @ params[0]
        if len(params) > 1:
            Z += params[1]
        return Z

    def penalty(self, W):
        """Elastic-net penalty ``l2 / 2 * ||W||^2 + l1 * |W|_1`` of the coefficients."""
        value = 0.0
        if self.l2:
            value += 0.5 * self.l2 * float(np.vdot(W, W))
        if self.l1:
            value += self.l1 * float(np.abs(W).sum())
        return value

    def run(self, params, train, validation=None):
        """Train ``params`` in place; return ``(loss_curve, validation_curve, n_iter)``.

        ``train`` and ``validation`` are ``(X, Y, s)`` triples. With a validation set the
        stopping rule watches the validation loss and the best parameters seen are restored.
        """
        est = self.est
        limit = DIVERGENCE_FACTOR * max(self._zero_model_loss(params, train), 1.0)
        losses, val_losses = [], ([] if validation is not None else None)
        best, best_params, stale = math.inf, None, 0
        for epoch in range(est.max_epochs):
            self.optimizer.learning_rate = scheduled_learning_rate(
                est.lr_schedule, est.learning_rate, epoch, est.power_t, est.step_size, est.decay
            )
            loss = self._epoch(params, *train)
            self._check_diverged(loss, limit, epoch)
            losses.append(loss)
            score = loss
            if validation is not None:
                score = self.loss(self.forward(params, validation[0]), *validation[1:])[0]
                val_losses.append(score)
                if score < best:
                    best_params = [p.copy() for p in params]
            stale = stale + 1 if est.tol is not None and score > best - est.tol else 0
            best = min(best, score)
            if stale >= est.n_iter_no_change:
                break
        if best_params is not None:
            for param, kept in zip(params, best_params):
                param[...] = kept
        return losses, val_losses, epoch + 1

    def _epoch(self, params, X, Y, s):
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
            loss, dZ = self.loss(self.forward(params, Xb), Yb, sb)
            if not math.isfinite(loss):
                return loss
            total += loss * Xb.shape[0]
            self._step(params, Xb, dZ)
        return total / n_samples + self.penalty(params[0])

    def _step(self, params, Xb, dZ):
        """Gradient step on the smooth part, then the exact L1 proximal (soft-threshold) step."""
        W = params[0]
        grad_W = Xb.T @ dZ
        if self.l2:
            grad_W += self.l2 * W
        grads = [grad_W, dZ.sum(axis=0)] if len(params) > 1 else [grad_W]
        self.optimizer.update(params, grads)
        if self.l1:
            # Soft-thresholding by l1 * step is the proximal map of the L1 term for the step just
            # taken; unlike a subgradient step it sets small coefficients exactly to zero.
            shrink = self.l1 * self.optimizer.step_size(0)
            np.copyto(W, np.sign(W) * np.maximum(np.abs(W) - shrink, 0.0))

    def _zero_model_loss(self, params, train):
        zeros = [np.zeros_like(p) for p in params]
        return self.loss(self.forward(zeros, train[0][:1000]), *self._head(train[1:]))[0]

    @staticmethod
    def _head(targets):
        Y, s = targets
        return Y[:1000], (None if s is None else s[:1000])

    def _check_diverged(self, loss, limit, epoch):
        if math.isfinite(loss) and loss < limit:
            return
        est = self.est
        raise DivergenceError(
            f"{type(est).__name__} diverged in epoch {epoch + 1} with optimizer="
            f"{est.optimizer!r} and learning_rate={est.learning_rate!r}: the training loss "
            f"became {loss:.3g}. Use a smaller learning_rate, e.g. {est.learning_rate / 10:.3g}."
        )
