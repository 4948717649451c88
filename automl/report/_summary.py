"""The run summary: what ``automl run --summary-json`` writes and a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only
    from automl.retrain import Decision


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
