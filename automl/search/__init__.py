"""The search: a trial's spec and attributes, the CV objective, the study and its storage.

Every name automl writes on an Optuna trial or study lives in ``_attrs`` (re-exported as
``automl.search.attrs``); nothing else spells them.
"""

from . import _attrs as attrs
from ._folds import FoldData, FoldResult, InProcessRunner, fit_and_score, run_fold
from ._leaderboard import leaderboard
from ._show import StudyOverview, list_studies, open_storage, show_study, why_stopped
from ._locks import creation_lock, named_lock
from ._objective import CVObjective, FoldError
from ._oof import OOFStore
from ._plan import SAVE_S_PER_PART, ExplainCost, SearchPlan, save_seconds
from ._pool import PoolRunner
from ._queue import enqueue_all
from ._runner import make_runner
from ._spec import TrialSpec
from ._storage import default_storage, is_postgres, make_storage, private_sqlite, retry_callback, sqlite_pragmas
from ._study import best_trial, count_states, describe_states, fail_stale_trials, join_study, make_pruner, open_study, run_study

__all__ = ["SAVE_S_PER_PART", "attrs", "best_trial", "count_states", "creation_lock",
           "CVObjective", "default_storage", "describe_states", "enqueue_all", "ExplainCost", "fail_stale_trials", "fit_and_score",
           "FoldData", "FoldError", "FoldResult", "InProcessRunner", "is_postgres", "join_study", "leaderboard",
           "list_studies", "make_pruner", "make_runner", "make_storage", "named_lock", "OOFStore",
           "open_storage", "open_study", "PoolRunner", "private_sqlite", "retry_callback", "run_fold", "run_study",
           "save_seconds", "SearchPlan", "show_study", "sqlite_pragmas", "StudyOverview", "TrialSpec", "why_stopped"]
