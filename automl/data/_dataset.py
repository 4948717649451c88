"""The prepared table, and the fingerprint that proves which rows were used."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.errors import named


@dataclass
class Dataset:
    """Features and target ready for splitting, with what was done to get there."""

    X: pd.DataFrame
    y: pd.Series
    name: str
    task: str
    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    text: list[str] = field(default_factory=list)  # free text: word features inside the pipeline
    groups: pd.Series | None = None
    rows_dropped: int = 0
    dropped_columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # kept, but worth a look (integer IDs)
    # time_column as numbers, one per row (seconds since the epoch for instants): which rows are newer
    times: np.ndarray | None = None
    time_kind: str | None = None  # "instant" (dates and times) or "number"

    @property
    def feature_columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime, *self.text]

    @property
    def columns_by_kind(self) -> tuple[list[str], list[str], list[str], list[str]]:
        """What the preprocessing needs: numeric, categorical, datetime and text columns."""
        return self.numeric, self.categorical, self.datetime, self.text


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """sha256 over column names and row contents (order-sensitive), to prove which rows were used."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, [*X.columns, y.name])).encode())
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(y, index=False).to_numpy().tobytes())
    return digest.hexdigest()


# Models compute in float32 (and scalers square values in float64): a number beyond float32's
# range overflows there and fails every trial, so it counts as missing, like an infinite one.
LARGEST = float(np.finfo(np.float32).max)


def beyond_float32(values: pd.Series) -> pd.Series:
    """Where a column of numbers holds a finite value too large for float32 (all False for
    other columns)."""
    if not pd.api.types.is_float_dtype(values):
        return pd.Series(False, index=values.index)
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(np.isfinite(numbers) & (np.abs(numbers) > LARGEST), index=values.index)


def as_missing_beyond_float32(values: pd.Series) -> pd.Series:
    """``values`` with infinite numbers and numbers beyond float32's range as missing."""
    if not pd.api.types.is_float_dtype(values):
        return values
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    return values.mask(~np.isfinite(numbers) | (np.abs(numbers) > LARGEST))


def rows_with_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """Rows whose target is known (infinite values count as missing everywhere, and so do
    numbers beyond float32 in the target), and how many were dropped."""
    frame = frame.replace([np.inf, -np.inf], np.nan)
    frame[target] = as_missing_beyond_float32(frame[target])  # replace() made a copy
    keep = frame[target].notna()
    return frame.loc[keep], int((~keep).sum())


# What spreadsheets and exports write for "no value" in a column of numbers.
PLACEHOLDERS = frozenset({"?", "-", "--", ".", "", "na", "n/a", "nan", "null", "none", "missing", "#n/a"})


def is_placeholder(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDERS


def numbers_with_placeholders(values: pd.Series) -> pd.Series | None:
    """``values`` as numbers when every entry that is not a number is a placeholder such as
    ``?`` (then missing), and there is at least one number; else None (a text column)."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None  # dates, categories, numbers: their type says what they are
    parsed = pd.to_numeric(values, errors="coerce")
    other = values[values.notna() & parsed.isna()]
    if parsed.notna().sum() == 0 or not all(map(is_placeholder, other)):
        return None
    return parsed


def preview(columns, limit: int = 12) -> str:
    names = [named(c, 40) for c in columns]
    more = f", ... (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
