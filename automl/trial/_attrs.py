"""Every name automl puts on an Optuna trial or study, and every read of one.

Trials carry what the objective learnt (family, parameters, fold scores, the error of a failed
fit...) and what the surrounding processes need (the MLflow run, the worker that runs it). The
study carries what every later run or worker must agree on (guards) and the shared budget. Other
modules never spell these names: they call the functions here.
"""

from __future__ import annotations

from typing import Any

# --- on a trial --------------------------------------------------------------------------------
# Each attribute is one transaction on an RDB storage (~0.5 ms on SQLite): what the objective
# learns is written as two of them, the configuration (SPEC) and the folds' results (FOLDS).
SPEC, FOLDS = "spec", "folds"
FAMILY, MODEL_PARAMS, PREP_PARAMS = "family", "model_params", "prep_params"  # in SPEC
FOLD_SCORES, CV_STD, FIT_TIME = "fold_scores", "cv_std", "fit_time_s"  # in FOLDS, and:
PREDICT_RATE = "predict_s_per_row"  # seconds a prediction takes per row (for the test's budget)
PARTS = "model_parts"  # objects in a fitted fold model (what saving the final model costs)
MODEL_BYTES = "model_bytes"  # a fitted fold model's pickled size
ERROR, PRUNED_AT, EPOCH_LOSS = "error", "pruned_at_fold", "epoch_loss"
STOPPED = "stopped"  # why a trial was stopped for time (it is then PRUNED)
RUN_ID, WORKER = "mlflow_run_id", "worker"
ENDED_OUTSIDE = "ended_outside"  # failed by automl for a process that died or was stopped, not by its own error
DUPLICATE_OF = "duplicate_of"  # the complete trial with the same parameters whose results it took

# --- on a study --------------------------------------------------------------------------------
# A later run (or another worker) must match these to continue the same search.
GUARDED = ("metric", "task", "data_fingerprint", "test_fingerprint", "space_digest", "cv")
BUDGET, DEADLINE, CONFIG = "trial_budget", "deadline", "config"
PARENT_RUN, RETRAIN_OF = "mlflow_parent_run_id", "retrain_of"
FINAL_OVERHEAD = "final_overhead_s"  # measured end of the last run, less its refit


# --- trial: written by the objective -------------------------------------------------------------


def record_spec(trial, family: str, model_params: dict[str, Any], prep_params: dict[str, Any]) -> None:
    trial.set_user_attr(SPEC, {FAMILY: family, MODEL_PARAMS: model_params, PREP_PARAMS: prep_params})


def record_folds(trial, scores: list[float], fit_time: float, predict_rate: float | None = None,
                 parts: int = 0, model_bytes: int = 0, std: float | None = None) -> None:
    """The folds' results; ``std`` (of the scores) once every fold has run."""
    folds = {FOLD_SCORES: scores, FIT_TIME: round(fit_time, 6), CV_STD: std,
             PREDICT_RATE: predict_rate, PARTS: parts or None, MODEL_BYTES: model_bytes or None}
    trial.set_user_attr(FOLDS, {k: v for k, v in folds.items() if v is not None})


def record_duplicate(trial, number: int) -> None:
    trial.set_user_attr(DUPLICATE_OF, number)


def record_epoch_loss(trial, curve: list[float]) -> None:
    trial.set_user_attr(EPOCH_LOSS, curve)


def record_pruned(trial, fold: int) -> None:
    trial.set_user_attr(PRUNED_AT, fold)


def record_error(trial, message: str) -> None:
    trial.set_user_attr(ERROR, message)


def record_stopped(trial, reason: str) -> None:
    trial.set_user_attr(STOPPED, reason)


# --- trial: written by the processes around the objective ----------------------------------------


def record_run_id(trial, run_id: str) -> None:
    trial.set_user_attr(RUN_ID, run_id)


def record_worker(trial, worker: str) -> None:
    trial.set_user_attr(WORKER, worker)


def fail_trial(storage, trial, reason: str) -> None:
    """Mark a trial another process left RUNNING (or this process's own, cut short by a stop) as
    FAIL, with ``reason`` as its error. It is marked as ended for its process, not by its own error:
    its MLflow run is closed KILLED (or FAILED as stale) by whoever found it, never re-logged."""
    from optuna.trial import TrialState

    storage.set_trial_user_attr(trial._trial_id, ERROR, reason)
    storage.set_trial_user_attr(trial._trial_id, ENDED_OUTSIDE, True)  # while it is RUNNING: Optuna refuses later
    storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)


