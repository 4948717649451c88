"""Refit the best configuration on all training rows, test it once, save it.

The refit starts from a fresh pipeline built from the best trial's parameters (never a model fitted
on a CV fold), and this is the only place the test rows are used.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data import Dataset
from automl.drift import profile
from automl.metrics import TASK_METRICS, Predictions, compute, predict
from automl.objective import TrialSpec
from automl.split import Split

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"


def refit(trial, data: Dataset, split: Split, seed: int):
    """A fresh pipeline from ``trial``'s parameters, fitted on the whole training part."""
    from sklearn.exceptions import ConvergenceWarning

    columns = (data.numeric, data.categorical, data.datetime)
    pipeline = TrialSpec.from_trial(trial).build(data.task, columns, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(split.X_train, split.y_train)
    return pipeline


def test_once(pipeline, split: Split, task: str) -> tuple[dict[str, float], Predictions]:
    """Every metric of the task on the locked-away test rows, and the predictions behind them.

    This is the one place the test rows are given to a model; plots reuse the returned predictions.
    """
    pred = predict(pipeline, split.X_test, TASK_METRICS[task])  # labels and scores for classification
    return compute(split.y_test, pred, TASK_METRICS[task]), pred


def schema(data: Dataset, split: Split) -> dict[str, Any]:
    """What the model was trained on: columns with dtypes and kinds, target, classes, row count."""
    kinds = {**{c: "numeric" for c in data.numeric}, **{c: "categorical" for c in data.categorical},
             **{c: "datetime" for c in data.datetime}}
    classes = sorted(map(str, split.y_train.unique())) if data.task != "regression" else None
    return {
        "task": data.task,
        "target": str(data.y.name),
        "target_dtype": str(data.y.dtype),
        "classes": classes,
        "columns": [{"name": c, "dtype": str(data.X[c].dtype), "kind": kinds[c]}
                    for c in data.feature_columns],
        "n_train_rows": int(len(split.y_train)),
        "dropped_columns": data.dropped_columns,
        # Distributions of the training part, so a retrain can measure drift against them.
        "profile": profile(split.X_train, split.y_train, kinds, data.task),
    }


def save_model(pipeline, model_schema: dict[str, Any], folder: Path) -> Path:
    """Write the fitted pipeline (joblib) and its schema next to it; return the model path."""
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    tmp = path.with_suffix(".tmp")
    joblib.dump(pipeline, tmp)
    tmp.replace(path)  # atomic: a crash never leaves a half-written model where one is expected
    (folder / SCHEMA_FILE).write_text(json.dumps(model_schema, indent=2))
    return path


def leaderboard(study, limit: int | None = None) -> pd.DataFrame:
    """Finished trials, best first: number, state, CV mean/std, family, parameters, fit time."""
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        rows.append({"trial": t.number, "cv_score": t.value, "cv_std": t.user_attrs.get("cv_std"),
                     "family": t.user_attrs.get("family"), "fit_time_s": t.user_attrs.get("fit_time_s"),
                     "params": json.dumps({k: v for k, v in t.params.items() if k != "model"})})
    frame = pd.DataFrame(rows, columns=["trial", "cv_score", "cv_std", "family", "fit_time_s", "params"])
    ascending = study.direction.name == "MINIMIZE"
    frame = frame.sort_values(["cv_score", "trial"], ascending=[ascending, True], kind="stable")
    return frame.head(limit) if limit else frame
