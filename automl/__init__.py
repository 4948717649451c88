"""automl: an AutoML experiment pipeline for tables.

The packages follow the flow of a run, and imports point one way along it::

    config -> data -> split -> metrics -> families, preprocess -> space -> search (objective,
    study) -> scaleout -> tracking -> evaluate (refit, test once) -> artifacts -> retrain
    -> report, predict -> run (orchestration) -> cli

``automl.run.run_experiment`` ties them together; ``automl.cli`` is the command line.
Heavy libraries (scikit-learn, optuna, mlflow) are imported lazily so ``automl --help`` is fast.
"""

from automl import _compat
from automl._version import __version__

_compat.install()

__all__ = ["__version__", "run_experiment", "ExperimentConfig"]


def __getattr__(name: str):
    # Lazy re-exports keep ``import automl`` cheap.
    if name == "run_experiment":
        from automl.run import run_experiment

        return run_experiment
    if name == "ExperimentConfig":
        from automl.config import ExperimentConfig

        return ExperimentConfig
    raise AttributeError(f"module 'automl' has no attribute {name!r}")
