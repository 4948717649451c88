"""The end of a run as data: what the final steps produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from automl.tracking import Artifact

from ._context import FinishContext

if TYPE_CHECKING:  # types only: a run imports them where it uses them
    import numpy as np
    import pandas as pd
    from optuna.trial import FrozenTrial
    from sklearn.base import BaseEstimator

    from automl.evaluate import EnsembleChoice, Selection
    from automl.metrics import Predictions
    from automl.report import Summary
    from automl.retrain import Decision
    from automl.tracking import MlflowTracker, NullTracker


@dataclass
class Outcome:
    """Filled in by the final steps, in order (see ``_steps.FINAL_STEPS``).

    A new output of a run is one more step that sets a field here and appends to ``artifacts``
    (logged on the parent run); ``metrics`` and ``version_tags`` collect what steps add to the
    parent run's metrics and the registered version's tags.
    """

    ctx: FinishContext  # what the steps read of the run
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
    summary: Summary | None = None
