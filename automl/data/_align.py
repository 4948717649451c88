"""Check a separate test file (or rows to predict) against what training saw."""

from __future__ import annotations

import pandas as pd

from automl.errors import DataError, shown

from ._dataset import Dataset, is_placeholder, rows_with_target
from ._prepare import class_labels


def align_test_frame(test: pd.DataFrame, data: Dataset, target: str, source: str) -> tuple[pd.DataFrame, pd.Series, int]:
    """Check a given test file has every training column; drop rows without a target."""
    missing = [c for c in (*data.feature_columns, target) if c not in test.columns]
    if missing:
        raise DataError(f"{source}: test data is missing training columns {missing}")
    test, dropped = rows_with_target(test, target)
    if test.empty:
        raise DataError(f"{source}: test data has no rows with a target value")
    for col in (*data.numeric, *([target] if data.task == "regression" else [])):
        check_numeric(test[col], f"{source}: column {shown(col)}", "test data")
    y = pd.to_numeric(test[target]) if data.task == "regression" else _like_training(test[target], data.y)
    if data.task != "regression":
        unseen = sorted(map(str, set(y.unique()) - set(data.y.unique())))  # 1.0 == 1: NaN-widened ints
        if unseen:
            raise DataError(f"{source}: test target {shown(target)} has classes not in the training data "
                            f"{unseen[:5]}; the model can only predict {sorted(map(str, data.y.unique()))}")
    return test[data.feature_columns], y, dropped


def _like_training(y: pd.Series, classes: pd.Series) -> pd.Series:
    """Test labels written as numbers, compared with classes that training holds as text: as
    :func:`class_labels` writes numbers that are not whole (1.5 -> "1.5", so 2 -> "2.0")."""
    if pd.api.types.is_object_dtype(y):
        return class_labels(y)  # bytes or mixed values, as training wrote them
    numbers = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    if not numbers or pd.api.types.is_numeric_dtype(classes) or pd.api.types.is_bool_dtype(classes):
        return y
    as_text = y.map(lambda v: str(float(v)))
    return as_text if as_text.isin(set(classes)).any() else y  # else the error names them as written


def check_numeric(values: pd.Series, where: str, what: str) -> None:
    """Raise if a column that was numeric in training holds values that are not numbers."""
    bad = values[values.notna() & pd.to_numeric(values, errors="coerce").isna() & ~values.map(is_placeholder)]
    if len(bad):
        raise DataError(f"{where} is numeric in the training data but has non-numeric values in the "
                        f"{what} (e.g. {shown(bad.iloc[0])})")
