"""Two models' scores on the same rows, and how sure the difference is: a paired bootstrap.

Each resample weighs the rows by Poisson(1) counts (the bootstrap of large-scale A/B tests) and
scores both models under the same weights, so the interval is of their difference on rows drawn
like these, not of either score alone. The metrics are computed from weights in one pass per
batch of resamples (a sort shared by every resample for ROC AUC); with all weights 1 they are the
plain metrics of :mod:`automl.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.data import label_text
from automl.metrics import Metric, Predictions

RESAMPLES = 1000
CELLS_PER_BATCH = 2_000_000  # resamples x rows scored at once


@dataclass
class Paired:
    challenger: float
    champion: float
    gain: float  # challenger better by this much (either direction of metric)
    low: float  # the interval of the gain at ``confidence``
    high: float
    confidence: float
    resamples: int


def paired(metric: Metric, y, challenger: Predictions, champion: Predictions, confidence: float,
           seed: int) -> Paired | None:
    """Both scores, the gain and its percentile interval; None when the metric is undefined."""
    sign = 1.0 if metric.direction == "maximize" else -1.0
    ones = np.ones((1, len(y)))
    a, b = weighted(metric.name, y, challenger, ones)[0], weighted(metric.name, y, champion, ones)[0]
    if not (np.isfinite(a) and np.isfinite(b)):
        return None
    rng = np.random.default_rng(seed)
    gains = []
    batch = max(1, CELLS_PER_BATCH // max(len(y), 1))
    for start in range(0, RESAMPLES, batch):
        W = rng.poisson(1.0, size=(min(batch, RESAMPLES - start), len(y))).astype(float)
        gains.append(sign * (weighted(metric.name, y, challenger, W) - weighted(metric.name, y, champion, W)))
    gains = np.concatenate(gains)
    gains = gains[np.isfinite(gains)]
    tail = (1 - confidence) / 2
    low, high = np.quantile(gains, [tail, 1 - tail]) if len(gains) else (np.nan, np.nan)
    return Paired(float(a), float(b), float(sign * (a - b)), float(low), float(high), confidence, len(gains))


def weighted(name: str, y, pred: Predictions, W: np.ndarray) -> np.ndarray:
    """``name`` under each row of weights ``W`` (resamples x rows); NaN where undefined."""
    if name in ("rmse", "mae", "r2"):
        return _regression(name, np.asarray(y, dtype=float), np.asarray(pred.labels, dtype=float), W)
    truth = label_text(y)
    if name == "roc_auc":
        return _roc_auc(truth, pred, W)
    if name == "log_loss":
        return _log_loss(truth, pred, W)
    return _from_labels(name, truth, label_text(pred.labels), label_text(pred.classes), W)


def _mean(W: np.ndarray, values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (W @ values) / W.sum(axis=1)


def _regression(name: str, y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    if name == "mae":
        return _mean(W, np.abs(y - p))
    mse = _mean(W, (y - p) ** 2)
    if name == "rmse":
        return np.sqrt(mse)
    centre = _mean(W, y)
    spread = (W * (y[None, :] - centre[:, None]) ** 2).sum(axis=1) / W.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, 1 - mse / spread, np.nan)


def _roc_auc(truth: np.ndarray, pred: Predictions, W: np.ndarray) -> np.ndarray:
    scores = pred.scores[:, 1] if pred.scores.ndim == 2 else pred.scores
    positive = truth == label_text(pred.classes)[1]
    order = np.argsort(scores, kind="stable")
    ranked = scores[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])  # groups of tied scores
    Wo = W[:, order]
    pos = np.add.reduceat(Wo * positive[order], starts, axis=1)
    neg = np.add.reduceat(Wo * ~positive[order], starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _log_loss(truth: np.ndarray, pred: Predictions, W: np.ndarray) -> np.ndarray:
    if pred.scores is None or pred.scores.ndim != 2:
        return np.full(len(W), np.nan)  # no probabilities (a hinge-loss model)
    column = {c: i for i, c in enumerate(label_text(pred.classes))}
    index = np.array([column.get(t, -1) for t in truth])
    if (index < 0).any():
        return np.full(len(W), np.nan)  # a class the model does not know
    eps = np.finfo(pred.scores.dtype).eps
    p = np.clip(pred.scores[np.arange(len(truth)), index], eps, 1 - eps)
    return _mean(W, -np.log(p))


def _from_labels(name: str, truth: np.ndarray, labels: np.ndarray, classes: np.ndarray,
                 W: np.ndarray) -> np.ndarray:
    correct = (truth == labels).astype(float)
    if name == "accuracy":
        return _mean(W, correct)
    if name == "f1":
        return _f1(truth, labels, classes[1], W)
    present = np.unique(truth)
    if name == "balanced_accuracy":
        with np.errstate(invalid="ignore", divide="ignore"):
            recalls = [(W @ (correct * (truth == k))) / (W @ (truth == k).astype(float)) for k in present]
        return np.nanmean(np.vstack(recalls), axis=0)
    every = np.union1d(present, np.unique(labels))  # f1_macro: sklearn's labels, true or predicted
    return np.mean(np.vstack([_f1(truth, labels, k, W) for k in every]), axis=0)


def _f1(truth: np.ndarray, labels: np.ndarray, positive, W: np.ndarray) -> np.ndarray:
    is_true, is_pred = truth == positive, labels == positive
    tp, fp = W @ (is_true & is_pred).astype(float), W @ (~is_true & is_pred).astype(float)
    fn = W @ (is_true & ~is_pred).astype(float)
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0.0)
