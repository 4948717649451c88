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


def rows_with_target(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """Rows whose target is known (infinite values count as missing everywhere), and how many
    were dropped."""
    frame = frame.replace([np.inf, -np.inf], np.nan)
    keep = frame[target].notna()
    return frame.loc[keep], int((~keep).sum())


# What spreadsheets and exports write for "no value" in a column of numbers.
PLACEHOLDERS = frozenset({"?", "-", "--", ".", "", "na", "n/a", "nan", "null", "none", "missing", "#n/a"})


def is_placeholder(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDERS


def numbers_with_placeholders(values: pd.Series) -> pd.Series | None:
    """``values`` as numbers when every entry that is not a number is a placeholder such as
    ``?`` (then missing), and there is at least one number; else None (a text column)."""
    parsed = pd.to_numeric(values, errors="coerce")
    other = values[values.notna() & parsed.isna()]
    if parsed.notna().sum() == 0 or not other.map(is_placeholder).all():
        return None
    return parsed


def preview(columns, limit: int = 12) -> str:
    names = [named(c, 40) for c in columns]
    more = f", ... (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
