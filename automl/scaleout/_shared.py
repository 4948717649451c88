"""What every worker of a study shares through the study: budget, deadline and config."""

from __future__ import annotations

import time
from typing import Any

from automl import plan
from automl.config import ExperimentConfig
from automl.trial import attrs

from ._claim import budget_used


def shareable_config(cfg: ExperimentConfig) -> dict[str, Any]:
    """The config as workers and ``finalize`` need it; never a storage or tracking credential."""
    data = cfg.model_dump()
    for key in ("storage", "tracking_uri", "summary_json", "workdir", "output_dir"):
        data[key] = None
    data.update(workers=1, quiet=True)
    return data


def init_budget(study, cfg: ExperimentConfig, extra_trials: bool,
                search_seconds: float | None = None) -> None:
    """Set the global trial budget and deadline once (``extra_trials``: add n_trials to it).

    ``search_seconds``: how long the search may take from now (what the caller's budget leaves
    after its own end of run); default ``timeout``."""
    if cfg.n_trials is not None and (extra_trials or attrs.budget(study) is None):
        attrs.set_budget(study, budget_used(study.get_trials(deepcopy=False)) + cfg.n_trials)
    if cfg.timeout is not None and (extra_trials or attrs.deadline(study) is None):
        seconds = cfg.timeout if search_seconds is None else search_seconds
        attrs.set_deadline(study, time.time() + seconds)
    attrs.set_shared_config(study, shareable_config(cfg))


def config_from_study(study, overrides: dict[str, Any]) -> ExperimentConfig:
    stored = attrs.shared_config(study)
    stored.update({k: v for k, v in overrides.items() if v is not None})
    return ExperimentConfig(**stored)


def seconds_to_deadline(study, trial_timeout: float | None) -> float | None:
    """How long a trial starting now may run: to the study's deadline or ``trial_timeout``."""
    return plan.seconds_to_deadline(attrs.deadline(study), time.time(), trial_timeout)
