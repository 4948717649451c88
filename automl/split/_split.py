"""Lock away the test rows, then define the validation folds on the training part only.

How many folds, when ``--cv`` is not given, follows from the size of the training part and the
time budget (:func:`choose_folds`): K-fold CV is worth its cost on small tables, where one split's
score is noisy; on large tables one holdout split is both reliable and k times cheaper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data import Dataset, fingerprint, plain_value
from automl.errors import DataError, shown


@dataclass
class Split:
    """The training part (searched with CV) and the test part (touched once, after the search)."""

    X_train: pd.DataFrame
    y_train: pd.Series
    X_test: pd.DataFrame
    y_test: pd.Series
    groups_train: pd.Series | None
    test_fingerprint: str
    # Positions of the two parts in the table they came from (None: the test rows are a file of their own).
    train_index: np.ndarray | None = None
    test_index: np.ndarray | None = None


def holdout(data: Dataset, test_size: float, seed: int, time_ordered: bool = False,
            prefer: np.ndarray | None = None) -> Split:
    """Seeded holdout: stratified for classification, the most recent rows when time-ordered.

    ``prefer`` (one bool per row) marks rows to draw the test part from first: in a retrain, the
    rows the champion has not seen, so the two models can be compared on them (:func:`_preferring`).
    """
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    n = len(data.y)
    n_test = max(1, round(n * test_size))
    if n - n_test < 2:
        raise DataError(f"{data.name}: only {n} rows with a target; too few to hold out a test set")
    if data.groups is not None and not time_ordered and data.groups.nunique() < 2:
        raise DataError(f"{data.name}: group_column has {data.groups.nunique()} group; a test "
                        "set of whole groups needs at least 2")
    if prefer is not None and not time_ordered and prefer.any():
        if data.groups is None:
            _check_stratifiable(data, n_test)
        train_idx, test_idx = _preferring(data, prefer, n_test, seed)
    elif time_ordered:
        train_idx, test_idx = list(range(n - n_test)), list(range(n - n_test, n))
    elif data.groups is not None:
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
    train_idx, test_idx = np.asarray(train_idx, dtype=np.int64), np.asarray(test_idx, dtype=np.int64)
    return Split(X.iloc[train_idx], y.iloc[train_idx], X.iloc[test_idx], y.iloc[test_idx], groups,
                 fingerprint(X.iloc[test_idx], y.iloc[test_idx]), train_idx, test_idx)


def _preferring(data: Dataset, prefer: np.ndarray, n_test: int, seed: int) -> tuple[list, list]:
    """A test part of ``n_test`` rows drawn from the preferred rows first (stratified when they
    allow it), filled up with other rows when they are too few; with groups, whole groups, those
    whose every row is preferred first. Sorted positions, like the other splits."""
    rng = np.random.default_rng(seed)
    if data.groups is not None:
        codes = pd.factorize(data.groups)[0]
        whole = np.bincount(codes, weights=(~prefer).astype(float)) == 0  # groups without a non-preferred row
        order = np.concatenate([rng.permutation(np.flatnonzero(whole)), rng.permutation(np.flatnonzero(~whole))])
        sizes = np.bincount(codes)[order]
        taken = order[: max(1, int(np.searchsorted(np.cumsum(sizes), n_test)) + 1)]
        if len(taken) == len(order):
            taken = taken[:-1]  # the training part keeps a group
        test = np.isin(codes, taken)
    else:
        test = np.zeros(len(prefer), dtype=bool)
        first = np.flatnonzero(prefer)
        test[_draw(data, first, min(n_test, len(first)), rng)] = True
        rest = np.flatnonzero(~test)
        if n_test > len(first):
            test[_draw(data, rest, n_test - len(first), rng)] = True
    return sorted(np.flatnonzero(~test)), sorted(np.flatnonzero(test))


def _draw(data: Dataset, pool: np.ndarray, k: int, rng) -> np.ndarray:
    """``k`` of the positions ``pool``: stratified by class when every class there has 2 rows."""
    from sklearn.model_selection import train_test_split

    if k >= len(pool):
        return pool
    if k == 0:
        return pool[:0]
    y = data.y.to_numpy()[pool]
    stratify = y if data.task != "regression" and pd.Series(y).value_counts().min() >= 2 and \
        min(k, len(pool) - k) >= pd.Series(y).nunique() else None
    _, drawn = train_test_split(pool, test_size=k, random_state=int(rng.integers(2**31)), stratify=stratify)
    return np.asarray(drawn)


def given_test(data: Dataset, X_test: pd.DataFrame, y_test: pd.Series) -> Split:
    """Use a separate test file: all of ``data`` is the training part."""
    return Split(data.X, data.y, X_test, y_test, data.groups, fingerprint(X_test, y_test),
                 np.arange(len(data.y)), None)


def _check_stratifiable(data: Dataset, n_test: int) -> None:
    if data.task == "regression":
        return
    counts = data.y.value_counts()
    if counts.min() < 2:
        raise DataError(f"{data.name}: class {plain_value(counts.idxmin())} has only {counts.min()} row; "
                        "each class needs at least 2 rows to appear in both the training and the test part")
    for part, n, fix in (("test", n_test, "raise"), ("training", len(data.y) - n_test, "lower")):
        if n < len(counts):
            raise DataError(f"{data.name}: the {part} part ({n} rows) is smaller than the number of "
                            f"classes ({len(counts)}); {fix} test_size or add rows")


# The validation rule without --cv, by cells (training rows x feature columns).
FIVE_FOLD_CELLS = 200_000  # e.g. 10,000 rows x 20 columns and below: 5-fold CV
THREE_FOLD_CELLS = 2_000_000  # up to 100,000 x 20: 3-fold CV; above: one holdout split
SHORT_BUDGET_S = 60  # a budget under a minute drops one level for tables over ...
SHORT_BUDGET_CELLS = 50_000  # ... this many cells
HOLDOUT_SHARE = 0.2  # the validation share of a holdout split


def choose_folds(rows: int, columns: int, timeout: float | None) -> int:
    """Folds for the search when ``--cv`` is not given; 1 means one holdout split.

    >>> choose_folds(455, 30, None), choose_folds(43_000, 9, None), choose_folds(160_000, 15, 60)
    (5, 3, 1)
    >>> choose_folds(1_400, 64, 30)  # 90,000 cells and half a minute: 3-fold
    3
    """
    cells = rows * max(1, columns)
    levels = [5, 3, 1]
    level = 0 if cells <= FIVE_FOLD_CELLS else 1 if cells <= THREE_FOLD_CELLS else 2
    if timeout is not None and timeout < SHORT_BUDGET_S and cells > SHORT_BUDGET_CELLS:
        level = min(level + 1, 2)
    return levels[level]


def describe_folds(k: int) -> str:
    return f"{k}-fold CV" if k > 1 else f"holdout validation ({HOLDOUT_SHARE:.0%})"


def make_cv(task: str, k: int, seed: int, groups: pd.Series | None, time_ordered: bool):
    """The splitter: stratified K-fold (classification), K-fold (regression), group or time-series;
    with ``k == 1`` one holdout split of the same kind (the newest rows when time-ordered)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    if k == 1:
        return _holdout_splitter(task, seed, groups, time_ordered)
    if time_ordered:
        return TimeSeriesSplit(n_splits=k)
    if groups is not None:
        return GroupKFold(n_splits=k, shuffle=True, random_state=seed)
    if task == "regression":
        return KFold(n_splits=k, shuffle=True, random_state=seed)
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)


