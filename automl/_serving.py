"""What ``mlflow models serve`` (and ``mlflow.pyfunc.load_model``) runs for a model automl logged.

The logged model keeps MLflow's scikit-learn flavor (skops file, trusted types) for
``automl predict`` and the retrain gate; its python_function flavor names this module instead of
``mlflow.sklearn``, because MLflow's own wrapper ignores request parameters and so could only
ever answer labels. Here a classifier answers class probabilities when asked:
``{"dataframe_split": ..., "params": {"output": "proba"}}``. automl's code travels with the model
(``code/automl``), so a serving host needs MLflow and the pinned libraries, not automl.

Kept out of the tracking package on purpose: a serving host imports this module and what the
model's own types need, nothing of the search (no optuna, pydantic or mlflow here; the save side
is ``automl.tracking._flavor``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OUTPUTS = ("label", "proba")


def _load_pyfunc(path: str) -> "ServedModel":
    """Called by MLflow's pyfunc loader with the model file (or its folder); loads it the way
    ``automl predict`` does (skops, types vetted from the file itself)."""
    from automl._trust import load_skops_model

    folder = Path(path).parent if Path(path).is_file() else Path(path)
    return ServedModel(load_skops_model(folder))


class ServedModel:
    def __init__(self, model):
        self.model = model

    def get_raw_model(self):
        return self.model

    def predict(self, data, params: dict[str, Any] | None = None):
        output = (params or {}).get("output", "label")
        if output not in OUTPUTS:
            from automl.errors import shown  # a request's value, however large

            raise ValueError(f"params.output: {shown(output)} is not allowed; choose one of {', '.join(OUTPUTS)}")
        if output == "label":
            return self.model.predict(data)
        if not hasattr(self.model, "predict_proba"):
            raise ValueError("params.output: 'proba' needs a classifier; this model predicts numbers")
        import pandas as pd

        proba = self.model.predict_proba(data)
        return pd.DataFrame(proba, columns=[str(c) for c in self.model.classes_])
