"""The champion/challenger gate of a retrain.

A retrain is ``automl run`` plus: a data check against what the champion was trained on (schema
changes refused, drift measured), a warm start from the champion and its study, and a decision
that moves the registry alias ``champion`` only to a challenger at least as good on the same
evaluation rows. The lock and the champion lookup are the orchestration's (``automl.run``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from automl.artifacts import schema
from automl.config import ExperimentConfig
from automl.data import new_salt
from automl.errors import DataRefusedError, GateError, describe
from automl.metrics import predict
from automl.space import resolve_space_path

from ._compare import Rules, comparison_rows, subset, unseen_by
from ._drift import PSI_WARN, drift, schema_problems
from ._paired import paired
from ._warm import prepare_study

ALIAS = "champion"


@dataclass
class Decision:
    """The gate's verdict on a challenger, with the evidence it was based on."""

    promote: bool
    reason: str
    challenger_score: float | None
    champion_score: float | None
    champion_version: int | None
    schema_changes: list[str]
    drift: dict[str, float]
    comparison: dict[str, Any] | None = None  # the rows compared on, and the paired interval

    @property
    def decision(self) -> str:
        return "promoted" if self.promote else "kept_champion"

    def summary(self) -> dict[str, Any]:
        """The summary's keys: ``decision``, ``reason``, the scores, versions and evidence."""
        return {"decision": self.decision, "reason": self.reason,
                "challenger_score": self.challenger_score, "champion_score": self.champion_score,
                "champion_version": self.champion_version, "schema_changes": self.schema_changes,
                "drift": self.drift, "comparison": self.comparison}

    def version_tags(self) -> dict[str, Any]:
        """Tags for the registered version, so the registry shows why the alias moved or not."""
        summary = self.summary()
        tags = {f"automl.{k}": summary[k] for k in ("decision", "reason", "challenger_score",
                                                    "champion_score", "champion_version")}
        for key in ("rows", "test_rows", "basis", "gain", "low", "high", "confidence"):
            if self.comparison and self.comparison.get(key) is not None:
                tags[f"automl.comparison_{key}"] = self.comparison[key]
        return tags


@dataclass
class Champion:
    """The registered version the alias points at, with what it was trained on."""

    version: int
    model: Any
    schema: dict[str, Any]
    tags: dict[str, str]
    rows: Any = None  # numpy uint64: hashes of the rows it was fitted on (None: not recorded)
    groups: Any = None  # and of their groups, when it was trained with group_column


