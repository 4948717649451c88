"""Named locks among every process that shares a storage: across hosts on PostgreSQL (advisory
locks), on one host a file lock. Workers claim trials under one; retrains hold another."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import zlib
from pathlib import Path
from typing import Callable

from automl._files import FileLock, private_file, private_folder

from ._storage import is_postgres


class _AdvisoryLock:
    """A PostgreSQL session advisory lock named ``name``; held by the connection that took it."""

    def __init__(self, url: str, name: str):
        self.engine, self.key = _lock_engine(url), zlib.crc32(name.encode())
        self.conn = None

    def acquire(self, wait: bool) -> bool:
        from sqlalchemy import text

        self.conn = self.engine.connect()
        if wait:
            self.conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            return True
        if self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar():
            return True
        self.conn.close()
        return False

    def release(self) -> None:
        from sqlalchemy import text

        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        finally:
            self.conn.close()


@contextlib.contextmanager
def _holding(lock, wait: bool):
    if not lock.acquire(wait):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def named_lock(storage: str, workdir: Path, name: str, wait: bool = True):
    """Mutual exclusion named ``name`` among every process using ``storage``: a PostgreSQL
    advisory lock (across hosts), else a file lock under ``<workdir>/mlruns/locks`` (one host).

    A context manager yielding True; with ``wait=False`` it yields False at once if another
    process holds the lock.
    """
    if is_postgres(storage):
        return _holding(_AdvisoryLock(storage, f"automl:{name}"), wait)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return _holding(FileLock(private_folder(workdir, "mlruns", "locks") / f"{safe}.lock"), wait)


def creation_lock(url: str):
    """Serialise first-time creation of a storage's tables: processes creating them at once
    fail with "table ... already exists" (SQLite file lock; PostgreSQL advisory lock)."""
    if is_postgres(url):
        return _holding(_AdvisoryLock(url, "automl-create-tables"), wait=True)
    if not url.startswith("sqlite:///"):
        return contextlib.nullcontext()
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path.with_name(path.name + ".lock"), timeout=600)


# Settings a server may impose that end an idle session, and with it every advisory lock the
# session holds, silently: a lock is held by a session that sits idle for as long as it is held.
_IDLE_LIMITS = ("idle_in_transaction_session_timeout", "idle_session_timeout")


def _no_idle_limits(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    # set_config through pg_settings: a server too old for one of the settings skips it.
    cursor.execute("SELECT set_config(name, '0', false) FROM pg_settings WHERE name = ANY(%s)",
                   (list(_IDLE_LIMITS),))
    cursor.close()
    dbapi_conn.commit()


@functools.lru_cache(maxsize=8)
def _lock_engine(url: str):
    # One small pool per URL: a new connection per claim would cost more than the claim itself.
    # Autocommit: session locks need no transaction, and one left open for the whole hold shows
    # as "idle in transaction", which servers and DBAs end.
    from sqlalchemy import create_engine, event

    engine = create_engine(url, pool_size=1, max_overflow=2, pool_pre_ping=True,
                           isolation_level="AUTOCOMMIT")
    event.listen(engine, "connect", _no_idle_limits)
    return engine


# --- who is working on a study ---------------------------------------------------------------


class StudyPresence:
    """Held (shared) by every process that runs trials of a study, for as long as it runs.

    A process that finds nobody else holding it (it can take it exclusively) knows that no live
    process owns the study's RUNNING trials: they were left by one that was killed, and can be
    failed. Shared by any number of processes otherwise: runs, workers, retrains. A PostgreSQL
    advisory lock (across hosts), else a file lock beside a SQLite or journal file (one host);
    other storages have none (:meth:`join` then never finds it alone). The operating system or the
    database ends it when its process dies.
    """

    def __init__(self, storage: str, study_name: str):
        key = f"automl-study:{study_name}"
        if is_postgres(storage):
            self._lock = _SharedAdvisoryLock(storage, key)
        else:
            path = _storage_file(storage)
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", study_name)[:60]
            self._lock = None if path is None else _SharedFileLock(
                path.parent / "locks" / f"study-{safe}-{zlib.crc32(key.encode()):08x}.lock")

    def join(self, if_alone: Callable[[], None]) -> bool:
        """Hold the presence; if no other process held it, call ``if_alone`` first, while no
        other process can join, and return True."""
        return self._lock is not None and self._lock.join(if_alone)

    def leave(self) -> None:
        if self._lock is not None:
            self._lock.leave()


def _or_leave(lock, step: Callable[[], None]) -> None:
    try:
        step()
    except BaseException:
        lock.leave()
        raise


def _storage_file(storage: str) -> Path | None:
    for prefix in ("sqlite:///", "journal://"):
        if storage.startswith(prefix):
            return Path(storage.removeprefix(prefix))
    return None


class _SharedFileLock:
    def __init__(self, path: Path):
        self.path, self.fd = path, None

    def join(self, if_alone: Callable[[], None]) -> bool:
        import fcntl

        private_folder(self.path.parent.parent, self.path.parent.name)
        self.fd = private_file(self.path)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            alone = False
        else:
            alone = True
            _or_leave(self, if_alone)
        fcntl.flock(self.fd, fcntl.LOCK_SH)  # waits only while another one is alone, a moment
        return alone

    def leave(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file ends its lock
            self.fd = None


class _SharedAdvisoryLock:
    def __init__(self, url: str, name: str):
        self.engine, self.key = _lock_engine(url), zlib.crc32(name.encode())
        self.conn = None

    def join(self, if_alone: Callable[[], None]) -> bool:
        from sqlalchemy import text

        self.conn = self.engine.connect()
        alone = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        self.conn.commit()
        if alone:
            _or_leave(self, if_alone)
        self.conn.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": self.key})
        if alone:  # the session now holds both; keep only the shared one
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self.conn.commit()
        return alone

    def leave(self) -> None:
        if self.conn is None:
            return
        from sqlalchemy import text

        try:
            self.conn.execute(text("SELECT pg_advisory_unlock_shared(:k)"), {"k": self.key})
        finally:
            self.conn.close()
            self.conn = None
