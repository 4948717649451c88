"""Logging the end of a run on the parent run: model, metrics, artifacts, registry entry."""

from __future__ import annotations

import time
from typing import Any

from automl.errors import TrackingError

from ._records import FinalLog


def log_params(client, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:6000]) for k, v in params.items()]
    for i in range(0, len(items), 100):
        client.log_batch(run_id, params=items[i:i + 100])


def log_final(client, parent_id: str, final: FinalLog) -> dict[str, Any]:
    """The model (signature, input example, pinned requirements, skops), metrics and every
    artifact on the parent run; then the registry entry, and the alias last."""
    from mlflow.models import Model, infer_signature

    from . import _flavor

    _skip_serving_check()
    model, example = final.model, final.input_example
    types = _trusted_types(model)
    # Served over HTTP, a classifier answers labels, or probabilities when a request asks; the
    # parameter is declared for a regressor too, so asking it for probabilities is an error
    # rather than silently ignored.
    params = {"output": "label"}
    info = Model.log(
        artifact_path=None, name="model", flavor=_flavor, run_id=parent_id, sk_model=model,
        signature=infer_signature(example, model.predict(example), params=params),
        input_example=example, pip_requirements=_requirements(types), serialization_format="skops",
        skops_trusted_types=types, code_paths=[_flavor.package_dir()])
    client.log_batch(parent_id, metrics=_metrics(final.metrics))
    _log_datasets(client, parent_id, final.datasets)
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
        if final.description:
            client.update_model_version(name, version.version,
                                        description=_fit_description(final.description))
        if final.alias:  # only after the version exists completely
            client.set_registered_model_alias(name, final.alias, version.version)
        result.update(registered_model=name, registered_version=int(version.version),
                      model_uri=f"models:/{name}/{version.version}")
    return result


def _log_datasets(client, run_id: str, datasets) -> None:
    """The training and test frames as MLflow datasets (schema, row count, digest) on the run's
    inputs, tagged with their context, so the UI shows what the model learnt from and was
    tested on."""
    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag

    inputs = []
    for name, frame, target, context in datasets:
        dataset = mlflow.data.from_pandas(frame, targets=target, name=name)
        tags = [InputTag("mlflow.data.context", context)]
        inputs.append(DatasetInput(dataset._to_mlflow_entity(), tags=tags))
    if inputs:
        client.log_inputs(run_id, datasets=inputs)


def _skip_serving_check() -> None:
    """MLflow loads a just-saved model back to try its input example: seconds of the user's budget
    for a large model (a second skops load). The example was just predicted for the signature,
    and automl's tests load every logged model; this writer process only logs automl's models."""
    import mlflow.models.utils

    if hasattr(mlflow.models.utils, "_validate_serving_input"):
        mlflow.models.utils._validate_serving_input = lambda model_uri, serving_input: None


def _register(name: str, model_uri: str, tags: dict[str, str]):
    import mlflow

    # register_model creates the registered model if needed and links the logged model by id.
    return mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})


DESCRIPTION_LIMIT = 5000  # characters: MLflow's SQL stores keep a model version description in 5,000


def _fit_description(text: str) -> str:
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    note = "\n\n(cut here; the whole card is the run's model_card.md)\n"
    return text[:DESCRIPTION_LIMIT - len(note)].rsplit("\n", 1)[0] + note


def _metrics(values: dict[str, float]):
    from mlflow.entities import Metric

    ts = int(time.time() * 1000)
    return [Metric(k, float(v), ts, 0) for k, v in values.items() if v is not None]


# What loading the model needs: the scikit-learn stack, skops, and what automl's own modules
# (shipped as the model's code) import on the way to its types.
LOAD_REQUIREMENTS = ("scikit-learn", "numpy", "pandas", "scipy", "skops", "joblib", "PyYAML", "optuna",
                     "pydantic", "rich")


def _requirements(types: list[str]) -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    libraries = sorted({t.split(".")[0] for t in types} & {"lightgbm", "catboost", "xgboost"})
    pins = []
    for pkg in (*LOAD_REQUIREMENTS, *libraries):
        try:
            pins.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            continue
    return pins


def _trusted_types(model) -> list[str]:
    """The types skops must trust to load ``model``: exactly those in it (we just built it), each
    one automl itself loads (``automl._trust``); a model it would refuse is not logged.

    Found by dumping a small stand-in with the same types (long lists of same-typed parts, such
    as a forest's trees or boosting iterations, cut to one), not the model itself: a full dump
    of a large model takes seconds, and MLflow dumps it again anyway.
    """
    import skops.io

    from automl._trust import named_types, read_schema, refused_types

    schema = read_schema(skops.io.dumps(type_proxy(model)), "the final model")
    refused = refused_types(schema)
    if refused:
        raise TrackingError(f"the final model holds types automl does not load back ({', '.join(refused[:5])}); "
                            "it was not logged (the model file in the work folder is complete)")
    return named_types(schema)


def _same_kind(obj, items):
    """A container of ``obj``'s own type (a Bunch, a namedtuple...) holding ``items``."""
    import copy

    stand_in = copy.copy(obj)
    if isinstance(obj, dict):
        stand_in.clear()
        stand_in.update(items)
        return stand_in
    if isinstance(obj, tuple):
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    stand_in[:] = items
    return stand_in


def type_proxy(obj, depth: int = 0):
    """A shallow stand-in for ``obj`` holding one of each long homogeneous list's items."""
    import copy

    if depth > 50:
        return obj
    if isinstance(obj, list):
        same = len(obj) > 8 and len({type(item) for item in obj}) == 1
        items = [type_proxy(item, depth + 1) for item in (obj[:1] if same else obj)]
        return items if type(obj) is list else _same_kind(obj, items)
    if isinstance(obj, tuple):
        items = [type_proxy(item, depth + 1) for item in obj]
        return tuple(items) if type(obj) is tuple else _same_kind(obj, items)
    if isinstance(obj, dict):
        items = {key: type_proxy(value, depth + 1) for key, value in obj.items()}
        return items if type(obj) is dict else _same_kind(obj, items)
    if isinstance(obj, type) or not hasattr(obj, "__dict__") or callable(obj) and not hasattr(obj, "fit"):
        return obj
    if type(obj).__module__.split(".")[0] not in ("sklearn", "automl"):
        # A library's own model (LightGBM's Booster, CatBoost) holds C state that a shallow copy
        # would share; it saves itself compactly (as its own model format), so it stays whole.
        return obj
    stand_in = copy.copy(obj)
    stand_in.__dict__ = {key: type_proxy(value, depth + 1) for key, value in vars(obj).items()}
    return stand_in
