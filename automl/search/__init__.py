"""Evaluating a trial: the CV objective (mean fold score, pruning, time limits), one fold's fit
and score, the fold runners (in this process, or warm killable worker processes), and the best
trials' out-of-fold predictions.

The study that runs the objective is ``automl.study``; what automl writes on a trial, and reads
back, is ``automl.trial``; time is ``automl.plan``.
"""

from ._folds import FoldData, FoldResult, InProcessRunner, fit_and_score, run_fold
from ._objective import CVObjective, FoldError
from ._oof import OOFStore
from ._pool import PoolRunner
from ._runner import FoldRunner, make_runner

__all__ = ["CVObjective", "FoldData", "FoldError", "FoldResult", "FoldRunner", "InProcessRunner", "OOFStore",
           "PoolRunner", "fit_and_score", "make_runner", "run_fold"]
