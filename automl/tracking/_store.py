"""The MLflow side of tracking: the writer process and registry access.

This is the only module that imports mlflow (always inside functions: ``import mlflow`` costs
seconds). ``automl.tracking`` drives it over two pipes; see that package's docstring.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from automl.errors import ModelLoadError


def start_writer():
    """Start the writer as a fresh interpreter talking over two pipes.

    A plain subprocess (not multiprocessing's spawn) never re-imports the caller's ``__main__``,
    and its own session keeps Ctrl-C in the terminal from reaching it: the search process decides
    how runs end.
    """
    import sys
    from multiprocessing.connection import Connection

    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    debug = os.environ.get("AUTOML_DEBUG") == "1"
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    code = f"from automl.tracking._store import writer_main; writer_main({req_r}, {rep_w})"
    out = None if debug else subprocess.DEVNULL  # MLflow prints "View run at ..." per run
    proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(req_r, rep_w), env=env,
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    os.close(req_r)
    os.close(rep_w)
    return proc, Connection(req_w, readable=False), Connection(rep_r, writable=False)


def writer_main(req_fd: int, rep_fd: int) -> None:
    """Entry point of the writer process."""
    import logging
    from multiprocessing.connection import Connection

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    requests, replies = Connection(req_fd, writable=False), Connection(rep_fd, readable=False)
    settings = requests.recv()
    try:
        writer = _Writer(settings)
    except Exception as exc:
        replies.send(("fatal", f"cannot open ({type(exc).__name__}: {_first_line(exc)})"))
        return
    replies.send(("ready", writer.experiment_id, writer.parent_id))
    writer.serve(requests, replies)


class _Writer:
    """Owns the MlflowClient; handles one request at a time."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.client = _open_store(settings["uri"])
        self.experiment_id = _experiment(self.client, settings["experiment"], settings["artifacts"])
        if settings.get("retrain_of"):
            _close_stale_runs(self.client, self.experiment_id, settings["retrain_of"])
        import mlflow

        mlflow.set_experiment(experiment_id=self.experiment_id)  # where log_model files the model
        self.parent_id = settings.get("parent_run_id") or self._create_parent(settings)
        self.pending: set[str] = set()  # child runs created but not yet closed
        self.claimed: dict[str, int] = {}  # ... of which a trial has started: run id -> number
        self.child_tags = {"mlflow.parentRunId": self.parent_id,
                           "automl.study_name": settings["study_name"]}
        if settings.get("retrain_of"):
            self.child_tags["automl.retrain_of"] = settings["retrain_of"]

    def _create_parent(self, settings: dict[str, Any]) -> str:
        run = self.client.create_run(self.experiment_id, run_name=settings["run_name"],
                                     tags=settings["tags"])
        _log_params(self.client, run.info.run_id, settings["params"])
        for name, text in settings["files"].items():
            self.client.log_text(run.info.run_id, text, name)
        return run.info.run_id

    def serve(self, requests, replies) -> None:
        while True:
            batch = self._next_batch(requests)
            if batch is None:  # the search process is gone: close what it left open
                self.close("KILLED", None)
                return
            # Run creation first, so a starting trial never waits behind a backlog of logging.
            batch.sort(key=lambda m: m[0] != "new_run")
            for msg in batch:
                try:
                    reply = self.handle(msg)
                except Exception as exc:
                    error = f"{msg[0]}: {type(exc).__name__}: {_first_line(exc)}"
                    replies.send(("error", error))
                    reply = {"final": ("final_done", {"error": error}), "flush": ("flushed",),
                             "close": ("closed",), "new_run": ("run", None)}.get(msg[0])
                if reply is not None:
                    replies.send(reply)
                if msg[0] == "close":
                    return

    @staticmethod
    def _next_batch(requests) -> list | None:
        try:
            batch = [requests.recv()]
            while requests.poll(0):
                batch.append(requests.recv())
        except (EOFError, OSError):  # the pipe closed without "close": the search process died
            return None
        return batch

    def handle(self, msg: tuple):
        kind = msg[0]
        if kind == "new_run":
            run = _retry(lambda: self.client.create_run(
                self.experiment_id, tags=self.child_tags,
                run_name="trial-pending"))
            self.pending.add(run.info.run_id)
            return ("run", run.info.run_id)
        if kind == "claim":
            self.claimed[msg[1]] = msg[2]
        elif kind == "kill":
            self.kill(msg[1], msg[2])
        elif kind == "trial":
            self.log_trial(msg[1], msg[2])
        elif kind == "flush":
            return ("flushed",)
        elif kind == "final":
            return ("final_done", _log_final(self.client, self.parent_id, msg[1]))
        elif kind == "text":
            _retry(lambda: self.client.log_text(self.parent_id, msg[2], msg[1]))
        elif kind == "close":
            self.close(msg[1], msg[2])
            return ("closed",)
        return None

    def log_trial(self, run_id: str, rec: dict[str, Any]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        ts = rec["end_ms"] or int(time.time() * 1000)
        metrics = [Metric(k, float(v), ts, int(step)) for k, v, step in rec["metrics"]]
        if rec["duration_s"] is not None:
            metrics.append(Metric("duration_s", rec["duration_s"], ts, 0))
        params = [Param(k, str(v)[:6000]) for k, v in rec["params"].items()]
        tags = [RunTag(k, v) for k, v in rec["tags"].items()]
        _retry(lambda: self.client.log_batch(run_id, metrics=metrics, params=params, tags=tags))
        _retry(lambda: self.client.set_terminated(run_id, rec["status"], end_time=ts))
        self.pending.discard(run_id)

    def kill(self, run_id: str, number: int, status: str = "KILLED") -> None:
        """Close the run of a trial that will never report (its process died or was stopped)."""
        from mlflow.entities import RunTag

        tags = [RunTag("optuna.state", "FAIL"), RunTag("optuna.trial_number", str(number)),
                RunTag("mlflow.runName", f"trial-{number:04d}")]
        _retry(lambda: self.client.log_batch(run_id, tags=tags))
        _retry(lambda: self.client.set_terminated(run_id, status))
        self.pending.discard(run_id)

    def close(self, status: str, current: str | None) -> None:
        """End the parent with ``status`` (if this process owns it), the interrupted trial's run
        too; drop runs created ahead for trials that never started."""
        try:
            for run_id in list(self.pending):
                try:
                    if run_id in self.claimed:
                        self.kill(run_id, self.claimed[run_id], "FAILED" if status == "FAILED" else "KILLED")
                    else:
                        _retry(lambda: self.client.set_terminated(run_id, "KILLED"))
                        _retry(lambda: self.client.delete_run(run_id))
                except Exception:  # one stuck child must not keep the parent RUNNING
                    continue
            self.pending.clear()
        finally:
            if self.settings.get("close_parent", True):
                _retry(lambda: self.client.set_terminated(self.parent_id, status))


def _open_store(uri: str, set_globals: bool = True):
    import mlflow
    from mlflow import MlflowClient

    if set_globals:  # the writer's log_model goes through the fluent API: keep it on our store
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    if not uri.startswith("sqlite:///"):
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)  # fail now, clearly, if the server is unreachable
        return client
    from filelock import FileLock

    db = Path(uri.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    # Creating a fresh DB runs migrations; two processes doing it at once corrupt each other.
    _sqlite_pragmas()
    with FileLock(f"{db}.lock", timeout=600):
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)
    return client


def _sqlite_pragmas() -> None:
    """WAL journaling and no fsync per commit for every SQLite connection this process opens.

    WAL lets concurrent runs read while one writes (the mode persists in the file). With WAL,
    synchronous=NORMAL skips the fsync per commit, and MLflow commits ~6 times per log_batch:
    durable across process crashes, not power loss. The writer process only talks to our store,
    so listening on every Engine touches nothing else.
    """
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()


def _experiment(client, name: str, artifacts: str | None) -> str:
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifacts)
    except MlflowException:  # another process created it in between
        return client.get_experiment_by_name(name).experiment_id


