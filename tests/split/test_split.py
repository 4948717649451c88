"""automl.split: the locked-away test rows and the CV folds on the training part."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import prepare
from automl.errors import DataError
from automl.split import choose_folds, cv_folds, given_test, holdout


@pytest.fixture
def data(frame):
    return prepare(frame, "label", "auto", "src")


def test_holdout_is_disjoint_stratified_and_seeded(data, seed):
    split = holdout(data, 0.25, seed)
    train, test = set(split.X_train.index), set(split.X_test.index)
    assert not train & test and train | test == set(data.X.index)
    assert len(test) == 15
    assert sorted(split.y_test.value_counts().tolist()) == [7, 8]
    again = holdout(data, 0.25, seed)
    assert again.test_fingerprint == split.test_fingerprint
    assert holdout(data, 0.25, seed + 1).test_fingerprint != split.test_fingerprint


def test_time_ordered_holdout_takes_the_latest_rows(frame):
    frame["t"] = np.arange(len(frame))[::-1]
    data = prepare(frame, "label", "auto", "src", time_column="t")
    split = holdout(data, 0.2, 0, time_ordered=True)
    assert split.X_test.index.tolist() == list(range(12))[::-1]  # smallest t are the latest rows


def test_group_holdout_keeps_groups_together(frame):
    frame["g"] = np.arange(len(frame)) // 4
    data = prepare(frame, "label", "auto", "src", group_column="g")
    split = holdout(data, 0.25, 0)
    test_groups = set(frame.loc[split.X_test.index, "g"])
    assert test_groups and not test_groups & set(split.groups_train)


@pytest.mark.parametrize(("rows", "test_size", "match"), [
    (["a", "b", "a"], 0.5, "only 3 rows with a target; too few"),
    (["a"] * 10 + ["b"], 0.2, r"class 'b' has only 1 row; each class needs at least 2"),
    (["a", "b", "c", "d"] * 3, 0.1, r"the test part \(1 rows\) is smaller than the number of classes \(4\)"),
    (["a", "b", "c"] * 10, 0.95, r"the training part \(2 rows\) is smaller than the number of classes \(3\); "
     "lower test_size"),
])
def test_holdout_errors(rows, test_size, match):
    frame = pd.DataFrame({"x": np.arange(len(rows), dtype=float) % 3, "y": rows})
    data = prepare(frame, "y", "auto", "src")
    with pytest.raises(DataError, match=match):
        holdout(data, test_size, 0)


def test_given_test_uses_all_rows_for_training(data, frame):
    split = given_test(data, frame[["x1", "x2"]].head(5), frame["label"].head(5))
    assert len(split.X_train) == len(frame) and len(split.X_test) == 5


@pytest.mark.parametrize("time_ordered", [False, True])
def test_folds_cover_only_training_rows(data, seed, time_ordered):
    split = holdout(data, 0.2, seed, time_ordered)
    folds = cv_folds(split, data.task, 3, seed, time_ordered)
    assert len(folds) == 3
    n_train = len(split.y_train)
    validated = np.concatenate([valid for _, valid in folds])
    for train, valid in folds:
        assert not set(train) & set(valid)
        assert max(train.max(), valid.max()) < n_train  # positions inside the training part
    if not time_ordered:
        assert sorted(validated) == list(range(n_train))  # every training row validated once
    labels = {split.X_train.index[i] for _, valid in folds for i in valid}
    assert not labels & set(split.X_test.index)


def test_folds_are_seeded(data):
    split = holdout(data, 0.2, 0)
    same = [v.tolist() for _, v in cv_folds(split, data.task, 3, 0, False)]
    assert same == [v.tolist() for _, v in cv_folds(split, data.task, 3, 0, False)]
    assert same != [v.tolist() for _, v in cv_folds(split, data.task, 3, 1, False)]


@pytest.mark.parametrize(("labels", "groups", "k", "match"), [
    (["a"] * 10 + ["b"] * 2, None, 3, r"class 'b' has 2 rows in the training part, fewer than the 3 CV folds"),
    (["a", "b"] * 6, [0, 1] * 6, 3, r"group_column has 2 groups in the training part, fewer than the 3"),
    (["a", "b"] * 4, None, 5, r"class '\w' has 4 rows .* fewer than the 5 CV folds"),
])
def test_fold_errors(labels, groups, k, match):
    from automl.split import Split

    X = pd.DataFrame({"x": np.arange(len(labels), dtype=float)})
    y = pd.Series(labels)
    split = Split(X, y, X.head(1), y.head(1), pd.Series(groups) if groups else None, "")
    with pytest.raises(DataError, match=match):
        cv_folds(split, "binary", k, 0, False)


def test_too_few_rows_for_regression_folds():
    from automl.split import Split

    X, y = pd.DataFrame({"x": np.arange(5.0)}), pd.Series(np.arange(5.0))
    with pytest.raises(DataError, match="the training part has 5 rows, too few for 3 CV folds"):
        cv_folds(Split(X, y, X, y, None, ""), "regression", 3, 0, False)


@pytest.mark.parametrize(("rows", "columns", "timeout", "folds"), [
    (455, 30, None, 5),          # small: 5-fold CV
    (10_000, 20, None, 5),       # 200,000 cells: still 5-fold
    (10_001, 20, None, 3),       # just over: 3-fold
    (43_000, 9, 120, 3),         # mid-sized
    (100_000, 20, None, 3),      # 2,000,000 cells: still 3-fold
    (160_000, 15, None, 1),      # large: one holdout split
    (1_400, 64, 30, 3),          # a short budget drops a level above 50,000 cells ...
    (1_400, 30, 30, 5),          # ... but not below
    (43_000, 9, 30, 1),
])
def test_validation_rule(rows, columns, timeout, folds):
    assert choose_folds(rows, columns, timeout) == folds


def _frame(n, task="binary"):
    x = np.arange(n, dtype=float)
    y = np.where(np.arange(n) % 4 == 0, "a", "b") if task == "binary" else x * 2
    return pd.DataFrame({"x": x, "t": y})


def test_holdout_validation_is_one_stratified_split():
    data = prepare(_frame(200), "t", "auto", "src")
    split = holdout(data, 0.2, 0)
    (train, valid), = cv_folds(split, data.task, 1, 0, False)
    assert len(valid) == round(0.2 * len(split.y_train)) and not set(train) & set(valid)
    assert split.y_train.iloc[valid].value_counts(normalize=True)["a"] == pytest.approx(0.25, abs=0.02)


def test_time_ordered_holdout_validates_on_the_newest_rows():
    data = prepare(_frame(100, "regression").assign(when=pd.date_range("2024-01-01", periods=100)),
                   "t", "auto", "src", time_column="when")
    split = holdout(data, 0.2, 0, time_ordered=True)
    (train, valid), = cv_folds(split, data.task, 1, 0, True)
    assert list(valid) == list(range(64, 80)) and list(train) == list(range(64))


def _rows(n: int, seed: int, groups: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "label": rng.choice(["a", "b"], size=n)})
    if groups:
        frame["g"] = np.arange(n) // 5
    return frame


def test_a_preferred_holdout_puts_every_preferred_row_in_the_test_part_when_they_are_few():
    data = prepare(_rows(200, 0), "label", "auto", "src")
    prefer = np.zeros(200, dtype=bool)
    prefer[[3, 50, 51, 120, 199]] = True
    split = holdout(data, 0.2, 0, prefer=prefer)
    assert len(split.test_index) == 40 and set(np.flatnonzero(prefer)) <= set(split.test_index)
    assert not set(split.train_index) & set(split.test_index)
    assert len(split.train_index) + len(split.test_index) == 200


def test_a_preferred_holdout_draws_only_preferred_rows_when_there_are_enough():
    data = prepare(_rows(300, 1), "label", "auto", "src")
    prefer = np.arange(300) >= 150  # the newer half is unseen
    split = holdout(data, 0.2, 0, prefer=prefer)
    assert len(split.test_index) == 60 and prefer[split.test_index].all()
    assert split.test_index.tolist() == sorted(split.test_index.tolist())
    again = holdout(data, 0.2, 0, prefer=prefer)
    assert again.test_fingerprint == split.test_fingerprint  # seeded
    classes = split.y_test.value_counts()
    assert classes.min() >= 20  # stratified: both classes, about half each


def test_a_preferred_group_holdout_takes_wholly_preferred_groups_first():
    frame = _rows(300, 2, groups=True)
    data = prepare(frame, "label", "auto", "src", group_column="g")
    prefer = frame["g"].to_numpy() >= 40  # groups 40..59 wholly unseen
    prefer[7] = True  # one row of group 1: that group is not wholly unseen
    split = holdout(data, 0.2, 0, prefer=prefer)
    test_groups = set(frame["g"].iloc[split.test_index])
    train_groups = set(frame["g"].iloc[split.train_index])
    assert not test_groups & train_groups
    assert test_groups <= set(range(40, 60)) and len(split.test_index) >= 60


def test_a_preferred_group_holdout_with_one_group_is_refused():
    frame = _rows(40, 3, groups=True)
    frame["g"] = 1
    data = prepare(frame, "label", "auto", "src", group_column="g")
    with pytest.raises(DataError, match="group_column has 1 group"):
        holdout(data, 0.2, 0, prefer=np.ones(40, dtype=bool))
