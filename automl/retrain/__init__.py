"""Retraining pieces: the champion/challenger gate, drift against the champion, warm start.

``automl.run.retrain`` holds the lock, fetches the champion and runs the search with a
:class:`Gate`.
"""

from ._compare import TOO_FEW_RULES, Rules
from ._drift import PSI_WARN, ROW_DROP_LIMIT, drift, psi, schema_problems
from ._gate import ALIAS, Champion, Decision, Gate, metric_safe
from ._lock import retrain_lock
from ._warm import WARM_START_TOP, prepare_study, warm_start_params

__all__ = ["ALIAS", "PSI_WARN", "ROW_DROP_LIMIT", "TOO_FEW_RULES", "WARM_START_TOP", "Champion", "Decision",
           "Gate", "Rules",
           "drift", "metric_safe", "prepare_study", "psi", "retrain_lock", "schema_problems", "warm_start_params"]