def _close_stale_runs(client, experiment_id: str, retrain_of: str) -> None:
    """Runs a crashed retrain left RUNNING are closed as FAILED (the caller holds the lock)."""
    stale = client.search_runs([experiment_id], max_results=10000,
                               filter_string=f"tags.`automl.retrain_of` = '{retrain_of}' "
                                             "AND attributes.status = 'RUNNING'")
    for run in stale:
        client.set_tag(run.info.run_id, "automl.stale", "closed by a later retrain")
        client.set_terminated(run.info.run_id, "FAILED")


def fetch_champion(uri: str, name: str, alias: str) -> dict[str, Any] | None:
    """The version ``alias`` points at, its model and its training schema; None if no alias."""
    import tempfile

    from mlflow.exceptions import MlflowException

    import logging

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no migration chatter on a fresh store
    client = _open_store(uri, set_globals=False)  # the search process keeps its own settings
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None  # no such registered model, or no champion yet
        raise  # an unreachable or failing registry must not look like "first model"
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(version.run_id, "schema.json", tmp)
        schema = json.loads(Path(path).read_text())
    model = _load_model(version.source, uri)
    return {"version": int(version.version), "model": model, "schema": schema,
            "tags": dict(version.tags)}


def _log_params(client, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)[:6000]) for k, v in params.items()]
    for i in range(0, len(items), 100):
        client.log_batch(run_id, params=items[i:i + 100])


