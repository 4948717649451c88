"""Logging the end of a run on the parent run: model, metrics, artifacts, registry entry."""

from __future__ import annotations

import time
from typing import Any

from ._records import FinalLog


def log_params(client, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:6000]) for k, v in params.items()]
    for i in range(0, len(items), 100):
        client.log_batch(run_id, params=items[i:i + 100])


def log_final(client, parent_id: str, final: FinalLog) -> dict[str, Any]:
    """The model (signature, input example, pinned requirements, skops), metrics and every
    artifact on the parent run; then the registry entry, and the alias last."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    model, example = final.model, final.input_example
    info = mlflow.sklearn.log_model(
        model, name="model", run_id=parent_id, signature=infer_signature(example, model.predict(example)),
        input_example=example, pip_requirements=_requirements(), serialization_format="skops",
        skops_trusted_types=_trusted_types(model))
    client.log_batch(parent_id, metrics=_metrics(final.metrics))
    for artifact in final.artifacts:
        if artifact.file is not None:
            client.log_artifact(parent_id, artifact.file, artifact.path)
        else:
            client.log_text(parent_id, artifact.text, artifact.path)
    if final.best_run_id:
        client.set_tag(final.best_run_id, "automl.best", "true")
        client.set_tag(parent_id, "automl.best_run_id", final.best_run_id)
    result = {"mlflow_run_id": parent_id, "model_uri": info.model_uri,
              "run_model_uri": f"runs:/{parent_id}/model"}
    if final.register_name:
        name = final.register_name
        version = _register(name, info.model_uri, final.version_tags)
        if final.alias:  # only after the version exists completely
            client.set_registered_model_alias(name, final.alias, version.version)
        result.update(registered_model=name, registered_version=int(version.version),
                      model_uri=f"models:/{name}/{version.version}")
    return result


def _register(name: str, model_uri: str, tags: dict[str, str]):
    import mlflow

    # register_model creates the registered model if needed and links the logged model by id.
    return mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})


def _metrics(values: dict[str, float]):
    from mlflow.entities import Metric

    ts = int(time.time() * 1000)
    return [Metric(k, float(v), ts, 0) for k, v in values.items() if v is not None]


def _requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for pkg in ("scikit-learn", "numpy", "pandas", "scipy", "skops", "joblib"):
        try:
            pins.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            continue
    return pins


def _trusted_types(pipeline) -> list[str]:
    import skops.io

    # We just built this pipeline ourselves; trust exactly the types it contains.
    return skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
