"""Row fingerprints: one hash per row of features and target, alike for the recodings the schema
check accepts, different for a changed value or label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import label_text, read_rows_file, row_hashes, seen, to_bytes
from automl.errors import DataError

KINDS = {"n": "numeric", "c": "categorical", "t": "datetime"}
SALT = "k" * 16


def _table():
    X = pd.DataFrame({"n": [1, 2, 3, np.nan], "c": ["a", "b", None, "a"],
                      "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", None])})
    return X, pd.Series([0, 1, 0, 1])


@pytest.mark.parametrize("recode", [
    lambda X, y: (X[["t", "c", "n"]], y),  # column order
    lambda X, y: (X.astype({"n": "float32"}), y.astype(float)),  # dtypes of one kind
    lambda X, y: (X.astype({"c": "category"}), y.astype(str)),
    lambda X, y: (X.assign(t=X["t"].dt.strftime("%Y-%m-%d")), y),  # dates as text (a CSV)
    lambda X, y: (X.assign(t=X["t"].dt.tz_localize("UTC")), y),
])
def test_recodings_the_schema_check_accepts_hash_alike(recode):
    X, y = _table()
    X2, y2 = recode(X.copy(), y.copy())
    assert (row_hashes(X, y, KINDS, "binary", SALT) == row_hashes(X2, y2, KINDS, "binary", SALT)).all()


@pytest.mark.parametrize("change", [
    lambda X, y: (X.assign(n=X["n"] + 0.5), y), lambda X, y: (X.assign(c="z"), y),
    lambda X, y: (X, 1 - y), lambda X, y: (X.assign(t=X["t"] + pd.Timedelta("1s")), y),
])
def test_a_changed_value_or_label_is_another_row(change):
    X, y = _table()
    X2, y2 = change(X.copy(), y.copy())
    before, after = row_hashes(X, y, KINDS, "binary", SALT), row_hashes(X2, y2, KINDS, "binary", SALT)
    assert not seen(after[:3], before).any()


def test_the_salt_keys_the_hashes():
    X, y = _table()
    assert not seen(row_hashes(X, y, KINDS, "binary", "j" * 16), row_hashes(X, y, KINDS, "binary", SALT)).any()


def test_the_file_holds_only_hashes(tmp_path):
    X, y = _table()
    rows = row_hashes(X, y, KINDS, "binary", SALT)
    (tmp_path / "r.npz").write_bytes(to_bytes(np.r_[rows, rows]))
    back, groups = read_rows_file(tmp_path / "r.npz")
    assert groups is None and sorted(back) == sorted(set(rows))
    np.savez(tmp_path / "bad.npz", rows=np.array([object()], dtype=object))
    with pytest.raises(DataError, match="not a row fingerprint file"):
        read_rows_file(tmp_path / "bad.npz")


def test_whole_number_labels_read_alike():
    assert list(label_text([1.0, 1, "1", True])) == ["1", "1", "1", "True"]
