"""automl.retrain._paired: weighted metrics equal the plain ones at weight 1, and the paired
bootstrap's interval of a gain covers 0 for noise and lies above 0 for a real gain."""

from __future__ import annotations

import numpy as np
import pytest

from automl.metrics import TASK_METRICS, Predictions, compute, get_metric
from automl.retrain._paired import paired, weighted


def _predictions(task: str, rng, n: int = 300):
    if task == "regression":
        y = rng.normal(size=n)
        return y, Predictions(y + rng.normal(scale=0.7, size=n), None, None)
    classes = np.array(["a", "b"] if task == "binary" else ["a", "b", "c"])
    y = rng.choice(classes, size=n)
    logits = rng.normal(size=(n, len(classes))) + 1.2 * (y[:, None] == classes[None, :])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, Predictions(classes[proba.argmax(axis=1)], proba, classes)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_weights_of_one_give_the_plain_metrics(task, rng):
    y, pred = _predictions(task, rng)
    plain = compute(y, pred, TASK_METRICS[task])
    for name in TASK_METRICS[task]:
        assert weighted(name, y, pred, np.ones((1, len(y))))[0] == pytest.approx(plain[name], abs=1e-9), name


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_integer_weights_equal_repeated_rows(task, rng):
    y, pred = _predictions(task, rng, n=120)
    counts = rng.poisson(1.0, size=len(y))
    rows = np.repeat(np.arange(len(y)), counts)
    repeated = Predictions(pred.labels[rows], None if pred.scores is None else pred.scores[rows], pred.classes)
    plain = compute(y[rows], repeated, TASK_METRICS[task])
    for name in TASK_METRICS[task]:
        got = weighted(name, y, pred, counts[None, :].astype(float))[0]
        assert got == pytest.approx(plain[name], abs=1e-9), name


def test_noise_gives_an_interval_around_zero_and_a_real_gain_one_above(rng):
    metric = get_metric("binary", "roc_auc")
    y, champion = _predictions("binary", rng, n=600)
    # The same model with tiny jitter: no real difference.
    jitter = champion.scores + rng.normal(scale=1e-3, size=champion.scores.shape)
    same = paired(metric, y, Predictions(champion.labels, jitter, champion.classes), champion, 0.95, seed=0)
    assert same.low < 0 < same.high
    assert same.resamples == 1000
    # A sharper model: its interval lies above 0, and the gain is challenger minus champion.
    sharp = champion.scores.copy()
    sharp[:, 1] = np.clip(sharp[:, 1] + 0.35 * (y == "b") - 0.35 * (y == "a"), 0, 1)
    sharp[:, 0] = 1 - sharp[:, 1]
    better = paired(metric, y, Predictions(champion.labels, sharp, champion.classes), champion, 0.95, seed=0)
    assert better.low > 0 and better.gain == pytest.approx(better.challenger - better.champion)
    worse = paired(metric, y, champion, Predictions(champion.labels, sharp, champion.classes), 0.95, seed=0)
    assert worse.high < 0


def test_a_lower_is_better_metric_counts_a_smaller_error_as_a_gain(rng):
    metric = get_metric("regression", "rmse")
    y, champion = _predictions("regression", rng, n=400)
    closer = Predictions(y + 0.3 * (champion.labels - y), None, None)
    result = paired(metric, y, closer, champion, 0.9, seed=1)
    assert result.challenger < result.champion
    assert result.gain == pytest.approx(result.champion - result.challenger) and result.low > 0


def test_an_undefined_metric_gives_none(rng):
    metric = get_metric("binary", "roc_auc")
    y = np.array(["a"] * 60)  # one class: ROC AUC is undefined
    proba = np.column_stack([np.full(60, 0.6), np.full(60, 0.4)])
    pred = Predictions(np.array(["a"] * 60), proba, np.array(["a", "b"]))
    assert paired(metric, y, pred, pred, 0.95, seed=0) is None
