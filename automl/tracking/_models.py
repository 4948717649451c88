"""Reading models back from MLflow: the champion for the retrain gate, any logged model to predict."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from automl._trust import load_skops_model
from automl.data import ROWS_FILE, read_rows_file
from automl.errors import ModelLoadError, first_line

from ._store import literal, open_store


def fetch_champion(uri: str, name: str, alias: str) -> dict[str, Any] | None:
    """The version ``alias`` points at, its model and its training schema; None if no alias."""
    import logging
    import tempfile

    from mlflow.exceptions import MlflowException

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no migration chatter on a fresh store
    client = open_store(uri, set_globals=False)  # the search process keeps its own settings
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None  # no such registered model, or no champion yet
        raise  # an unreachable or failing registry must not look like "first model"
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(version.run_id, "schema.json", tmp)
        schema = json.loads(Path(path).read_text())
        rows, groups = _training_rows(client, version.run_id, schema, tmp)
    model = _load_model(version.source, uri)
    return {"version": int(version.version), "model": model, "schema": schema,
            "tags": dict(version.tags), "rows": rows, "groups": groups}


def _training_rows(client, run_id: str, schema: dict, folder: str):
    """The hashes of the rows the champion was fitted on, if it recorded them (None, None if not)."""
    if "training_rows" not in schema:
        return None, None  # saved before automl recorded them
    return read_rows_file(Path(client.download_artifacts(run_id, ROWS_FILE, folder)))


def load_logged_model(uri: str, tracking_uri: str, trust: bool = False):
    """Load a model logged by automl from ``models:/...`` or ``runs:/RUN_ID/model`` in the store
    at ``tracking_uri`` (which also serves as the registry)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return _load_model(_logged_model_uri(uri, tracking_uri), tracking_uri, trust)
    except ModelLoadError as exc:
        raise ModelLoadError(f"{uri}: {exc}") from None
    except Exception as exc:
        raise ModelLoadError(f"{uri}: cannot load model from {tracking_uri} "
                             f"({type(exc).__name__}: {first_line(exc, 300)})") from None


def _load_model(uri: str, tracking_uri: str, trust: bool = False):
    """Download then load, naming the store explicitly: no process-wide MLflow settings."""
    import tempfile

    import mlflow.artifacts
    import mlflow.sklearn
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=_artifact_location(uri, client),
                                                    dst_path=tmp, tracking_uri=tracking_uri)
        if trust:
            return mlflow.sklearn.load_model(local)
        return load_skops_model(Path(local))


def _artifact_location(uri: str, client) -> str:
    """Where a ``models:/`` URI's files are: NAME@ALIAS or NAME/VERSION -> its logged model
    (``models:/m-ID``) -> that model's artifact location."""
    if not uri.startswith("models:/"):
        return uri
    ref = uri.removeprefix("models:/").rstrip("/")
    if ref.startswith("m-"):
        return client.get_logged_model(ref.split("/")[0]).artifact_location
    if "@" in ref:
        name, alias = ref.split("@", 1)
        version = client.get_model_version_by_alias(name, alias)
    else:
        name, _, number = ref.rpartition("/")
        version = client.get_model_version(name, number)
    return _artifact_location(version.source, client)


def _logged_model_uri(uri: str, tracking_uri: str) -> str:
    # MLflow 3 keeps logged models outside the run's artifacts, so resolve runs:/ID/NAME to the
    # logged model that run produced under that name.
    if not uri.startswith("runs:/"):
        return uri
    from mlflow import MlflowClient

    run_id, _, name = uri.removeprefix("runs:/").partition("/")
    client = MlflowClient(tracking_uri=tracking_uri)
    run = client.get_run(run_id)
    query = f"source_run_id = {literal(run_id)} AND name = {literal(name)}"
    found = client.search_logged_models([run.info.experiment_id], max_results=1, filter_string=query)
    return found[0].model_uri if found else uri
