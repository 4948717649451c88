"""What the model card and the report state about a run, read from what the run produced:
nothing here is filled in by hand, and every input is named in the signature."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from automl._version import __version__
from automl.config import mask_url
from automl.trial import TrialSpec, attrs

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from automl.evaluate import EnsembleChoice, Selection


def run_facts(*, name: str, study: str, seed: int, data: str, data_fingerprint: str, metric: str,
              space: str, time_column: str | None, test_metrics: dict[str, float | None], test_rows: int,
              n_trials: dict[str, int], trial: FrozenTrial, members: list[tuple[FrozenTrial, float]],
              ensemble: EnsembleChoice | None, importance: dict | None, selection: Selection | None,
              refit_full: dict | None, decision: str | None, comparison: dict | None) -> dict:
    """The facts of the card and the report: the data, the final model (``trial`` alone, or the
    ``members`` of the ensemble), its CV and test scores, how it was chosen, refitted and judged
    (a retrain's ``decision`` in words and the ``comparison`` it rests on)."""
    return {
        "name": name, "version": __version__, "study": study, "seed": seed, "data": mask_url(str(data)),
        "data_fingerprint": data_fingerprint, "metric": metric, "space": space, "time_column": time_column,
        "test_metrics": test_metrics, "test_rows": test_rows,
        "cv": {"score": trial.value, "std": attrs.cv_std(trial), "folds": len(attrs.fold_scores(trial))},
        "ensemble_cv": ensemble.score if members and ensemble is not None else None, "n_trials": n_trials,
        "final_model": final_model_words(trial, members), "importance": importance,
        "selection_rule": selection.rule if selection else None,
        "selection_reason": selection.reason if selection and selection.rule != "best" else None,
        "refit_full_rows": None if "skipped" in (refit_full or {}) else (refit_full or {}).get("rows"),
        "decision": decision, "comparison": comparison,
    }


def final_model_words(trial: FrozenTrial, members: list[tuple[FrozenTrial, float]]) -> str:
    """``trial 3 (lightgbm)``, or ``ensemble of trial 3 (lightgbm, weight 0.60), ...``."""
    if not members:
        return f"trial {trial.number} ({TrialSpec.from_trial(trial).flat_params().get('model', '?')})"
    return "ensemble of " + ", ".join(f"trial {t.number} ({attrs.family(t)}, weight {w:.2f})"
                                      for t, w in members)


def families(board: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """Per family: complete trials and the best CV score among them, best family first (the
    leaderboard is sorted best first, so each family's first row is its best)."""
    first = board.drop_duplicates("family")
    counts = board["family"].value_counts()
    return {str(r.family): (int(counts[r.family]), r.cv_score) for r in first.itertuples()}
