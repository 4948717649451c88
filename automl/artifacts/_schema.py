"""What a model was trained on: columns, kinds, target, classes, the data's profile, and the hashes
of the rows it was fitted on."""

from __future__ import annotations

from typing import Any

import numpy as np

from automl.data import ROWS_FILE, Dataset, RowPrints
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


def training_schema(data: Dataset, split: Split, prints: RowPrints, refit: bool
                    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray | None]:
    """The schema with the hashes of the rows the saved model was fitted on (the training rows,
    and the test rows too after a refit on every row), and those rows' and groups' hashes: a later
    retrain's gate compares it only on rows it has not seen."""
    out = schema(data, split)
    rows = prints.fitted(split.train_index, refit)
    groups = prints.fitted_groups(split.train_index, split.test_index, refit)
    out["training_rows"] = {"file": ROWS_FILE, "rows": int(len(rows)), "salt": prints.salt,
                            "columns": prints.kinds, "task": data.task, "grouped": groups is not None,
                            "newest_time": prints.newest(split.train_index, split.test_index, refit),
                            "time_kind": prints.time_kind}
    return out, rows, groups