def _log_final(client, parent_id: str, final: dict[str, Any]) -> dict[str, Any]:
    """Model (with signature and pinned requirements), test metrics, schema, leaderboard, plots."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    pipeline, example = final["pipeline"], final["input_example"]
    signature = infer_signature(example, pipeline.predict(example))
    info = mlflow.sklearn.log_model(
        pipeline, name="model", run_id=parent_id, signature=signature, input_example=example,
        pip_requirements=_requirements(), serialization_format="skops",
        skops_trusted_types=_trusted_types(pipeline))
    client.log_batch(parent_id, metrics=_metrics(final["metrics"]))
    client.log_text(parent_id, json.dumps(final["schema"], indent=2), "schema.json")
    client.log_text(parent_id, final["leaderboard_csv"], "leaderboard.csv")
    for path in final["plots"]:
        client.log_artifact(parent_id, path, "plots")
    for name, text in final.get("texts", {}).items():
        client.log_text(parent_id, text, name)
    best_run = final.get("best_run_id")
    if best_run:
        client.set_tag(best_run, "automl.best", "true")
        client.set_tag(parent_id, "automl.best_run_id", best_run)
    result = {"mlflow_run_id": parent_id, "model_uri": info.model_uri,
              "run_model_uri": f"runs:/{parent_id}/model"}
    name = final.get("register_name")
    if name:
        version = _register(name, info.model_uri, final["version_tags"])
        if final.get("alias"):  # only after the version exists completely
            client.set_registered_model_alias(name, final["alias"], version.version)
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


def load_logged_model(uri: str, tracking_uri: str):
    """Load a model logged by automl from ``models:/...`` or ``runs:/RUN_ID/model`` in the store
    at ``tracking_uri`` (which also serves as the registry)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return _load_model(_logged_model_uri(uri, tracking_uri), tracking_uri)
    except Exception as exc:
        raise ModelLoadError(f"{uri}: cannot load model from {tracking_uri} "
                             f"({type(exc).__name__}: {_first_line(exc)})") from None


def _load_model(uri: str, tracking_uri: str):
    """Download then load, naming the store explicitly: no process-wide MLflow settings."""
    import tempfile

    import mlflow.artifacts
    import mlflow.sklearn
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=_artifact_location(uri, client),
                                                    dst_path=tmp, tracking_uri=tracking_uri)
        return mlflow.sklearn.load_model(local)


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
    found = client.search_logged_models([run.info.experiment_id], max_results=1,
                                        filter_string=f"source_run_id = '{run_id}' AND name = '{name}'")
    return found[0].model_uri if found else uri


def _retry(fn, attempts: int = 8):
    # SQLite allows one writer at a time; a concurrent run can hold the lock for a moment.
    for i in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if "locked" not in str(exc) or i == attempts - 1:
                raise
            time.sleep(0.05 * 2 ** i)




def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""
