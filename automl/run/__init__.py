"""Orchestration: the one package that sees every step.

``run_experiment`` (``automl run``): set up (``_setup``), search, then the final steps over one
outcome (``_steps``, ``_outcome``). ``_parallel`` adds workers and ``finalize``; ``_retrain`` the
unattended retrain cycle.
"""

from ._outcome import Outcome
from ._parallel import finalize, run_parallel, worker_main
from ._retrain import retrain
from ._run import run_experiment
from ._setup import Context, setup
from ._steps import FINAL_STEPS, conclude, report

__all__ = ["FINAL_STEPS", "Context", "Outcome", "conclude", "finalize", "report", "retrain", "run_experiment",
           "run_parallel", "setup", "worker_main"]
