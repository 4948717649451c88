"""The prepared table, and the fingerprint that proves which rows were used."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


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


def preview(columns, limit: int = 12) -> str:
    names = [str(c) for c in columns]
    more = f", ... (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
