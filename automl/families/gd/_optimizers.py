"""Update rules shared by the gradient-descent estimators, one small class per optimizer.

An optimizer instance lives for one ``fit``: it keeps its own state (velocities, running averages
of squared gradients) and updates the parameter arrays *in place*, so no copy of the parameters is
made per mini-batch. The estimators only see the tiny interface of :class:`Optimizer`:

- ``update(params, grads) -> params``: one step on a list of arrays;
- ``step_size(index)``: the per-coordinate step of the last update, which the L1 proximal step
  needs so that the soft-threshold matches the step actually taken;
- ``batch_size(requested, n_samples)``: how many samples one step sees.

Examples
--------
>>> import numpy as np
>>> w = np.array([1.0, -2.0])
>>> opt = OPTIMIZERS["momentum"](learning_rate=0.1, momentum=0.5)
>>> _ = opt.update([w], [np.array([1.0, 1.0])])
>>> w
array([ 0.9, -2.1])
"""

from __future__ import annotations

import numpy as np

LR_SCHEDULES = ("constant", "invscaling", "step")


class Optimizer:
    """Base update rule: plain gradient step on mini-batches of ``batch_size`` samples.

    Parameters
    ----------
    learning_rate : float
        Step size of the next update; the estimator sets it per epoch from its schedule.
    momentum : float
        Velocity decay, read by :class:`Momentum` and :class:`Nesterov`.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates (Adam; RMSprop uses ``beta2``).
    epsilon : float
        Added to the root of the second moment so the adaptive step stays finite.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.n_updates = 0
        self._slots = None

    def batch_size(self, requested, n_samples):
        """Samples per update: the estimator's ``batch_size``, capped at ``n_samples``."""
        return max(1, min(requested, n_samples))

    def update(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` and return ``params``."""
        self.n_updates += 1
        if self._slots is None:
            self._slots = [self._new_state(p) for p in params]
        for i, (param, grad) in enumerate(zip(params, grads)):
            self._update_one(i, param, grad)
        return params

    def step_size(self, index):
        """Step size (scalar or per coordinate) used by the last update of ``params[index]``."""
        return self.learning_rate

    def _new_state(self, param):
        # One zero array per parameter: the velocity or squared-gradient sum of subclasses.
        return np.zeros_like(param)

    def _update_one(self, index, param, grad):
        param -= self.learning_rate * grad


class GradientDescent(Optimizer):
    """Full-batch gradient descent: one update per epoch on every training sample."""

    def batch_size(self, requested, n_samples):
        return n_samples


class StochasticGD(Optimizer):
    """Plain SGD, one sample per update.

    NumPy cannot vectorise a sequence of dependent single-sample updates, so an epoch costs one
    Python iteration per sample (roughly 10-20 µs each, far slower than scikit-learn's Cython
    loop). Prefer ``minibatch`` with a small ``batch_size`` when speed matters.
    """

    def batch_size(self, requested, n_samples):
        return 1


class MiniBatchGD(Optimizer):
    """Plain gradient step on shuffled mini-batches of ``batch_size`` samples."""


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v <- momentum * v - lr * g``; ``w <- w + v``."""

    def _update_one(self, index, param, grad):
        velocity = self._slots[index]
        velocity *= self.momentum
        velocity -= self.learning_rate * grad
        param += velocity


class Nesterov(Momentum):
    """Nesterov momentum in the look-ahead form of Sutskever et al. (2013).

    ``v <- momentum * v - lr * g``; ``w <- w + momentum * v - lr * g``, which evaluates the
    gradient at the current point yet applies the correction of the look-ahead point.
    """

    def _update_one(self, index, param, grad):
        velocity = self._slots[index]
        velocity *= self.momentum
        step = self.learning_rate * grad
        velocity -= step
        param += self.momentum * velocity - step


class _Adaptive(Optimizer):
    """Shared bookkeeping of the per-coordinate step of the adaptive methods."""

    def update(self, params, grads):
        if self._slots is None:
            self._steps = [None] * len(params)
        return super().update(params, grads)

    def step_size(self, index):
        return self._steps[index]


class Adagrad(_Adaptive):
    """Adagrad: the step of each coordinate shrinks with its sum of squared gradients."""

    def _update_one(self, index, param, grad):
        scale = self._accumulate(self._slots[index], grad)
        step = self.learning_rate / (np.sqrt(scale) + self.epsilon)
        self._steps[index] = step
        param -= step * grad

    def _accumulate(self, total, grad):
        total += grad * grad
        return total


class RMSprop(Adagrad):
    """RMSprop: like Adagrad with an exponential average (decay ``beta2``) of squared gradients."""

    def _accumulate(self, average, grad):
        average *= self.beta2
        average += (1.0 - self.beta2) * grad * grad
        return average


class Adam(_Adaptive):
    """Adam (Kingma & Ba, 2015) with bias correction folded into the step size."""

    def _new_state(self, param):
        return [np.zeros_like(param), np.zeros_like(param)]

    def _update_one(self, index, param, grad):
        first, second = self._slots[index]
        first *= self.beta1
        first += (1.0 - self.beta1) * grad
        second *= self.beta2
        second += (1.0 - self.beta2) * grad * grad
        t = self.n_updates
        corrected = self.learning_rate * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        step = corrected / (np.sqrt(second) + self.epsilon)
        self._steps[index] = step
        param -= step * first


OPTIMIZERS = {
    "gd": GradientDescent,
    "sgd": StochasticGD,
    "minibatch": MiniBatchGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def scheduled_learning_rate(schedule, learning_rate, epoch, power_t, step_size, decay):
    """Learning rate of ``epoch`` (0-based) under ``schedule``.

    ``constant`` keeps ``learning_rate``; ``invscaling`` divides it by ``(epoch + 1) ** power_t``;
    ``step`` multiplies it by ``decay`` every ``step_size`` epochs. Schedules count epochs, not
    updates, so the same schedule means the same thing for every batch size.
    """
    if schedule == "invscaling":
        return learning_rate / (epoch + 1.0) ** power_t
    if schedule == "step":
        return learning_rate * decay ** (epoch // step_size)
    return learning_rate
