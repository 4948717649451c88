"""Create or resume the Optuna study, and run it.

The study remembers what it was created for (metric, task, data fingerprint); resuming it with
something else is refused, since scores from different setups cannot be compared.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import warnings
import zlib
from pathlib import Path
from typing import Callable

from automl.errors import ConfigError, SearchFailedError, StudyMismatchError

# Stored on the study so a later run (or another worker) can check it is continuing the same search.
GUARDED_ATTRS = ("metric", "task", "data_fingerprint", "test_fingerprint", "space_digest", "cv")


def default_storage(workdir: Path, parallel: bool = False) -> str:
    """The embedded default: one SQLite file under ``<workdir>/mlruns``; for several worker
    processes Optuna's journal file instead (SQLite is not built for concurrent writers)."""
    (workdir / "mlruns").mkdir(parents=True, exist_ok=True)
    if parallel:
        return f"journal://{(workdir / 'mlruns' / 'optuna-journal.log').resolve()}"
    return f"sqlite:///{(workdir / 'mlruns' / 'optuna.db').resolve()}"


def make_storage(url: str, heartbeat: tuple[int, int] | None = None):
    """An Optuna storage for ``url``.

    - ``journal:///path/file.log``: Optuna's JournalStorage on a file (many processes, one host).
    - ``sqlite:///...``: WAL journaling. A commit then appends to the log instead of rewriting
      the journal, making Optuna's few small writes per trial several times cheaper.
    - other RDB URLs (PostgreSQL): with ``heartbeat=(interval, grace)``, trials whose worker stops
      beating are failed and retried once (Optuna's heartbeat + RetryFailedTrialCallback).
    """
    import optuna

    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if not url.startswith("sqlite:///"):
        if heartbeat is None:
            return url
        with warnings.catch_warnings():  # "heartbeat is meant for Study.optimize": we beat ourselves
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat[0],
                                              grace_period=heartbeat[1],
                                              heartbeat_stale_trial_callback=retry_callback())
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url)

    @event.listens_for(storage.engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes, not power loss
        cursor.close()

    storage.engine.dispose()  # connections opened during set-up predate the listener
    return storage


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


@contextlib.contextmanager
def advisory_lock(url: str, name: str, wait: bool = True):
    """A PostgreSQL session advisory lock named ``name``: mutual exclusion across hosts.

    With ``wait=False``, yields False at once if another session holds it.
    """
    from sqlalchemy import text

    key = zlib.crc32(name.encode())
    engine = _lock_engine(url)
    with engine.connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            yield False
            return
        try:
            yield True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


@contextlib.contextmanager
def named_lock(storage: str, workdir: Path, name: str, wait: bool = True):
    """Mutual exclusion named ``name`` among every process using ``storage``: a PostgreSQL
    advisory lock (across hosts), else a file lock under ``<workdir>/mlruns/locks`` (one host).

    With ``wait=False``, yields False at once if another process holds it.
    """
    if is_postgres(storage):
        with advisory_lock(storage, f"automl:{name}", wait=wait) as held:
            yield held
        return
    from filelock import FileLock, Timeout

    folder = workdir / "mlruns" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.lock"))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


@functools.lru_cache(maxsize=8)
def _lock_engine(url: str):
    # One small pool per URL: a new connection per claim would cost more than the claim itself.
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=1, max_overflow=2, pool_pre_ping=True)


def _creation_lock(url: str):
    """Serialise first-time creation of the storage's tables: processes creating them at once
    fail with "table ... already exists" (SQLite file lock; PostgreSQL advisory lock)."""
    if is_postgres(url):
        return advisory_lock(url, "automl-create-tables")
    if not url.startswith("sqlite:///"):
        return contextlib.nullcontext()
    from filelock import FileLock

    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{path}.lock", timeout=600)


def retry_callback():
    """Optuna's callback that re-enqueues a stale trial (same parameters), at most once."""
    import optuna

    with warnings.catch_warnings():  # "experimental" since 2.8; it is the documented way
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)


def mask_url(url: str) -> str:
    """Hide passwords in URLs (``scheme://user:password@host``, ``?password=...``) and in any text
    that quotes one, before printing or logging it."""
    url = re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", url)
    return re.sub(r"((?:password|passwd|pwd)=)[^&\s]*", r"\1***", url, flags=re.IGNORECASE)


def make_pruner(name: str):
    import optuna

    if name == "wilcoxon":
        with warnings.catch_warnings():  # "experimental" since 3.6; it is the pruner built for k-fold CV
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


def open_study(storage: str, study_name: str, direction: str, seed: int, pruner: str,
               guards: dict[str, str], heartbeat: tuple[int, int] | None = None):
    """Create the study, or load it and check it was made for the same metric, task and data."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # we report trials ourselves
    sampler = optuna.samplers.TPESampler(seed=seed)
    try:
        with _creation_lock(storage):
            study = optuna.create_study(storage=make_storage(storage, heartbeat), study_name=study_name,
                                        direction=direction, sampler=sampler,
                                        pruner=make_pruner(pruner), load_if_exists=True)
    except ValueError as exc:
        raise StudyMismatchError(f"study {study_name!r}: {exc}; use another --study-name") from None
    except Exception as exc:  # bad URL, unreachable server, missing driver
        raise ConfigError(f"storage {mask_url(storage)}: cannot open ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    _check_guards(study, guards)  # names the metric that differs, so check it first
    if study.direction.name.lower() != direction:  # load_if_exists keeps the stored direction
        raise StudyMismatchError(f"study {study_name!r} {study.direction.name.lower()}s its objective, "
                                 f"this run would {direction} it; use another --study-name")
    return study


def _check_guards(study, guards: dict[str, str]) -> None:
    attrs = study.user_attrs
    for key in GUARDED_ATTRS:
        old, new = attrs.get(key), guards.get(key)
        if old is not None and new is not None and old != new:
            raise StudyMismatchError(
                f"study {study.study_name!r} was created with {key}={old!r}, this run has {new!r}; "
                "use another --study-name to start a new study"
            )
    for key, value in guards.items():
        if attrs.get(key) != value:
            study.set_user_attr(key, value)


def run_study(study, objective: Callable, n_trials: int | None, timeout: float | None,
              callbacks: list[Callable]) -> None:
    """Run trials; a trial that raises is recorded as FAIL and the search goes on."""
    logging.getLogger("optuna").setLevel(logging.ERROR)
    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(Exception,),
                   callbacks=callbacks, gc_after_trial=False)


def best_trial(study):
    """The best COMPLETE trial, or a clear error that lists why trials failed."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return study.best_trial
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    errors = sorted({t.user_attrs.get("error", "unknown error") for t in failed})
    detail = f"; errors: {' | '.join(errors[:3])}" if errors else ""
    raise SearchFailedError(f"study {study.study_name!r}: no trial completed "
                            f"({len(failed)} failed){detail}")


def fail_stale_trials(study) -> int:
    """Mark trials left RUNNING (by a crashed process) as FAIL. Call only when no live worker
    can own them, e.g. under the retrain lock. Returns how many were failed."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in stale:
        study._storage.set_trial_user_attr(trial._trial_id, "error", "stale: its process died")
        study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    return len(stale)


def count_states(study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts
