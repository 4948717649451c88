"""The one evaluation on the test rows: the only code that gives them to a model."""

from __future__ import annotations

from automl.metrics import TASK_METRICS, Predictions, compute, predict
from automl.split import Split


def test_once(pipeline, split: Split, task: str) -> tuple[dict[str, float], Predictions]:
    """Every metric of the task on the locked-away test rows, and the predictions behind them.

    This is the one place the test rows are given to a model; plots reuse the returned predictions.
    """
    pred = predict(pipeline, split.X_test, TASK_METRICS[task])  # labels and scores for classification
    return compute(split.y_test, pred, TASK_METRICS[task]), pred
