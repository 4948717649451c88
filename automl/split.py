"""Lock away the test rows, then define the CV folds on the training part only."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from automl.data import Dataset, fingerprint
from automl.errors import DataError


@dataclass
class Split:
    """The training part (searched with CV) and the test part (touched once, after the search)."""

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    groups_train: pd.Series | None
    test_fingerprint: str


def holdout(data: Dataset, test_size: float, seed: int, time_ordered: bool = False) -> Split:
    """Seeded holdout: stratified for classification, the most recent rows when time-ordered."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    n = len(data.y)
    n_test = max(1, round(n * test_size))
    if n - n_test < 2:
        raise DataError(f"{data.name}: only {n} rows with a target; too few to hold out a test set")
    if time_ordered:
        train_idx, test_idx = list(range(n - n_test)), list(range(n - n_test, n))
    elif data.groups is not None:
        if data.groups.nunique() < 2:
            raise DataError(f"{data.name}: group_column has {data.groups.nunique()} group; a test "
                            "set of whole groups needs at least 2")
        gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train_idx, test_idx = next(gss.split(data.X, data.y, data.groups))
    else:
        stratify = data.y if data.task != "regression" else None
        _check_stratifiable(data, n_test)
        train_idx, test_idx = train_test_split(
            list(range(n)), test_size=n_test, random_state=seed, stratify=stratify
        )
        train_idx, test_idx = sorted(train_idx), sorted(test_idx)
    X, y = data.X, data.y
    groups = data.groups.iloc[train_idx] if data.groups is not None else None
    return Split(X.iloc[train_idx], y.iloc[train_idx], X.iloc[test_idx], y.iloc[test_idx], groups,
                 fingerprint(X.iloc[test_idx], y.iloc[test_idx]))


def given_test(data: Dataset, X_test: pd.DataFrame, y_test: pd.Series) -> Split:
    """Use a separate test file: all of ``data`` is the training part."""
    return Split(data.X, data.y, X_test, y_test, data.groups, fingerprint(X_test, y_test))


def _check_stratifiable(data: Dataset, n_test: int) -> None:
    if data.task == "regression":
        return
    counts = data.y.value_counts()
    if counts.min() < 2:
        label = counts.idxmin()
        raise DataError(f"{data.name}: class {label!r} has only {counts.min()} row; each class needs at "
                        "least 2 rows to appear in both the training and the test part")
    if n_test < len(counts):
        raise DataError(f"{data.name}: the test part ({n_test} rows) is smaller than the number of "
                        f"classes ({len(counts)}); raise test_size or add rows")


def make_cv(task: str, k: int, seed: int, groups: pd.Series | None, time_ordered: bool):
    """The CV splitter: stratified K-fold (classification), K-fold (regression), group or time-series."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    if time_ordered:
        return TimeSeriesSplit(n_splits=k)
    if groups is not None:
        return GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    if task == "regression":
        return KFold(n_splits=k, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def cv_folds(split: Split, task: str, k: int, seed: int, time_ordered: bool) -> list[tuple]:
    """Materialise the folds once so every trial uses the very same rows, and check they are valid."""
    if task != "regression" and split.groups_train is None and not time_ordered:
        counts = split.y_train.value_counts()
        if counts.min() < k:
            raise DataError(
                f"class {counts.idxmin()!r} has {counts.min()} rows in the training part, fewer than "
                f"the {k} CV folds; lower --cv or add rows of that class"
            )
    if split.groups_train is not None and split.groups_train.nunique() < k:
        raise DataError(f"group_column has {split.groups_train.nunique()} groups in the training part, "
                        f"fewer than the {k} CV folds; lower --cv")
    if len(split.y_train) < 2 * k:
        raise DataError(f"the training part has {len(split.y_train)} rows, too few for {k} CV folds")
    cv = make_cv(task, k, seed, split.groups_train, time_ordered)
    return list(cv.split(split.X_train, split.y_train, split.groups_train))
