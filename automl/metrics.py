"""The metrics each task is judged by, their direction, and how to compute them from a model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.errors import ConfigError, shown


@dataclass(frozen=True)
class Metric:
    name: str
    direction: str  # "maximize" or "minimize"
    needs: str  # "proba" (probabilities/scores) or "label" (predicted values)


_ALL = {
    "roc_auc": Metric("roc_auc", "maximize", "proba"),
    "log_loss": Metric("log_loss", "minimize", "proba"),
    "accuracy": Metric("accuracy", "maximize", "label"),
    "f1": Metric("f1", "maximize", "label"),
    "balanced_accuracy": Metric("balanced_accuracy", "maximize", "label"),
    "f1_macro": Metric("f1_macro", "maximize", "label"),
    "rmse": Metric("rmse", "minimize", "label"),
    "mae": Metric("mae", "minimize", "label"),
    "r2": Metric("r2", "maximize", "label"),
}
TASK_METRICS = {
    "binary": ("roc_auc", "log_loss", "accuracy", "f1", "balanced_accuracy"),
    "multiclass": ("accuracy", "log_loss", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def get_metric(task: str, name: str | None) -> Metric:
    """The optimisation metric for ``task`` (its default when ``name`` is None)."""
    name = name or DEFAULT_METRIC[task]
    if name not in TASK_METRICS[task]:
        raise ConfigError(f"metric: {shown(name)} is not available for a {task} task; "
                          f"choose one of {', '.join(TASK_METRICS[task])}")
    return _ALL[name]


def score(model, X, y, metric: Metric) -> float:
    """Score a fitted model (pipeline) on ``X, y`` with one metric."""
    return evaluate(model, X, y, (metric.name,))[metric.name]


@dataclass
class Predictions:
    """A model's outputs on some rows, computed once and shared by metrics and plots."""

    labels: np.ndarray | None
    scores: np.ndarray | None  # probabilities (n, n_classes) or a 1-d decision function
    classes: np.ndarray | None


def predict(model, X, names) -> Predictions:
    """One prediction pass per kind of output the metrics ``names`` need."""
    needs = {_ALL[n].needs for n in names}
    labels = model.predict(X) if "label" in needs else None
    scores = _scores(model, X) if "proba" in needs else None
    return Predictions(labels, scores, getattr(model, "classes_", None))


def evaluate(model, X, y, names) -> dict[str, float]:
    """Compute several metrics of a fitted model on ``X, y``."""
    return compute(y, predict(model, X, names), names)


def compute(y, pred: Predictions, names) -> dict[str, float]:
    """Metrics from already computed predictions."""
    from sklearn import metrics as skm

    y = np.asarray(y)
    labels, proba, classes = pred.labels, pred.scores, pred.classes
    out: dict[str, float | None] = {}
    for name in names:
        if name == "roc_auc" and len(np.unique(y)) < 2:
            out[name] = None  # undefined on rows of a single class (a tiny or skewed test file)
        elif name == "roc_auc":
            out[name] = float(skm.roc_auc_score(y, proba[:, 1] if proba.ndim == 2 else proba))
        elif name == "log_loss":
            # Undefined without probabilities (e.g. a hinge-loss SGD); None, not an exception.
            out[name] = float(skm.log_loss(y, proba, labels=classes)) if proba.ndim == 2 else None
        elif name == "accuracy":
            out[name] = float(skm.accuracy_score(y, labels))
        elif name == "balanced_accuracy":
            out[name] = float(skm.balanced_accuracy_score(y, labels))
        elif name == "f1":
            out[name] = float(skm.f1_score(y, labels, pos_label=classes[1]))
        elif name == "f1_macro":
            out[name] = float(skm.f1_score(y, labels, average="macro"))
        elif name == "rmse":
            out[name] = float(skm.root_mean_squared_error(y, labels))
        elif name == "mae":
            out[name] = float(skm.mean_absolute_error(y, labels))
        elif name == "r2":
            out[name] = float(skm.r2_score(y, labels))
    return out


def _scores(model, X) -> np.ndarray:
    # Probabilities when the model has them; a decision function is enough for ROC AUC.
    if hasattr(model, "predict_proba"):
        try:
            return model.predict_proba(X)
        except AttributeError:  # e.g. SGD with hinge loss hides predict_proba at call time
            pass
    return np.asarray(model.decision_function(X))
