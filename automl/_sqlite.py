"""SQLite files under the work folder: made private, and opened in WAL mode (Optuna's and
MLflow's embedded stores)."""

from __future__ import annotations

from pathlib import Path

from automl._files import ensure_file


def private_sqlite(path: Path, create: bool = True) -> Path:
    """A SQLite file under the work folder, made private now (trials' parameters and errors, runs'
    metrics are the owner's only; SQLite gives its -wal and -shm files the file's mode); it, those
    and the lock automl takes beside it may not be links."""
    for suffix in ("-wal", "-shm", "-journal", ".lock"):
        ensure_file(path.with_name(path.name + suffix), create=False)
    return ensure_file(path, create)


def sqlite_pragmas(dbapi_conn) -> None:
    """WAL journaling and no fsync per commit, for a new SQLite connection.

    With WAL a commit appends to the log instead of rewriting the journal, and concurrent
    readers are not blocked by the writer (the mode persists in the file). synchronous=NORMAL
    then skips the fsync per commit: durable across process crashes, not power loss. Optuna
    writes a few rows per trial and MLflow commits several times per ``log_batch``, so this makes
    both several times cheaper.
    """
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
