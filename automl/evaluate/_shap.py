"""SHAP values of the final model, by original column, when the optional ``shap`` package is
installed (``pip install 'automl[shap]'``); never required.

The model is the whole pipeline fed the raw table, so the explainer works on original columns
(text, categories and dates included) through one trick: each row is given to SHAP as the row
numbers its values come from, and the model function rebuilds the table from those numbers. A
masked value is then a value of a background row (training rows), whatever its type, which is
what SHAP's independent masker means. The permutation explainer with one permutation per row
costs ``(2 x columns + 1) x background`` predictions per explained row; one batch is timed first
and the number of rows is cut to the time it is given. The first use in a process also pays for
importing shap and numba's compile of its masking code (6-8 s on 2 cores, measured): without that
in the reckoning a 60 s run ended 8 s late.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_ROWS = 100  # explained rows (test rows)
MIN_ROWS = 10
BACKGROUND = 30  # training rows that stand in for a masked value
START_S = 10.0  # import shap, compile its numba code: once per process (see above)
_started = False


@dataclass
class ShapResult:
    table: pd.DataFrame  # column, mean_abs_shap; strongest first
    rows: int
    background: int
    output: str  # what was explained: the positive class's probability, every class's, or the value

    def summary(self, k: int) -> dict:
        top = [{"column": r.column, "mean_abs_shap": float(r.mean_abs_shap)}
               for r in self.table.head(k).itertuples()]
        return {"rows": self.rows, "background": self.background, "output": self.output, "top": top}


def available() -> bool:
    """Installed, and not turned off (``AUTOML_SHAP=0``: the test suite, or a user who has shap
    installed for other work and wants the seconds back)."""
    return os.environ.get("AUTOML_SHAP", "1") != "0" and importlib.util.find_spec("shap") is not None


def full_size(test_rows: int, columns: int, train_rows: int) -> tuple[float, int, int]:
    """What SHAP costs at most, to plan for: its start in seconds (counted whether or not an
    earlier run in the process paid it), its calls of the model, the rows it predicts in all."""
    rows, background = min(MAX_ROWS, test_rows), min(BACKGROUND, train_rows)
    return START_S, rows + 1, (rows + 1) * (2 * columns + 1) * background


def shap_importance(model, X_explain: pd.DataFrame, X_background: pd.DataFrame, seed: int,
                    seconds: float) -> ShapResult | str:
    """Mean |SHAP value| per column of ``X_explain``; a string saying why not when even
    ``MIN_ROWS`` rows would not fit ``seconds``."""
    global _started
    start = 0.0 if _started else START_S
    if seconds < start:
        return (f"shap's start in a process (import and compile, about {START_S:.0f} s) and "
                f"{MIN_ROWS} rows do not fit the {seconds:.1f} s left for it")
    import shap

    rng = np.random.default_rng(seed)
    background = X_background.iloc[np.sort(rng.choice(len(X_background), min(BACKGROUND, len(X_background)),
                                                      replace=False))]
    explain = X_explain.iloc[np.sort(rng.choice(len(X_explain), min(MAX_ROWS, len(X_explain)), replace=False))]
    frame = pd.concat([explain, background], ignore_index=True)
    columns = list(frame.columns)
    predict, output = _output(model)

    def fn(row_numbers: np.ndarray) -> np.ndarray:
        taken = row_numbers.astype(int)
        return predict(pd.DataFrame({c: frame[c].iloc[taken[:, j]].reset_index(drop=True)
                                     for j, c in enumerate(columns)}))

    evals = 2 * len(columns) + 1
    background_ids = np.repeat(np.arange(len(explain), len(frame))[:, None], len(columns), axis=1)
    started = time.perf_counter()
    fn(np.tile(background_ids, (evals, 1)))  # what one explained row costs
    per_row = time.perf_counter() - started
    rows = min(len(explain), int((seconds - start) / max(per_row, 1e-6)))
    if rows < MIN_ROWS:
        return (f"one row's {evals * len(background)} predictions took {per_row:.2f} s; "
                f"{MIN_ROWS} rows do not fit the {seconds:.1f} s left for it")
    ids = np.repeat(np.arange(rows)[:, None], len(columns), axis=1).astype(float)
    masker = shap.maskers.Independent(background_ids.astype(float), max_samples=len(background))
    values = shap.explainers.Permutation(fn, masker, seed=seed)(ids, max_evals=evals, silent=True).values
    _started = True
    strength = np.abs(values).mean(axis=0)
    if strength.ndim > 1:  # one column of values per class
        strength = strength.mean(axis=1)
    table = pd.DataFrame({"column": columns, "mean_abs_shap": strength})
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    return ShapResult(table, rows, len(background), output)


def _output(model):
    """What to explain: a binary classifier's positive-class probability, every class's
    probability for more classes, a regressor's value."""
    if not hasattr(model, "predict_proba"):
        return model.predict, "predicted value"
    classes = list(getattr(model, "classes_", []))
    if len(classes) == 2:
        return (lambda X: model.predict_proba(X)[:, 1]), f"probability of {classes[1]}"
    return model.predict_proba, "probability of each class (mean over classes)"
