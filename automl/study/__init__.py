"""The study's storage and life: opening a storage (SQLite, journal, PostgreSQL), creating,
resuming and guarding a study, running it until the plan says stop, named locks and this
process's presence on a study, the configurations to run first, the one stale-trial cleanup.

Evaluating one trial is ``automl.search``; what automl writes on a trial is ``automl.trial``.
"""

from ._locks import StudyPresence, creation_lock, named_lock
from ._queue import enqueue_all
from ._stale import fail_dead_workers, fail_running, fail_stale_trials
from ._storage import default_storage, is_postgres, make_storage, private_sqlite, retry_callback, sqlite_pragmas
from ._study import default_study_name, join_study, make_pruner, open_study, run_study

__all__ = ["StudyPresence", "creation_lock", "default_storage", "default_study_name", "enqueue_all",
           "fail_dead_workers", "fail_running", "fail_stale_trials", "is_postgres", "join_study", "make_pruner",
           "make_storage", "named_lock", "open_study", "private_sqlite", "retry_callback", "run_study",
           "sqlite_pragmas"]
