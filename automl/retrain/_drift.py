"""How new data differs from what the champion was trained on.

The champion's ``schema.json`` holds a profile of its training data (``automl.artifacts``); a
retrain compares new data with it: schema changes are refused, distribution drift is measured
(population stability index) and warned about.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.artifacts import bin_shares

PSI_WARN = 0.2  # common rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 significant shift
ROW_DROP_LIMIT = 0.5  # refuse when the new data has less than half the champion's training rows
_EPS = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, float), _EPS, None)
    a = np.clip(np.asarray(actual, float), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _drift_of(ref: dict[str, Any], s: pd.Series) -> float:
    if ref["kind"] == "numeric":
        values = pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float)
        return psi(ref["shares"], bin_shares(values, np.asarray(ref["edges"])))
    shares = s.astype(str).value_counts(normalize=True)
    keys = list(ref["shares"])
    expected = [*ref["shares"].values(), ref["other"]]
    actual = [float(shares.get(k, 0.0)) for k in keys]
    actual.append(max(0.0, 1 - sum(actual)))
    return psi(expected, actual)


def drift(reference: dict[str, Any], X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """PSI per column present in both, and ``target`` for the target's distribution."""
    out = {c: _drift_of(ref, X[c]) for c, ref in reference["columns"].items() if c in X.columns}
    out["target"] = _drift_of(reference["target"], y)
    return out


def schema_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Differences that make new data unfit for the champion's setup, one phrase each."""
    problems = []
    old_cols = {c["name"]: c for c in old["columns"]}
    new_cols = {c["name"]: c for c in new["columns"]}
    missing = sorted(set(old_cols) - set(new_cols))
    added = sorted(set(new_cols) - set(old_cols))
    if missing:
        problems.append(f"missing columns {missing}")
    if added:
        problems.append(f"new columns {added}")
    changed = [f"{c} ({old_cols[c]['kind']} {old_cols[c]['dtype']} -> {new_cols[c]['kind']} "
               f"{new_cols[c]['dtype']})" for c in sorted(set(old_cols) & set(new_cols))
               if old_cols[c]["kind"] != new_cols[c]["kind"]]
    if changed:
        problems.append(f"changed column types {changed}")
    if old.get("task") != new.get("task"):
        problems.append(f"task changed from {old.get('task')} to {new.get('task')}")
    old_classes, new_classes = set(old.get("classes") or []), set(new.get("classes") or [])
    if new_classes - old_classes:
        problems.append(f"new target classes {sorted(new_classes - old_classes)}")
    if old_classes - new_classes:
        problems.append(f"vanished target classes {sorted(old_classes - new_classes)}")
    old_rows, new_rows = old.get("n_train_rows", 0), new.get("n_train_rows", 0)
    if old_rows and new_rows < ROW_DROP_LIMIT * old_rows:
        problems.append(f"rows dropped sharply ({new_rows} training rows, champion had {old_rows})")
    return problems