# --- trial: reads ----------------------------------------------------------------------------------


def ended_outside(trial) -> bool:
    return bool(trial.user_attrs.get(ENDED_OUTSIDE))


def _in(trial, group: str, key: str) -> Any:
    """``key`` of the attribute ``group``; studies written before the grouping (or by hand)
    hold it as an attribute of its own."""
    attrs = trial.user_attrs
    return (attrs.get(group) or {}).get(key, attrs.get(key))


def has_spec(trial) -> bool:
    """False for a trial that failed before its parameters were recorded."""
    return _in(trial, SPEC, FAMILY) is not None


def spec_parts(trial) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return _in(trial, SPEC, FAMILY), _in(trial, SPEC, MODEL_PARAMS), _in(trial, SPEC, PREP_PARAMS)


def family(trial) -> str | None:
    return _in(trial, SPEC, FAMILY)


def fold_scores(trial) -> list[float]:
    return list(_in(trial, FOLDS, FOLD_SCORES) or [])


def cv_std(trial) -> float | None:
    return _in(trial, FOLDS, CV_STD)


def fit_time(trial) -> float | None:
    return _in(trial, FOLDS, FIT_TIME)


def predict_rate(trial) -> float:
    return _in(trial, FOLDS, PREDICT_RATE) or 0.0


def parts(trial) -> int:
    return _in(trial, FOLDS, PARTS) or 0


def model_bytes(trial) -> int:
    return _in(trial, FOLDS, MODEL_BYTES) or 0


def epoch_loss(trial) -> list[float]:
    return list(trial.user_attrs.get(EPOCH_LOSS) or [])


def pruned_at(trial) -> int | None:
    return trial.user_attrs.get(PRUNED_AT)


def error(trial) -> str | None:
    return trial.user_attrs.get(ERROR)


def stopped(trial) -> str | None:
    return trial.user_attrs.get(STOPPED)


def run_id(trial) -> str | None:
    return trial.user_attrs.get(RUN_ID)


def worker(trial) -> str:
    return str(trial.user_attrs.get(WORKER, ""))


def retried_numbers(trials) -> set[int]:
    """Numbers of failed trials that Optuna's retry callback re-enqueued (its system attribute)."""
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def fixed_params(trial) -> dict[str, Any] | None:
    """The configuration a trial was enqueued with (Optuna's system attribute), else None."""
    return trial.system_attrs.get("fixed_params")


# --- study -------------------------------------------------------------------------------------


def check_guards(study, guards: dict[str, str]) -> tuple[str, str, str] | None:
    """The first guarded setting whose stored value differs, as ``(key, stored, given)``;
    otherwise store the given values and return None."""
    attrs = study.user_attrs
    for key in GUARDED:
        old, new = attrs.get(key), guards.get(key)
        if old is not None and new is not None and old != new:
            return key, old, new
    for key, value in guards.items():
        if attrs.get(key) != value:
            study.set_user_attr(key, value)
    return None


def budget(study) -> int | None:
    return study.user_attrs.get(BUDGET)


def deadline(study) -> float | None:
    return study.user_attrs.get(DEADLINE)


def shared_config(study) -> dict[str, Any]:
    return dict(study.user_attrs.get(CONFIG) or {})


def parent_run(study) -> str | None:
    return study.user_attrs.get(PARENT_RUN)


def set_budget(study, trials: int) -> None:
    study.set_user_attr(BUDGET, trials)


def set_deadline(study, epoch_seconds: float) -> None:
    study.set_user_attr(DEADLINE, epoch_seconds)


def set_shared_config(study, config: dict[str, Any]) -> None:
    if CONFIG not in study.user_attrs:
        study.set_user_attr(CONFIG, config)


def set_parent_run(study, parent_run_id: str) -> None:
    study.set_user_attr(PARENT_RUN, parent_run_id)


def final_overhead(study) -> float | None:
    return study.user_attrs.get(FINAL_OVERHEAD)


def set_final_overhead(study, seconds: float) -> None:
    study.set_user_attr(FINAL_OVERHEAD, round(seconds, 3))


def mark_retrain_study(study, model_name: str) -> None:
    study.set_user_attr(RETRAIN_OF, model_name)


def retrain_of(summary_or_study) -> str | None:
    """The registered model a retrain study serves (works on Optuna's study summaries too)."""
    return summary_or_study.user_attrs.get(RETRAIN_OF)
