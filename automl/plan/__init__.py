"""The one place that decides time: the run's clock, the model of what each step costs, and every
"is there time for this" of a run.

- ``Budget``: when the process started, how long the command may take, the phases so far;
  ``time_limit``/``check_time``: the deadline iterative fits stop at.
- ``SearchPlan``: the search's stopping rule and each trial's deadline, from the reserve the end
  of the run needs (``TrialCost`` records of the best trials so far).
- After the search: ``members_that_fit``, ``final_fit``, ``explain_seconds``, ``refit_full_fits``.

Nothing here reads a study or fits a model: tests call it with numbers and a fake clock.
"""

from ._clock import Budget, check_time, process_started, time_limit
from ._costs import SAVE_S_PER_PART, ExplainCost, TrialCost, save_seconds
from ._end import (Verdict, explain_seconds, final_fit, members_that_fit, overhead_to_come, refit_full_fits,
                   refit_full_need, room, seconds_to_deadline)
from ._plan import ENSEMBLE_REFIT_FACTOR, MIN_TRIAL_S, SearchPlan

__all__ = ["Budget", "ENSEMBLE_REFIT_FACTOR", "ExplainCost", "MIN_TRIAL_S", "SAVE_S_PER_PART", "SearchPlan",
           "TrialCost", "Verdict", "check_time", "explain_seconds", "final_fit", "members_that_fit",
           "overhead_to_come", "process_started", "refit_full_fits", "refit_full_need", "room", "save_seconds",
           "seconds_to_deadline", "time_limit"]
