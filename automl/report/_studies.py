"""What ``automl show`` reads: the studies in a storage, and one study's leaderboard, state
counts and why trials did not complete, from Optuna's storage alone (no MLflow).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from automl.config import store_file
from automl.errors import ConfigError, first_line, shown
from automl.trial import leaderboard, why_stopped

from automl.study import make_storage


@dataclass
class StudyOverview:
    name: str
    direction: str
    metric: str | None
    task: str | None
    states: dict[str, int]
    best_value: float | None
    board: pd.DataFrame = field(default_factory=pd.DataFrame)  # best first
    reasons: dict[str, int] = field(default_factory=dict)  # why trials were pruned or failed


def open_storage(url: str):
    """The storage at ``url``; an SQLite or journal file that does not exist is an error, not a
    new empty store (showing must not create anything)."""
    store_file(url, must_exist=True)
    try:
        return make_storage(url)
    except Exception as exc:  # a damaged SQLite file, a URL SQLAlchemy cannot parse
        raise ConfigError(f"storage: cannot read ({type(exc).__name__}: {first_line(exc)})") from None


def _study_names(storage) -> list[str]:
    import optuna

    try:
        return optuna.get_all_study_names(storage)
    except Exception as exc:  # an unreachable server, a bad URL, a missing driver: the user's to fix
        raise ConfigError(f"storage: cannot read ({type(exc).__name__}: {first_line(exc)})") from None


def list_studies(storage) -> list[StudyOverview]:
    """Every study in ``storage``, oldest first, with its state counts and best value."""
    import optuna

    return [_overview(optuna.load_study(study_name=name, storage=storage), top=0)
            for name in _study_names(storage)]


def show_study(storage, name: str, top: int = 10) -> StudyOverview:
    """One study: state counts, best value, the ``top`` best complete trials, and the reasons
    trials were pruned or failed."""
    import optuna

    names = _study_names(storage)
    if name not in names:
        known = ", ".join(names) or "none"
        raise ConfigError(f"--study: no study named {shown(name)} in this storage; studies: {known}")
    return _overview(optuna.load_study(study_name=name, storage=storage), top)


def _overview(study, top: int) -> StudyOverview:
    trials = study.get_trials(deepcopy=False)
    states = dict(Counter(t.state.name for t in trials))
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best = None
    if complete:
        values = [t.value for t in complete]
        best = max(values) if study.direction.name == "MAXIMIZE" else min(values)
    attrs = study.user_attrs
    return StudyOverview(study.study_name, study.direction.name.lower(), attrs.get("metric"),
                         attrs.get("task"), states, best,
                         leaderboard(study).head(top) if top else pd.DataFrame(), why_stopped(trials))
