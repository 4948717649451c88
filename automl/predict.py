"""Load a saved model and predict, keeping the input's row order."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from automl._trust import load_signed_pickle
from automl.artifacts import MODEL_FILE, write_bytes_atomic, write_text_atomic
from automl.config import ExperimentConfig, input_file, output_file, resolve_workdir
from automl.data import check_numeric, read_table
from automl.errors import DataError, ModelLoadError, describe, shown
from automl.tracking import load_logged_model, resolve_tracking_uri


def load_model(ref: str, tracking_uri: str | None = None, trust: bool = False):
    """A fitted pipeline from a file path (``model.joblib`` or its folder) or an MLflow model URI.

    MLflow URIs are looked up in ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the
    embedded store of the work directory (as ``automl run`` resolves it). Only models automl
    wrote load (see :mod:`automl._trust`) unless ``trust``.
    """
    if ref.startswith(("models:/", "runs:/", "mlflow-artifacts:/")):
        uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        uri = resolve_tracking_uri(uri, resolve_workdir(ExperimentConfig()))[0]
        return load_logged_model(ref, uri, trust)
    path = Path(ref)
    if path.is_dir():
        path = path / MODEL_FILE
    input_file(path, "model", "give a model.joblib path, its folder, or an MLflow URI "
               "(models:/NAME@ALIAS, models:/NAME/VERSION, runs:/ID/model)", ModelLoadError)
    try:
        if not trust:
            return load_signed_pickle(path, ref)
        import joblib

        return joblib.load(path)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"{ref}: cannot load model ({describe(exc)})") from None


def required_columns(model) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ModelLoadError("the model does not record its input columns; was it saved by automl?")
    return [str(c) for c in names]


def predict_frame(model, frame: pd.DataFrame, proba: bool = False) -> pd.DataFrame:
    """One output row per input row: ``prediction``, or one probability column per class."""
    columns = required_columns(model)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"input is missing feature columns {shown(missing, 200)}; "
                        f"the model needs {shown(columns, 200)}")
    X = frame[columns]
    for col in _numeric_columns(model):
        check_numeric(X[col], f"input column {shown(col)}", "input")
    if proba:
        if not hasattr(model, "predict_proba"):
            raise DataError("--proba: this model gives no probabilities (regression or no predict_proba)")
        classes = [str(c) for c in model.classes_]
        return pd.DataFrame(model.predict_proba(X), columns=classes, index=frame.index)
    return pd.DataFrame({"prediction": model.predict(X)}, index=frame.index)


def _numeric_columns(model) -> list[str]:
    # The columns the fitted preprocessing treats as numbers (automl pipelines name that part;
    # an ensemble's members all share the same columns).
    model = (getattr(model, "estimators_", None) or [model])[0]
    preprocess = getattr(model, "named_steps", {}).get("preprocess")
    for name, _, cols in getattr(preprocess, "transformers_", []):
        if name == "numeric":
            return [str(c) for c in cols]
    return []


def predict_file(model_ref: str, data: str, output: str, proba: bool = False,
                 tracking_uri: str | None = None, trust: bool = False) -> int:
    """Predict every row of ``data`` into ``output`` (CSV, or Parquet by extension). Returns rows.

    ``output`` is checked before the model is loaded, and written whole under a temporary name
    then renamed into place: a failure leaves no half file, and a link there is replaced, not
    written through."""
    out = output_file(output, "--output")
    model = load_model(model_ref, tracking_uri, trust)
    frame, _ = read_table(data)
    result = predict_frame(model, frame, proba)
    if out.suffix.lower() in (".parquet", ".pq"):
        write_bytes_atomic(out, result.to_parquet(index=False))
    else:
        write_text_atomic(out, result.to_csv(index=False))
    return len(result)
