"""Optuna storages: the embedded SQLite default, the journal file for local workers, RDB URLs."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from automl._files import ensure_file, private_folder
from automl._sqlite import private_sqlite, sqlite_pragmas
from automl.config import store_file


SQLITE_FILE, JOURNAL_FILE = "optuna.db", "optuna-journal.log"  # under <workdir>/mlruns


def default_storage(workdir: Path, parallel: bool = False, create: bool = True) -> str:
    """The embedded default: one SQLite file under ``<workdir>/mlruns``; for several worker
    processes Optuna's journal file instead (SQLite is not built for concurrent writers).
    ``create=False`` (reading only): nothing is made, and an existing journal is taken when
    there is no SQLite file."""
    folder = private_folder(Path(workdir).resolve(), "mlruns", create=create)
    if not create and not (folder / SQLITE_FILE).is_file() and (folder / JOURNAL_FILE).is_file():
        parallel = True
    if parallel:
        return f"journal://{ensure_file(folder / JOURNAL_FILE, create)}"
    return f"sqlite:///{private_sqlite(folder / SQLITE_FILE, create)}"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def make_storage(url: str, heartbeat: tuple[int, int] | None = None):
    """An Optuna storage for ``url``.

    - ``journal:///path/file.log``: Optuna's JournalStorage on a file (many processes, one host).
    - ``sqlite:///...``: with :func:`sqlite_pragmas` on every connection.
    - other RDB URLs (PostgreSQL): with ``heartbeat=(interval, grace)``, trials whose worker stops
      beating are failed and retried once (Optuna's heartbeat + RetryFailedTrialCallback).
    """
    import optuna

    store_file(url)  # before Optuna opens it: a FIFO would block, a folder or another file confuse
    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if not url.startswith("sqlite:///"):
        return _open_rdb(url) if heartbeat is None else _heartbeat_storage(url, heartbeat)
    from sqlalchemy import event

    storage = _open_rdb(url)
    event.listen(storage.engine, "connect", lambda conn, _record: sqlite_pragmas(conn))
    storage.engine.dispose()  # connections opened during set-up predate the listener
    return storage


def _heartbeat_storage(url: str, heartbeat: tuple[int, int]):
    import optuna

    with warnings.catch_warnings():  # "heartbeat is meant for Study.optimize": we beat ourselves
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)
        return _open_rdb(url, heartbeat_interval=heartbeat[0], grace_period=heartbeat[1],
                         heartbeat_stale_trial_callback=retry_callback())


# What Optuna's first-time table creation raises when another process creates them at the same
# moment: automl's runs serialise it (creation_lock), a dashboard or a script opening the same
# fresh store does not.
_RACE_SIGNS = ("already exists", "alembic_version", "duplicate key")


def _open_rdb(url: str, **options):
    """Optuna's RDBStorage on ``url``; when another process was creating the tables at the same
    moment, opened again once they are there."""
    import optuna
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except (IntegrityError, OperationalError, ProgrammingError) as exc:
            if attempt == 4 or not any(sign in str(exc) for sign in _RACE_SIGNS):
                raise
            time.sleep(0.05 * (attempt + 1))


def retry_callback():
    """Optuna's callback that re-enqueues a stale trial (same parameters), at most once."""
    import optuna

    with warnings.catch_warnings():  # "experimental" since 2.8; it is the documented way
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
