"""What the search process sends the writer: a finished trial, and the end of a run.

Plain values only (they cross a pipe to the writer process); nothing here imports mlflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl.trial import TrialSpec, attrs

STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}


def trial_record(trial, metric: str | None) -> dict[str, Any]:
    """Params, metrics and tags of one finished Optuna trial, ready for ``log_batch``."""
    m = metric or "score"
    # A trial that failed before its parameters were recorded still has Optuna's own.
    params = TrialSpec.from_trial(trial).flat_params() if attrs.has_spec(trial) else dict(trial.params)
    metrics = [(f"fold_{m}", v, i) for i, v in enumerate(attrs.fold_scores(trial))]
    if trial.state.name == "COMPLETE":
        metrics.append((f"cv_{m}", trial.value, 0))
    if attrs.cv_std(trial) is not None:
        metrics.append((f"cv_{m}_std", attrs.cv_std(trial), 0))
    metrics += [("epoch_loss", v, i) for i, v in enumerate(attrs.epoch_loss(trial))]
    if attrs.fit_time(trial) is not None:
        metrics.append(("fit_time_s", attrs.fit_time(trial), 0))
    start, end = trial.datetime_start, trial.datetime_complete
    return {"params": params, "metrics": metrics, "tags": _trial_tags(trial),
            "status": STATUS[trial.state.name],
            "end_ms": int(end.timestamp() * 1000) if end else None,
            "duration_s": (end - start).total_seconds() if start and end else None}


def _trial_tags(trial) -> dict[str, str]:
    tags = {"mlflow.runName": f"trial-{trial.number:04d}", "optuna.trial_number": str(trial.number),
            "optuna.state": trial.state.name}
    if attrs.pruned_at(trial) is not None:
        tags["automl.pruned_at_fold"] = str(attrs.pruned_at(trial))
    if attrs.error(trial) is not None:
        tags["automl.error"] = str(attrs.error(trial))[:5000]
    if attrs.stopped(trial) is not None:  # stopped for time: PRUNED, and why
        tags["automl.stopped"] = str(attrs.stopped(trial))[:5000]
    return tags


@dataclass(frozen=True)
class Artifact:
    """One file of the run's evidence: ``text`` written as ``path``, or the local ``file`` put in
    the folder ``path`` of the run's artifacts."""

    path: str | None  # the folder in the run's artifacts (None: at the top)
    text: str | None = None
    file: str | None = None

    @classmethod
    def of_text(cls, path: str, text: str) -> "Artifact":
        return cls(path, text=text)

    @classmethod
    def of_file(cls, folder: str | None, file: Path | str) -> "Artifact":
        return cls(folder, file=str(file))


@dataclass
class FinalLog:
    """The end of a run as the writer logs it on the parent run: the model (with signature and
    input example), metrics, artifacts, the best trial's run, and the registry entry."""

    model: Any
    input_example: Any
    metrics: dict[str, float | None]
    artifacts: list[Artifact] = field(default_factory=list)
    best_run_id: str | None = None
    register_name: str | None = None
    version_tags: dict[str, Any] = field(default_factory=dict)
    alias: str | None = None  # moved to the new version only after it is completely logged
    description: str | None = None  # the registered version's description (the model card)
    # (name, frame with the target column, target, context): logged as MLflow datasets with digests
    datasets: list[tuple[str, Any, str, str]] = field(default_factory=list)
