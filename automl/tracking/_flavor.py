"""The flavor module ``Model.log`` saves automl's final model with (see :mod:`automl._serving`)."""

from __future__ import annotations

import os
from pathlib import Path

LOADER = "automl._serving"


def save_model(path: str, mlflow_model, **kwargs) -> None:
    """MLflow's scikit-learn save, then the python_function flavor pointed at automl's loader,
    which answers class probabilities on request (MLflow's own wrapper ignores request params)."""
    import mlflow.sklearn

    mlflow.sklearn.save_model(path=path, mlflow_model=mlflow_model, **kwargs)
    mlflow_model.flavors["python_function"]["loader_module"] = LOADER
    mlflow_model.save(os.path.join(path, "MLmodel"))


def package_dir() -> str:
    """automl's own package folder, copied into the logged model as its code."""
    return str(Path(__file__).resolve().parent.parent)
