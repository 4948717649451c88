"""The search: the CV objective and its fold runners, the study, its storage and locks.

What automl writes on a trial, and reads back, is ``automl.trial``; time is ``automl.plan``.
"""

from ._folds import FoldData, FoldResult, InProcessRunner, fit_and_score, run_fold
from ._locks import StudyPresence, creation_lock, named_lock
from ._objective import CVObjective, FoldError
from ._oof import OOFStore
from ._pool import PoolRunner
from ._queue import enqueue_all
from ._runner import FoldRunner, make_runner
from ._storage import default_storage, is_postgres, make_storage, private_sqlite, retry_callback, sqlite_pragmas
from ._stale import fail_dead_workers, fail_running, fail_stale_trials
from ._study import default_study_name, join_study, make_pruner, open_study, run_study

__all__ = ["creation_lock", "default_study_name", "CVObjective", "default_storage", "enqueue_all", "fail_dead_workers", "fail_running", "fail_stale_trials", "fit_and_score",
           "FoldData", "FoldError", "FoldResult", "FoldRunner", "StudyPresence", "InProcessRunner", "is_postgres", "join_study",
           "make_pruner", "make_runner", "make_storage", "named_lock", "OOFStore",
           "open_study", "PoolRunner", "private_sqlite", "retry_callback", "run_fold", "run_study",
           "sqlite_pragmas"]
