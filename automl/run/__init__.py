"""Orchestration: the one package that sees every step.

``run_experiment`` (``automl run``): set up (``_setup``), search, then the final steps
(:mod:`automl.finish`). ``_parallel`` adds workers and ``finalize``; ``_retrain`` the unattended
retrain cycle.
"""

from ._parallel import finalize, run_parallel, worker_main
from ._retrain import retrain
from ._run import run_experiment
from ._setup import Context, setup

__all__ = ["Context", "finalize", "retrain", "run_experiment", "run_parallel", "setup", "worker_main"]
