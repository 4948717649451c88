"""One retrain of a model at a time, across processes and hosts."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from automl.errors import LockHeldError
from automl.study import named_lock


@contextmanager
def retrain_lock(name: str, storage: str, workdir: Path):
    """Hold the retrain lock for ``name``: a file lock, or a PostgreSQL advisory lock when the
    study lives in PostgreSQL (so retrains on different hosts exclude each other too)."""
    with named_lock(storage, workdir, f"retrain-{name}", wait=False) as held:
        if not held:
            raise LockHeldError(f"another retrain of {name!r} is running (its lock is held); "
                                "try again later")
        yield
