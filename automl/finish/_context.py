"""What the final steps read of a run: its settings, data, study, time and what the search left."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only
    import optuna

    from automl.config import ExperimentConfig
    from automl.plan import Budget, SearchPlan
    from automl.report import Reporter
    from automl.retrain import Gate
    from automl.search import FoldRunner, OOFStore
    from automl.split import Prepared


@dataclass(frozen=True)
class FinishContext:
    """The run as the final steps see it; nothing here changes once the search has ended."""

    cfg: ExperimentConfig
    reporter: Reporter
    workdir: Path
    prep: Prepared  # the data, the split, the folds, the metric, the row hashes
    study: optuna.Study
    storage: str
    budget: Budget
    plan: SearchPlan  # every "is there time for this" of the end of the run
    gate: Gate | None  # a retrain's
    oof: OOFStore | None  # the best trials' out-of-fold predictions, when ensembles are kept
    fitter: FoldRunner | None  # the search's fold runner (its warm workers fit the final model)
    held: ExitStack  # released when the run ends (the model folder's lock goes in it)
