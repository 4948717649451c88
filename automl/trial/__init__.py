"""The trial record: every name automl writes on an Optuna trial or study (``attrs``), a trial's
configuration as a value (``TrialSpec``), and reads over a study's trials (the best, states, the
leaderboard, costs for the time plan).

Nothing here imports Optuna at import time: a served model's code (``automl.evaluate``) reads
trials without it.
"""

from . import _attrs as attrs
from ._costs import cost_of, top_costs, top_trials
from ._leaderboard import leaderboard
from ._spec import TrialSpec
from ._states import best_trial, complete_trials, count_states, describe_states, why_stopped

__all__ = ["TrialSpec", "attrs", "best_trial", "complete_trials", "cost_of", "count_states", "describe_states", "leaderboard",
           "top_costs", "top_trials", "why_stopped"]