@dataclass
class Gate:
    """Hooks ``run_experiment`` calls when it runs as a retrain."""

    cfg: ExperimentConfig
    champion: Champion | None
    allow_schema_change: bool = False
    rules: Rules = field(default_factory=Rules)
    warn: Callable[[str], None] | None = None
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
        space = resolve_space_path(self.cfg.space)
        text = space.read_text() if space.is_file() else ""
        return hashlib.sha256(f"{self.cfg.fingerprint()}\n{text}".encode()).hexdigest()

    def check_data(self, data, split) -> None:
        """Refuse data that no longer fits the champion (exit 3); measure drift."""
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
        if shifted and self.warn is not None:
            listed = ", ".join(f"{c} {v:.2f}" for c, v in sorted(shifted.items(), key=lambda kv: -kv[1]))
            self.warn(f"distribution drift (PSI > {PSI_WARN}): {listed}")

    def prepare_study(self, study, space) -> int:
        """Fail trials a crashed retrain of this model left RUNNING; enqueue warm-start trials.
        Returns how many were enqueued."""
        tags = self.champion.tags if self.champion is not None else None
        return prepare_study(study, space, self.model_name, tags)

    def salt(self) -> str:
        """The champion's row-hash salt (today's rows then hash comparably), else a new one."""
        recorded = (self.champion.schema.get("training_rows") or {}) if self.champion else {}
        return recorded.get("salt") or new_salt()

    def unseen(self, data, kinds: dict[str, str], table, groups):
        """Per row of today's table: has the champion not learnt from it? None when unknown."""
        if self.champion is None:
            return None
        return unseen_by(self.champion, data.X, data.y, data.task, kinds, table, groups)

    def decide(self, data, split, prints, metric, predictions, challenger_metrics: dict[str, float],
               challenger_cv: float) -> Decision:
        """Compare the champion and the challenger on the test rows neither learnt from (a paired
        bootstrap), or by the configured rule when those are too few; decide on the alias."""
        challenger = challenger_metrics[metric.name]
        if self.champion is None:
            return self._decision(True, "first model: no champion yet", challenger, None)
        # Fail closed: only columns the champion needs and the new data lacks (accepted with
        # --allow-schema-change) promote without a comparison; any other failure to score it is
        # an error, and the alias stays where it was.
        needed = [c["name"] for c in self.champion.schema.get("columns", [])]
        missing = [c for c in needed if c not in split.X_test.columns]
        if missing:
            return self._decision(True, "champion cannot score the new data: it needs "
                                  f"{', '.join(map(str, missing[:5]))}, which the new data lacks",
                                  challenger, None)
        rows = comparison_rows(self.champion, data, split, prints)
        facts = rows.summary(self.rules.min_rows)
        if rows.count < self.rules.min_rows:
            return self._by_rule(f"only {rows.count} test rows unseen by both models ({rows.why}); "
                                 f"a comparison needs {self.rules.min_rows}", metric, challenger_cv, facts)
        mask = rows.mask
        try:
            champion_pred = predict(self.champion.model, split.X_test[mask], (metric.name,))
        except Exception as exc:
            raise GateError(f"champion v{self.champion.version} of {self.model_name!r} failed to score "
                            f"the test rows ({describe(exc)}); the champion alias was not moved") from exc
        result = paired(metric, split.y_test.to_numpy()[mask], subset(predictions, mask), champion_pred,
                        self.rules.confidence, self.cfg.seed)
        if result is None:  # e.g. ROC AUC on rows of one class
            return self._by_rule(f"{metric.name} is undefined on the {rows.count} comparison rows",
                                 metric, challenger_cv, facts)
        return self._compared(metric, result, {**facts, **vars(result)})

    def _compared(self, metric, result, facts: dict) -> Decision:
        need = self.rules.min_improvement
        promote = result.low >= need
        verb = "beats" if promote else "does not beat"
        reason = (f"challenger {metric.name} {result.challenger:.6g} {verb} champion v{self.champion.version} "
                  f"{result.champion:.6g} by the required {need:g} on {facts['rows']} test rows neither "
                  f"model learnt from (gain {result.gain:.4g}, {result.confidence:.0%} interval "
                  f"{result.low:.4g} to {result.high:.4g}, paired bootstrap)")
        return self._decision(promote, reason, result.challenger, result.champion, facts)

    def _by_rule(self, why: str, metric, challenger_cv: float, facts: dict) -> Decision:
        """Too few fair rows: keep the champion, or (``too_few: cv``) compare the CV estimates."""
        facts = {**facts, "rule": self.rules.too_few}
        if self.rules.too_few == "keep":
            return self._decision(False, f"{why}: champion kept (rule too_few_unseen=keep)", None, None, facts)
        tags = self.champion.tags
        recorded = tags.get(f"final_cv_{metric.name}", tags.get(f"cv_{metric.name}"))
        if recorded is None:
            return self._decision(False, f"{why}, and champion v{self.champion.version} recorded no CV "
                                  f"{metric.name}: champion kept", None, None, facts)
        champion_cv = float(recorded)
        gain = challenger_cv - champion_cv if metric.direction == "maximize" else champion_cv - challenger_cv
        promote = gain >= self.rules.min_improvement
        verb = "beats" if promote else "does not beat"
        reason = (f"{why}: by CV (rule too_few_unseen=cv), challenger {metric.name} {challenger_cv:.6g} {verb} "
                  f"champion v{self.champion.version} {champion_cv:.6g} by the required "
                  f"{self.rules.min_improvement:g} (gain {gain:.4g}; each on its own folds)")
        return self._decision(promote, reason, challenger_cv, champion_cv, {**facts, "gain": gain})

    def _decision(self, promote: bool, reason: str, challenger: float | None,
                  champion: float | None, comparison: dict | None = None) -> Decision:
        return Decision(promote, reason, challenger, champion,
                        self.champion.version if self.champion else None, self.schema_changes,
                        metric_safe(self.drift), comparison)


def metric_safe(values: dict[str, float]) -> dict[str, float]:
    """Keys MLflow accepts in a metric name (``drift_psi_<col>``): other characters become ``_``.

    A column such as ``size (cm)`` would otherwise make the final log of the model fail."""
    return {re.sub(r"[^/\w.\- :]", "_", k): v for k, v in values.items()}
