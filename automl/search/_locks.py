"""Named locks among every process that shares a storage: across hosts on PostgreSQL (advisory
locks), on one host a file lock. Workers claim trials under one; retrains hold another."""

from __future__ import annotations

import contextlib
import functools
import re
import zlib
from pathlib import Path

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


class _FileLock:
    """A file lock (one host), e.g. ``<workdir>/mlruns/locks/NAME.lock``."""

    def __init__(self, path: Path):
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(str(path))

    def acquire(self, wait: bool) -> bool:
        from filelock import Timeout

        try:
            self.lock.acquire(timeout=-1 if wait else 0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self.lock.release()


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
    return _holding(_FileLock(workdir / "mlruns" / "locks" / f"{safe}.lock"), wait)


def creation_lock(url: str):
    """Serialise first-time creation of a storage's tables: processes creating them at once
    fail with "table ... already exists" (SQLite file lock; PostgreSQL advisory lock)."""
    if is_postgres(url):
        return _holding(_AdvisoryLock(url, "automl-create-tables"), wait=True)
    if not url.startswith("sqlite:///"):
        return contextlib.nullcontext()
    from filelock import FileLock

    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{path}.lock", timeout=600)


@functools.lru_cache(maxsize=8)
def _lock_engine(url: str):
    # One small pool per URL: a new connection per claim would cost more than the claim itself.
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=1, max_overflow=2, pool_pre_ping=True)
