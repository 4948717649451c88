"""Scheduled retraining with a champion/challenger gate.

``automl retrain`` is ``automl run`` plus four things a scheduler needs: a lock (one retrain of a
model at a time), a data check against what the champion was trained on, a warm start from the
champion and the previous study, and a gate that moves the registry alias ``champion`` only to a
challenger at least as good on the same evaluation rows.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl.config import ExperimentConfig, resolve_workdir
from automl.errors import ConfigError, DataRefusedError, LockHeldError
from automl.report import Reporter

ALIAS = "champion"
WARM_START_TOP = 3
RETRAIN_ATTR = "retrain_of"  # study user attribute: the registered model a retrain study serves


@dataclass
class Champion:
    """The registered version the alias points at, with what it was trained on."""

    version: int
    model: Any
    schema: dict[str, Any]
    tags: dict[str, str]


@dataclass
class Gate:
    """Hooks ``run_experiment`` calls when it runs as a retrain."""

    cfg: ExperimentConfig
    champion: Champion | None
    allow_schema_change: bool = False
    min_improvement: float = 0.0
    reporter: Reporter | None = None
    drift: dict[str, float] = field(default_factory=dict)
    schema_changes: list[str] = field(default_factory=list)

    @property
    def model_name(self) -> str:
        return self.cfg.register_model

    def study_name(self, base: str, data_fingerprint: str) -> str:
        """``<base>-<data>-<setup>``: same data and setup -> same study, so rerunning after a crash
        resumes it; new data, or another search space, metric, seed or CV -> a new study (a study
        resumed with another space would fail every trial on the changed distributions)."""
        return f"{base}-{data_fingerprint[:10]}-{self._setup_fingerprint()[:6]}"

    def _setup_fingerprint(self) -> str:
        from automl.space import resolve_space_path

        space = resolve_space_path(self.cfg.space)
        text = space.read_text() if space.is_file() else ""
        return hashlib.sha256(f"{self.cfg.fingerprint()}\n{text}".encode()).hexdigest()

    def check_data(self, data, split) -> None:
        """Refuse data that no longer fits the champion (exit 3); measure drift."""
        from automl.drift import PSI_WARN, drift, schema_problems
        from automl.refit import schema

        if self.champion is None:
            return
        problems = schema_problems(self.champion.schema, schema(data, split))
        if problems and not self.allow_schema_change:
            raise DataRefusedError(f"refused: new data does not match champion version "
                                   f"{self.champion.version} of {self.model_name!r}: "
                                   f"{'; '.join(problems)} (use --allow-schema-change to accept)")
        self.schema_changes = problems
        if "profile" not in self.champion.schema:
            return  # a champion saved before profiles existed: nothing to measure drift against
        self.drift = drift(self.champion.schema["profile"], split.X_train, split.y_train)
        shifted = {c: v for c, v in self.drift.items() if v > PSI_WARN}
        if shifted and self.reporter is not None:
            listed = ", ".join(f"{c} {v:.2f}" for c, v in sorted(shifted.items(), key=lambda kv: -kv[1]))
            self.reporter.warn(f"distribution drift (PSI > {PSI_WARN}): {listed}")

    def prepare_study(self, study, space) -> int:
        """Fail trials a crashed retrain of this model left RUNNING (in this study and in the
        earlier ones it ran); enqueue warm-start trials. Returns how many were enqueued."""
        study.set_user_attr(RETRAIN_ATTR, self.model_name)
        self._fail_stale_trials(study)
        before = len(study.get_trials(deepcopy=False))
        for params in self._warm_start_params(study):
            if params.get("model") in space.models:
                study.enqueue_trial(params, skip_if_exists=True)
        return len(study.get_trials(deepcopy=False)) - before

    def _fail_stale_trials(self, study) -> None:
        import optuna

        from automl.study import fail_stale_trials

        fail_stale_trials(study)
        for summary in optuna.get_all_study_summaries(study._storage, include_best_trial=False):
            if summary.study_name != study.study_name and \
                    summary.user_attrs.get(RETRAIN_ATTR) == self.model_name:
                fail_stale_trials(optuna.load_study(study_name=summary.study_name,
                                                    storage=study._storage))

    def _warm_start_params(self, study) -> list[dict[str, Any]]:
        import optuna
        from optuna.trial import TrialState

        if self.champion is None or not self.champion.tags.get("study_name"):
            return []
        name, number = self.champion.tags["study_name"], self.champion.tags.get("best_trial")
        try:  # without a name, load_study would pick any study that is alone in the storage
            previous = optuna.load_study(study_name=name, storage=study._storage)
        except (KeyError, ValueError, TypeError):
            return []  # the champion's study lives elsewhere; start cold
        trials = previous.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        champion = [t.params for t in trials if str(t.number) == str(number)]
        reverse = previous.direction.name == "MAXIMIZE"
        best = sorted(trials, key=lambda t: t.value, reverse=reverse)[:WARM_START_TOP]
        unique: list[dict[str, Any]] = []
        for params in champion + [t.params for t in best]:
            if params not in unique:
                unique.append(params)
        return unique

    def decide(self, split, metric, challenger_metrics: dict[str, float]) -> dict[str, Any]:
        """Score the champion on the challenger's test rows and decide on the alias."""
        from automl.metrics import evaluate

        challenger = challenger_metrics[metric.name]
        if self.champion is None:
            return self._decision(True, "first model: no champion yet", challenger, None)
        try:
            champion = evaluate(self.champion.model, split.X_test, split.y_test, (metric.name,))[metric.name]
        except Exception as exc:  # e.g. a column the champion needs is gone (--allow-schema-change)
            return self._decision(True, f"champion cannot score the new data ({type(exc).__name__})",
                                  challenger, None)
        if challenger is None or champion is None:  # e.g. ROC AUC on single-class test rows
            return self._decision(False, f"cannot compare: {metric.name} is undefined on the "
                                  "test rows; champion kept", challenger, champion)
        gain = challenger - champion if metric.direction == "maximize" else champion - challenger
        promote = gain >= self.min_improvement
        verb = "beats" if promote else "does not beat"
        reason = (f"challenger {metric.name} {challenger:.6g} {verb} champion v{self.champion.version} "
                  f"{champion:.6g} by the required {self.min_improvement:g} (gain {gain:.6g})")
        return self._decision(promote, reason, challenger, champion)

    def _decision(self, promote: bool, reason: str, challenger: float, champion: float | None):
        return {"decision": "promoted" if promote else "kept_champion", "promote": promote,
                "reason": reason, "challenger_score": challenger, "champion_score": champion,
                "champion_version": self.champion.version if self.champion else None,
                "schema_changes": self.schema_changes, "drift": metric_safe(self.drift)}