def _holdout_splitter(task: str, seed: int, groups: pd.Series | None, time_ordered: bool):
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit

    if time_ordered:
        return _NewestRows(HOLDOUT_SHARE)
    if groups is not None:
        return GroupShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed)
    if task == "regression":
        return ShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed)
    return StratifiedShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed)


class _NewestRows:
    """One split of time-ordered rows: train on the older ones, validate on the newest."""

    def __init__(self, share: float):
        self.share = share

    def split(self, X, y=None, groups=None):
        import numpy as np

        n = len(X)
        cut = n - max(1, round(n * self.share))
        yield np.arange(cut), np.arange(cut, n)


def cv_folds(split: Split, task: str, k: int, seed: int, time_ordered: bool) -> list[tuple]:
    """Materialise the folds once so every trial uses the very same rows, and check they are valid."""
    if task != "regression" and split.groups_train is None and not time_ordered:
        counts = split.y_train.value_counts()
        if counts.min() < max(k, 2):
            raise DataError(
                f"class {shown(counts.idxmin())} has {counts.min()} rows in the training part, fewer than "
                f"the {max(k, 2)} {'CV folds' if k > 1 else 'a holdout split needs'}; lower --cv "
                "or add rows of that class"
            )
    if split.groups_train is not None and split.groups_train.nunique() < max(k, 2):
        raise DataError(f"group_column has {split.groups_train.nunique()} groups in the training part, "
                        f"fewer than the {k} CV folds; lower --cv")
    if len(split.y_train) < 2 * max(k, 2):
        raise DataError(f"the training part has {len(split.y_train)} rows, too few for {k} CV folds")
    cv = make_cv(task, k, seed, split.groups_train, time_ordered)
    return list(cv.split(split.X_train, split.y_train, split.groups_train))
