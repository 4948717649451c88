"""``automl retrain``: one unattended cycle under a lock, gated against the registry's champion."""

from __future__ import annotations

from typing import Any

from automl.plan import Budget
from automl.config import ExperimentConfig, check_paths, resolve_workdir
from automl.errors import ConfigError
from automl.report import Reporter
from automl.retrain import ALIAS, Champion, Gate, Rules, retrain_lock
from automl.study import default_storage
from automl.tracking import fetch_champion, resolve_tracking_uri

from ._run import run_experiment


def _check(cfg: ExperimentConfig) -> None:
    if not cfg.register_model:
        raise ConfigError("retrain: register_model (--register-model NAME) is required: the gate "
                          "compares against that model's 'champion' alias")
    if not cfg.tracking:
        raise ConfigError("retrain: tracking cannot be turned off; the champion lives in the registry")
    if cfg.workers > 1:  # the parallel path has no gate: it would register without checks
        raise ConfigError(f"retrain: workers must be 1 (the gate runs in one process), got {cfg.workers}")


def retrain(cfg: ExperimentConfig, allow_schema_change: bool = False, rules: Rules | None = None,
            reporter: Reporter | None = None, budget: Budget | None = None) -> dict[str, Any]:
    """One unattended retrain cycle; returns the summary with the gate's decision."""
    _check(cfg)
    reporter = reporter or Reporter(cfg.quiet)
    if cfg.experiment is None:
        # One experiment for every cycle (study names change with the data), so a later retrain
        # finds and closes runs a crashed one left RUNNING.
        cfg = cfg.model_copy(update={"experiment": cfg.register_model})
    workdir = resolve_workdir(cfg)
    check_paths(cfg, workdir)  # before the lock, which is a file in the work folder
    storage = cfg.storage or default_storage(workdir)
    with retrain_lock(cfg.register_model, storage, workdir):
        uri, _ = resolve_tracking_uri(cfg.tracking_uri, workdir)
        found = fetch_champion(uri, cfg.register_model, ALIAS)
        champion = Champion(**found) if found else None
        gate = Gate(cfg, champion, allow_schema_change, rules or Rules(), reporter.warn)
        return run_experiment(cfg, reporter, gate=gate, budget=budget)