def metric_safe(values: dict[str, float]) -> dict[str, float]:
    """Keys MLflow accepts in a metric name (``drift_psi_<col>``): other characters become ``_``.

    A column such as ``size (cm)`` would otherwise make the final log of the model fail."""
    return {re.sub(r"[^/\w.\- :]", "_", k): v for k, v in values.items()}


@contextmanager
def retrain_lock(name: str, storage: str, workdir: Path):
    """Hold the retrain lock for ``name``: a file lock, or a PostgreSQL advisory lock when the
    study lives in PostgreSQL (so retrains on different hosts exclude each other too)."""
    from automl.study import named_lock

    with named_lock(storage, workdir, f"retrain-{name}", wait=False) as held:
        if not held:
            raise LockHeldError(f"another retrain of {name!r} is running (its lock is held); "
                                "try again later")
        yield


def retrain(cfg: ExperimentConfig, allow_schema_change: bool = False, min_improvement: float = 0.0,
            reporter: Reporter | None = None) -> dict[str, Any]:
    """One unattended retrain cycle; returns the summary with the gate's decision."""
    from automl.pipeline import run_experiment
    from automl.study import default_storage
    from automl.tracking import fetch_champion, resolve_tracking_uri

    if not cfg.register_model:
        raise ConfigError("retrain: register_model (--register-model NAME) is required: the gate "
                          "compares against that model's 'champion' alias")
    if not cfg.tracking:
        raise ConfigError("retrain: tracking cannot be turned off; the champion lives in the registry")
    if cfg.workers > 1:  # the parallel path has no gate: it would register without checks
        raise ConfigError(f"retrain: workers must be 1 (the gate runs in one process), got {cfg.workers}")
    reporter = reporter or Reporter(cfg.quiet)
    if cfg.experiment is None:
        # One experiment for every cycle (study names change with the data), so a later retrain
        # finds and closes runs a crashed one left RUNNING.
        cfg = cfg.model_copy(update={"experiment": cfg.register_model})
    workdir = resolve_workdir(cfg)
    storage = cfg.storage or default_storage(workdir)
    with retrain_lock(cfg.register_model, storage, workdir):
        uri, _ = resolve_tracking_uri(cfg.tracking_uri, workdir)
        found = fetch_champion(uri, cfg.register_model, ALIAS)
        champion = Champion(**found) if found else None
        gate = Gate(cfg, champion, allow_schema_change, min_improvement, reporter)
        return run_experiment(cfg, reporter, gate=gate)
