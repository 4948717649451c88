"""Which fits are known to end soon: an upper estimate of a fit's seconds from its family, its
parameters and the table's size, or None when nothing bounds it.

The search runs a fit in its own process (no worker to start, no data to send) only when it is
known to be cheap; anything else runs where it can be killed at its deadline. A fit is cheap when
its family looks at the trial's deadline in its own fit (:data:`STOPS_ITSELF`) or when the work
its parameters allow on a table of this size is small: so many iterations, each touching so many
rows, columns, classes or leaves. The factors are upper estimates measured on a loaded 2-core
machine (a single thread); a parameter the estimate cannot read (libsvm without ``max_iter``
runs until it converges, which with a large ``C`` took 60 s on 4,000 rows) gives None.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable

from ._registry import get_family

# automl's gradient-descent models between epochs, LightGBM and CatBoost between rounds.
STOPS_ITSELF = frozenset({"gd", "lightgbm", "catboost"})


def fit_seconds(family: str, task: str, params: dict[str, Any], rows: int, cols: int,
                classes: int) -> float | None:
    """Upper estimate of one fit's seconds on ``rows`` x ``cols`` (encoded columns) with
    ``classes`` classes (0 for regression); None when the parameters do not bound it, 0 for a
    family that stops itself at the deadline (:func:`automl.plan.check_time`)."""
    if family in STOPS_ITSELF:
        return 0.0
    rule = _RULES.get(family)
    if rule is None:
        return None
    fam = get_family(family)
    try:
        defaults = {n: p.default for n, p in inspect.signature(fam.factory(task)).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        p = {**defaults, **fam.defaults, **params}
        seconds = rule(p, max(rows, 1), max(cols, 1), max(classes, 1), task)
    except (TypeError, ValueError, KeyError, ArithmeticError):  # a value the estimate cannot read
        return None
    return None if seconds is None or not math.isfinite(seconds) else float(seconds)


def _iters(p: dict, name: str) -> float:
    value = p[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(name)
    return float(value)


def _trees(classes: int) -> int:
    return classes if classes > 2 else 1  # one model per class beyond two


def _linear(p, n, d, k, task):
    if p.get("penalty", "l2") == "l2":
        return 1e-7 * n * d + 1e-8 * d ** 3  # Ridge: a closed-form solve
    return _iters(p, "max_iter") * (n * d * 1e-8 + 1e-6)  # coordinate descent sweeps


def _logistic(p, n, d, k, task):
    return _iters(p, "max_iter") * (n * d * _trees(k) * 1e-8 + 5e-5)


def _sgd(p, n, d, k, task):
    return _iters(p, "max_iter") * n * (1e-7 + d * 5e-9) * _trees(k)


def _svm(p, n, d, k, task):
    calibration = 1 + int(p.get("calibration_folds", 0)) if task != "regression" else 1
    return calibration * _trees(k) * _iters(p, "max_iter") * n * d * 1e-8  # -1 (unlimited) raises


def _mlp(p, n, d, k, task):
    h, layers = _iters(p, "layer_size"), _iters(p, "n_layers")
    width = d * h + (layers - 1) * h * h + h * max(k, 1)
    batch = p.get("batch_size")
    batch = min(200, n) if batch == "auto" else _iters(p, "batch_size")
    return _iters(p, "max_iter") * (n * width * 1e-9 + math.ceil(n / batch) * 1e-4)


def _hgb(p, n, d, k, task):
    leaves = p.get("max_leaf_nodes")
    leaves = n / _iters(p, "min_samples_leaf") if leaves is None else min(_iters(p, "max_leaf_nodes"), n)
    return _iters(p, "max_iter") * _trees(k) * (leaves * 3e-5 + n * d * 2e-8) + 0.05


def _forest(p, n, d, k, task):
    return _iters(p, "n_estimators") * n * max(math.log2(n), 1.0) * math.sqrt(d) * 1e-7 * 4


def _small(p, n, d, k, task):  # one pass or a sort per column: trees, k-NN, naive Bayes
    return n * d * max(math.log2(n), 1.0) * 1e-7 + n * n * d * 2e-9


_RULES: dict[str, Callable[..., float | None]] = {
    "linear": _linear, "logistic": _logistic, "sgd": _sgd, "svm": _svm, "mlp": _mlp,
    "hist_gradient_boosting": _hgb, "random_forest": _forest, "extra_trees": _forest,
    "knn": _small, "decision_tree": _small, "naive_bayes": _small,
}
