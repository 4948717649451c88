"""What a model was trained on: columns, kinds, target, classes, and the data's profile."""

from __future__ import annotations

from typing import Any

from automl.data import Dataset
from automl.split import Split

from ._profile import profile


def schema(data: Dataset, split: Split) -> dict[str, Any]:
    """What the model was trained on: columns with dtypes and kinds, target, classes, row count."""
    kinds = {**{c: "numeric" for c in data.numeric}, **{c: "categorical" for c in data.categorical},
             **{c: "datetime" for c in data.datetime}, **{c: "text" for c in data.text}}
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
