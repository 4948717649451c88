"""The end of a run as data: what the final steps produce, and the summary read from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.tracking import Artifact

from ._setup import Context

if TYPE_CHECKING:  # types only: a run imports them where it uses them
    import numpy as np
    import pandas as pd
    from optuna.trial import FrozenTrial
    from sklearn.base import BaseEstimator

    from automl.evaluate import EnsembleChoice, Selection
    from automl.metrics import Predictions
    from automl.retrain import Decision
    from automl.tracking import MlflowTracker, NullTracker


@dataclass
class Outcome:
    """Filled in by the final steps, in order (see ``_steps.FINAL_STEPS``).

    A new output of a run is one more step that sets a field here and appends to ``artifacts``
    (logged on the parent run); ``metrics`` and ``version_tags`` collect what steps add to the
    parent run's metrics and the registered version's tags.
    """

    ctx: Context
    tracker: MlflowTracker | NullTracker
    trial: FrozenTrial  # the chosen COMPLETE trial (the best one, unless the selection rule chose another)
    ensemble: EnsembleChoice | None = None  # when one was selected
    members: list[tuple[FrozenTrial, float]] = field(default_factory=list)  # the final ensemble's, if chosen
    model: BaseEstimator | None = None  # a fitted pipeline, or an ensemble of them
    test_metrics: dict[str, float | None] = field(default_factory=dict)
    predictions: Predictions | None = None  # on the test rows
    schema: dict[str, object] = field(default_factory=dict)
    rows: np.ndarray | None = None  # the hashes of the rows the saved model was fitted on
    row_groups: np.ndarray | None = None  # and the hashes of their groups (group_column)
    out_dir: Path | None = None
    model_path: Path | None = None
    leaderboard: pd.DataFrame | None = None  # best first
    plots: list[Path] = field(default_factory=list)
    decision: Decision | None = None  # a retrain's
    metrics: dict[str, float | None] = field(default_factory=dict)
    version_tags: dict[str, object] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    logged: dict[str, object] = field(default_factory=dict)  # MLflow run, model URI, version
    refit_full: dict | None = None  # with refit_full: rows the saved model learnt from, or why not
    final_fit: dict | None = None  # under a budget: what was fitted, planned and taken, any fallback
    importance: dict | None = None  # permutation importance: the strongest columns, or why none
    selection: Selection | None = None  # the rule, the best and the chosen trial
    costs: pd.DataFrame | None = None  # every complete trial's CV score, prediction time, size
    card: str | None = None  # the model card (Markdown)
    facts: dict = field(default_factory=dict)  # what the card and the report state
    report_path: Path | None = None  # report.html
    importance_table: pd.DataFrame | None = None  # column, importance, std
    summary: "Summary | None" = None


# Keys present in the summary only when they have a value (tracking on, a registry entry, workers).
OPTIONAL_KEYS = ("mlflow_run_id", "model_uri", "run_model_uri", "registered_model",
                 "registered_version", "workers", "worker_exit_codes", "ensemble", "refit_full",
                 "final_fit")


@dataclass
class Summary:
    """The run summary; :meth:`to_dict` gives the JSON keys of ``--summary-json``."""

    study_name: str
    task: str
    metric: str
    direction: str
    best_trial: int
    best_params: dict[str, Any]
    best_cv_score: float
    best_cv_std: float | None
    test_metrics: dict[str, float | None]
    n_trials: dict[str, int]
    rows_dropped: int
    dropped_columns: dict[str, str]
    train_rows: int
    test_rows: int
    test_fingerprint: str
    data_fingerprint: str
    data: str
    seed: int
    storage: str
    model_path: str
    plots: list[str]
    ensemble: dict | None = None  # selection, members and weights, whether it is the final model
    refit_full: dict | None = None  # {"rows": ...} the saved model learnt from, or {"skipped": why}
    final_fit: dict | None = None  # {"model", "planned_s", "fit_s", "fallback"?} under a budget
    importance: dict | None = None  # permutation importance on the test rows: top columns
    selection: dict | None = None  # the selection rule, the best and the chosen trial, and why
    report: str | None = None  # report.html
    mlflow_run_id: str | None = None
    model_uri: str | None = None
    run_model_uri: str | None = None
    registered_model: str | None = None
    registered_version: int | None = None
    decision: Decision | None = None  # its keys are flattened into the summary
    workers: int | None = None
    worker_exit_codes: list[int] | None = None
    elapsed_s: float | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, from process start

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "decision":
                out.update(value.summary() if value is not None else {})
            elif not (f.name in OPTIONAL_KEYS and value is None):
                out[f.name] = value
        return out
