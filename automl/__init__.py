"""automl: an AutoML experiment pipeline.

The flow, one module per step::

    config -> data -> split -> space (+ registry, preprocess) -> objective -> study
           -> tracking -> refit (test once) -> summary

``automl.pipeline.run_experiment`` ties them together; ``automl.cli`` is the command line.
Heavy libraries (scikit-learn, optuna, mlflow) are imported lazily so ``automl --help`` is fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "run_experiment", "ExperimentConfig"]


def __getattr__(name: str):
    # Lazy re-exports keep ``import automl`` cheap.
    if name == "run_experiment":
        from automl.pipeline import run_experiment

        return run_experiment
    if name == "ExperimentConfig":
        from automl.config import ExperimentConfig

        return ExperimentConfig
    raise AttributeError(f"module 'automl' has no attribute {name!r}")
