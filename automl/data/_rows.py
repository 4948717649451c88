"""Row fingerprints: which rows a model learnt from, kept as one 64-bit hash per row.

A model's folder records the hashes of the rows it was fitted on (never the rows), so a later
retrain can tell which of today's rows that model has seen. A row is its feature values and its
target: the same features with another label are a row the model has not learnt. The hash does
not depend on column order, and a value hashes alike in the dtypes the schema check accepts for
its kind (3, 3.0 and a float32 3.0; "a" as str, object or category; a date as text or datetime).
Numbers are compared at float32 precision, the precision the models compute in.

The hashes are keyed with a random salt kept next to them, so a table of them is no lookup table
for rows that are common everywhere (a hash of a row still tells whoever has the row that it was
trained on: the file is as private as the model).

>>> X, kinds = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), {"a": "numeric", "b": "categorical"}
>>> one = row_hashes(X, pd.Series([0, 1]), kinds, "binary", "0" * 16)
>>> two = row_hashes(X[["b", "a"]].astype({"a": float, "b": "category"}), pd.Series([0.0, 1.0]), kinds,
...                  "binary", "0" * 16)
>>> bool((one == two).all()), bool(one[0] == one[1])
(True, False)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
import io
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from automl.errors import DataError

ROWS_FILE = "training_rows.npz"
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_MISSING = np.uint64(0x9E3779B97F4A7C15)  # any fixed value: a missing cell hashes alike everywhere
TARGET = "\x00target"  # the target's slot in the hash; no column can be called this


def new_salt() -> str:
    return secrets.token_hex(8)


def row_hashes(X: pd.DataFrame, y: pd.Series, kinds: dict[str, str], task: str, salt: str) -> np.ndarray:
    """One uint64 per row over the columns in ``kinds`` (name -> "numeric", "datetime", or any
    other kind, hashed as text; all must be in ``X``) and the target."""
    n = len(X)
    out = np.full(n, _seed(salt, "rows"), dtype=np.uint64)
    target_kind = "numeric" if task == "regression" else "text"
    columns = [(c, kinds[c], X[c]) for c in sorted(kinds)] + [(TARGET, target_kind, y)]
    for name, kind, values in columns:
        cells = _mix(_cells(values, kind, salt) ^ _seed(salt, name))
        out = _mix(out * np.uint64(0x100000001B3) + cells)
    return out


def seen(hashes: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    """Where ``hashes`` are among ``known`` (all False when nothing is known)."""
    if known is None or len(known) == 0:
        return np.zeros(len(hashes), dtype=bool)
    return np.isin(hashes, known)


def to_bytes(rows: np.ndarray, groups: np.ndarray | None = None) -> bytes:
    """The file's content: the sorted distinct hashes of the rows (and of the groups, if any)."""
    buffer = io.BytesIO()
    arrays = {"rows": np.unique(rows)}
    if groups is not None:
        arrays["groups"] = np.unique(groups)
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def read_rows_file(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Hashes of rows (and groups) from a model's fingerprint file; no object can be in it."""
    try:
        with np.load(path, allow_pickle=False) as found:
            rows = found["rows"]
            groups = found["groups"] if "groups" in found.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path.name}: not a row fingerprint file ({exc})") from None
    for array in (rows, groups):
        if array is not None and (array.dtype != np.uint64 or array.ndim != 1):
            raise DataError(f"{path.name}: row fingerprints must be one list of uint64, got {array.dtype}")
    return rows, groups


def group_hashes(groups: pd.Series, salt: str) -> np.ndarray:
    return _mix(_text_cells(groups, salt) ^ _seed(salt, "\x00group"))


def _cells(values: pd.Series, kind: str, salt: str) -> np.ndarray:
    if kind == "numeric":
        return _number_cells(values)
    if kind == "datetime":
        return _time_cells(values, salt)
    return _text_cells(values, salt)


def _number_cells(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        single = numbers.astype(np.float32).astype(np.float64) + 0.0  # + 0.0: -0.0 is 0.0
    cells = single.view(np.uint64).copy()
    cells[~np.isfinite(single)] = _MISSING
    return cells


def _time_cells(values: pd.Series, salt: str) -> np.ndarray:
    stamps = values
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            stamps = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError):  # mixed offsets: pandas cannot make them one column
            return _text_cells(values, salt)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    cells = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.uint64)
    cells[stamps.isna().to_numpy()] = _MISSING
    return cells


def _text_cells(values: pd.Series, salt: str) -> np.ndarray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([_digest(salt, _as_text(v)) for v in uniques] + [int(_MISSING)], dtype=np.uint64)
    return table[codes]  # code -1 (missing) picks the last entry


def _as_text(value) -> str:
    # Whole numbers as integers: a class 1 read as 1, 1.0 or "1" is one class.
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    return str(value)


def _digest(salt: str, text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8,
                                          key=salt.encode()).digest(), "little")


def _seed(salt: str, name: str) -> np.uint64:
    return np.uint64(_digest(salt, "\x00column\x00" + name))


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (arrays wrap silently)."""
    h = np.asarray(h, dtype=np.uint64)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (h ^ (h >> np.uint64(31))) & _MASK


def kinds_of(numeric: list[str], datetimes: list[str], others: list[str]) -> dict[str, str]:
    """The kinds the hash tells apart: numbers, instants, and everything else as text."""
    return {**{c: "text" for c in others}, **{c: "numeric" for c in numeric},
            **{c: "datetime" for c in datetimes}}


@dataclass
class RowPrints:
    """A run's row hashes: one per row of the table, one per test row, the table's groups and
    times (time_column), each per row of the table."""

    salt: str
    kinds: dict[str, str]  # the columns hashed, and how
    table: np.ndarray
    test: np.ndarray
    groups: np.ndarray | None = None
    times: np.ndarray | None = None
    time_kind: str | None = None  # "instant" (seconds since the epoch) or "number"

    def fitted(self, train_index: np.ndarray, with_test: bool) -> np.ndarray:
        """The hashes of the rows a final model was fitted on (with the test rows: refit_full)."""
        rows = self.table[train_index]
        return np.concatenate([rows, self.test]) if with_test else rows

    def fitted_groups(self, train_index, test_index, with_test: bool) -> np.ndarray | None:
        """The groups of those rows (a test file's groups are not known: its rows are not grouped)."""
        return None if self.groups is None else self.groups[_fitted_index(train_index, test_index, with_test)]

    def newest(self, train_index, test_index, with_test: bool) -> float | None:
        """The newest time among those rows (None without time_column)."""
        if self.times is None:
            return None
        return float(self.times[_fitted_index(train_index, test_index, with_test)].max())


def _fitted_index(train_index, test_index, with_test: bool) -> np.ndarray:
    if with_test and test_index is not None:
        return np.concatenate([train_index, test_index])
    return np.asarray(train_index)


def label_text(values) -> np.ndarray:
    """Class labels as text, whole numbers as integers: labels of two models compare alike."""
    return np.array([_as_text(v) for v in np.asarray(values, dtype=object)], dtype=object)
