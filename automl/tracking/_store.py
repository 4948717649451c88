"""Opening an MLflow store: SQLite under a file lock with fast pragmas, or a server; retries."""

from __future__ import annotations

import os
import time
from pathlib import Path

from automl._files import FileLock
from automl.errors import ConfigError
from automl._sqlite import sqlite_pragmas


def open_store(uri: str, set_globals: bool = True):
    import mlflow
    from mlflow import MlflowClient

    if set_globals:  # the writer's log_model goes through the fluent API: keep it on our store
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    if not uri.startswith("sqlite:///"):
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)  # fail now, clearly, if the server is unreachable
        return client
    db = Path(uri.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    # Creating a fresh DB runs migrations; two processes doing it at once corrupt each other.
    _pragmas_on_every_connection()
    with FileLock(db.with_name(db.name + ".lock"), timeout=600):
        if not db.exists() or db.stat().st_size == 0:
            _create_store(db)
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)
    return client


def _create_store(db: Path) -> None:
    """Run MLflow's migrations on a new file beside ``db``, then rename it onto ``db``: a run
    stopped or out of disk half way leaves no half-migrated store (which every later run would
    refuse: "table ... already exists"), only a leftover that the next creation removes. The
    caller holds the store's lock."""
    import sqlite3

    from mlflow import MlflowClient

    from automl._sqlite import private_sqlite

    for old in db.parent.glob(f".{db.name}.new*"):
        old.unlink()
    new = private_sqlite(db.with_name(f".{db.name}.new"))
    client = MlflowClient(tracking_uri=f"sqlite:///{new}")
    client.search_experiments(max_results=1)
    engine = getattr(getattr(client._tracking_client, "store", None), "engine", None)
    if engine is not None:
        engine.dispose()  # its connections closed: the WAL is then ours alone to checkpoint
    with sqlite3.connect(new) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file that is renamed
    conn.close()
    os.replace(new, db)
    for suffix in ("-wal", "-shm"):
        Path(f"{new}{suffix}").unlink(missing_ok=True)


def _pragmas_on_every_connection() -> None:
    """WAL and no fsync per commit (see ``automl.study.sqlite_pragmas``) on every SQLite
    connection this process opens: the writer process only talks to our store."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_conn, _record):
        if isinstance(dbapi_conn, sqlite3.Connection):
            sqlite_pragmas(dbapi_conn)


# MLflow's UI opens an experiment without this tag in its GenAI view ("Traces 0"); with it, on
# the training runs.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")


def get_or_create_experiment(client, name: str, artifacts: str | None) -> str:
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        if exp.tags.get(EXPERIMENT_KIND[0]) is None:
            client.set_experiment_tag(exp.experiment_id, *EXPERIMENT_KIND)
        return exp.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifacts, tags=dict([EXPERIMENT_KIND]))
    except MlflowException:  # another process created it in between
        return client.get_experiment_by_name(name).experiment_id


def literal(value: str) -> str:
    """``value`` as a string literal of an MLflow filter: single-quoted, or double-quoted when it
    holds a single quote (MLflow's filter grammar has no escapes). A value with both kinds of quote
    cannot be written as one literal, so it is refused rather than allowed to change the query."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ConfigError(f"cannot search MLflow for {value!r}: a name may hold ' or \" but not both")


STALE_TAG = "automl.stale"


def close_stale_runs(client, experiment_id: str, retrain_of: str) -> None:
    """Runs a crashed retrain left RUNNING are closed as FAILED (the caller holds the lock)."""
    stale = client.search_runs([experiment_id], max_results=10000,
                               filter_string=f"tags.`automl.retrain_of` = {literal(retrain_of)} "
                                             "AND attributes.status = 'RUNNING'")
    for run in stale:
        client.set_tag(run.info.run_id, STALE_TAG, "closed by a later retrain")
        client.set_terminated(run.info.run_id, "FAILED")


def retry(fn, attempts: int = 8):
    # SQLite allows one writer at a time; a concurrent run can hold the lock for a moment.
    for i in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if "locked" not in str(exc) or i == attempts - 1:
                raise
            time.sleep(0.05 * 2 ** i)
