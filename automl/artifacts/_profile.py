"""A profile of the training data, saved with the model so a retrain can measure drift.

Numeric columns as quantile bins with their shares, categorical ones as category shares, and the
target the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

N_BINS = 10
TOP_CATEGORIES = 30


def profile(X: pd.DataFrame, y: pd.Series, kinds: dict[str, str], task: str) -> dict[str, Any]:
    """Distribution summary of every numeric and categorical column and of the target.

    Datetime columns are left out: time moves on, so their values always "drift".
    """
    columns = {c: _numeric_profile(X[c]) if kinds[c] == "numeric" else _category_profile(X[c])
               for c in X.columns if kinds.get(c) in ("numeric", "categorical")}
    target = _numeric_profile(y) if task == "regression" else _category_profile(y)
    return {"columns": columns, "target": target}


def _numeric_profile(s: pd.Series) -> dict[str, Any]:
    values = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float)
    if values.size == 0:
        return {"kind": "numeric", "edges": [], "shares": []}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, N_BINS + 1))[1:-1])
    return {"kind": "numeric", "edges": edges.tolist(), "shares": bin_shares(values, edges).tolist()}


def _category_profile(s: pd.Series) -> dict[str, Any]:
    shares = s.astype(str).value_counts(normalize=True)
    top = shares.head(TOP_CATEGORIES)
    return {"kind": "categorical", "shares": {str(k): float(v) for k, v in top.items()},
            "other": float(max(0.0, 1 - top.sum()))}


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return counts / max(1, counts.sum())
