"""The experiment configuration: one validated pydantic model; unknown keys are errors."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automl.errors import shown

Task = Literal["auto", "binary", "multiclass", "regression"]
# "best": the best CV score; "simplest": the cheapest trial within one standard error of it.
SelectRule = Literal["best", "simplest"]
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,199}")  # study, experiment and model names
PrunerName = Literal["outclassed", "wilcoxon", "median", "none"]
# "tpe": Optuna's multivariate TPE, whose conditional parameters (each family's own) fall back to
# independent sampling; "tpe_grouped": group=True, one joint model per set of co-occurring ones.
SamplerName = Literal["tpe", "tpe_grouped"]

DEFAULT_DATA = "demo:breast_cancer"
DEFAULT_SPACE = "default.yaml"


class ExperimentConfig(BaseModel):
    """Everything one ``automl run`` needs. Unknown keys are errors (``extra="forbid"``).

    Examples
    --------
    >>> cfg = ExperimentConfig(data="demo:iris", n_trials=5)
    >>> cfg.cv, cfg.seed  # cv None: chosen from the table's size and the budget
    (None, 0)
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data: str = DEFAULT_DATA
    target: str | None = None
    test_data: str | None = None
    task: Task = "auto"
    metric: str | None = None
    space: str = DEFAULT_SPACE
    n_trials: int | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0, description="seconds for the whole command")
    trial_timeout: float | None = Field(default=None, gt=0, description="seconds per trial at most")
    trial_memory_mb: int | None = Field(default=None, gt=0, description="memory per fold process")
    ensemble_rounds: int = Field(default=25, ge=0, le=1000,
                                 description="rounds of ensemble selection; 0 = best trial only")
    select: SelectRule = "best"
    # None: yes after a holdout split, no with a separate test file (the user keeps that one to
    # compare runs on; a model that learnt from it would score too well there).
    refit_full: bool | None = Field(default=None, description="after the test, refit the final model "
                                    "on the training and test rows together")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)  # NumPy's and Optuna's seed range
    cv: int | None = Field(default=None, ge=1, le=100,
                           description="folds; 1 = one holdout split; None = by table size")
    test_size: float = Field(default=0.2, gt=0, lt=1)
    group_column: str | None = None
    time_column: str | None = None
    n_jobs: int = Field(default=-1, description="fold-parallel processes; -1 = all cores")
    pruner: PrunerName = "outclassed"
    sampler: SamplerName = "tpe"
    storage: str | None = None
    study_name: str | None = None
    summary_json: str | None = None
    output_dir: str | None = None
    workdir: str | None = None
    quiet: bool = False
    # Tracking (MLflow).
    tracking: bool = True
    tracking_uri: str | None = None
    experiment: str | None = None
    register_model: str | None = None
    # Scale-out: worker processes sharing the study; stale-trial detection on RDB storages.
    workers: int = Field(default=1, ge=1, le=256)
    heartbeat_interval: int = Field(default=10, ge=1)
    grace_period: int = Field(default=60, ge=2)

    @field_validator("study_name", "experiment", "register_model")
    @classmethod
    def _a_name_not_a_path(cls, value: str | None) -> str | None:
        # These become folder names under mlruns/ and go into MLflow filter strings: a "/", ".."
        # or quote would write outside mlruns/ or break a query.
        if value is not None and not NAME.fullmatch(value):
            raise ValueError(f"{shown(value)} is not allowed: use 1-200 letters, digits, spaces and . _ - "
                             "starting with a letter or digit (no path separators or quotes)")
        return value

    @model_validator(mode="after")
    def _check(self) -> "ExperimentConfig":
        if self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs must be -1 (all cores) or a positive integer, got {self.n_jobs}")
        if self.group_column and self.time_column:
            raise ValueError("group_column and time_column cannot both be set; choose one CV scheme")
        if self.register_model and not self.tracking:
            raise ValueError("register_model needs tracking: the registry is MLflow's; drop "
                             "--no-tracking or --register-model")
        if self.grace_period <= self.heartbeat_interval:
            raise ValueError(f"grace_period ({self.grace_period} s) must be longer than heartbeat_interval "
                             f"({self.heartbeat_interval} s), or live workers' trials would be failed")
        if self.n_trials is None and self.timeout is None:
            self.n_trials = 20
        if self.refit_full is None:
            self.refit_full = self.test_data is None
        return self

    def fingerprint(self) -> str:
        """A short hash of the settings that change what the search does (not where it logs)."""
        keys = ("data", "target", "test_data", "task", "metric", "space", "seed", "cv",
                "test_size", "group_column", "time_column", "pruner")
        blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]
