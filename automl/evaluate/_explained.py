"""The final model explained in the time it is given: permutation importance on the test rows,
then SHAP values (the optional extra) in what is left of the same allowance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from automl.metrics import Metric
from automl.split import Split

from ._explain import permutation_importance
from ._shap import available as shap_available
from ._shap import shap_importance

TOP_FEATURES = 5  # columns named in the summary


@dataclass
class Explanation:
    """The summary's ``importance`` (the strongest columns, or why none) and the full tables."""

    summary: dict
    table: pd.DataFrame | None = None  # permutation importance: column, importance, std
    shap_table: pd.DataFrame | None = None  # column, mean_abs_shap


def explain(model, split: Split, metric: Metric, seed: int, seconds: float,
            clock: Callable[[], float]) -> Explanation:
    """Permutation importance of the tested ``model`` on the test rows within ``seconds``; SHAP
    values too, when shap is installed, in what is left of them."""
    started = clock()
    result = permutation_importance(model, split.X_test, split.y_test, metric, seed, seconds=max(seconds, 0.0))
    if isinstance(result, str):
        return Explanation({"skipped": result})
    out = Explanation({"metric": result.metric, "rows": result.rows, "repeats": result.repeats,
                       "top": result.top(TOP_FEATURES)}, result.table)
    if shap_available():
        shap = shap_importance(model, split.X_test, split.X_train, seed, seconds - (clock() - started))
        if isinstance(shap, str):
            out.summary["shap"] = {"skipped": shap}
        else:
            out.summary["shap"], out.shap_table = shap.summary(TOP_FEATURES), shap.table
    return out
