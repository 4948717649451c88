"""The study's finished trials as a table, best first."""

from __future__ import annotations

import json

import pandas as pd

from . import _attrs

COLUMNS = ["trial", "cv_score", "cv_std", "family", "fit_time_s", "ensemble_weight", "params"]


def leaderboard(study, ensemble: dict[int, float] | None = None) -> pd.DataFrame:
    """Complete trials, best first: number, CV mean/std, family, fit time, weight in the final
    ensemble (0 when not a member, or no ensemble), parameters."""
    ensemble = ensemble or {}
    from optuna.trial import TrialState

    rows = [{"trial": t.number, "cv_score": t.value, "cv_std": _attrs.cv_std(t),
             "family": _attrs.family(t), "fit_time_s": _attrs.fit_time(t),
             "ensemble_weight": round(ensemble.get(t.number, 0.0), 6),
             "params": json.dumps({k: v for k, v in t.params.items() if k != "model"})}
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    ascending = study.direction.name == "MINIMIZE"
    return frame.sort_values(["cv_score", "trial"], ascending=[ascending, True], kind="stable")
