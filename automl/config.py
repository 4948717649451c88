"""Experiment configuration: one validated object built from the YAML file and the flags.

Flags override the file. Relative paths in the file are resolved against the file's folder;
relative paths on the command line against the current directory. Runtime output (Optuna storage,
MLflow store, saved models) goes under ``<workdir>/mlruns``; see :func:`resolve_workdir`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from automl.errors import ConfigError

Task = Literal["auto", "binary", "multiclass", "regression"]
PrunerName = Literal["wilcoxon", "median", "none"]

DEFAULT_DATA = "demo:breast_cancer"
DEFAULT_SPACE = "default.yaml"
# Fields naming files: relative values are resolved against where they were written.
PATH_FIELDS = ("data", "test_data", "space", "summary_json", "output_dir", "workdir")


class ExperimentConfig(BaseModel):
    """Everything one ``automl run`` needs. Unknown keys are errors (``extra="forbid"``).

    Examples
    --------
    >>> cfg = ExperimentConfig(data="demo:iris", n_trials=5)
    >>> cfg.cv, cfg.seed
    (5, 0)
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data: str = DEFAULT_DATA
    target: str | None = None
    test_data: str | None = None
    task: Task = "auto"
    metric: str | None = None
    space: str = DEFAULT_SPACE
    n_trials: int | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0)
    cv: int = Field(default=5, ge=2, le=100)
    test_size: float = Field(default=0.2, gt=0, lt=1)
    group_column: str | None = None
    time_column: str | None = None
    n_jobs: int = Field(default=-1, description="fold-parallel processes; -1 = all cores")
    pruner: PrunerName = "wilcoxon"
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

    @model_validator(mode="after")
    def _check(self) -> "ExperimentConfig":
        if self.n_jobs == 0 or self.n_jobs < -1:
            raise ValueError(f"n_jobs must be -1 (all cores) or a positive integer, got {self.n_jobs}")
        if self.group_column and self.time_column:
            raise ValueError("group_column and time_column cannot both be set; choose one CV scheme")
        if self.n_trials is None and self.timeout is None:
            self.n_trials = 20
        return self

    def fingerprint(self) -> str:
        """A short hash of the settings that change what the search does (not where it logs)."""
        keys = ("data", "target", "test_data", "task", "metric", "space", "seed", "cv",
                "test_size", "group_column", "time_column", "pruner")
        blob = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def load_config(path: str | None, overrides: dict[str, Any]) -> ExperimentConfig:
    """Build the config from an optional YAML file and flag overrides (``None`` = not given)."""
    raw: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        raw = _read_yaml(Path(path))
        raw = _resolve_paths(raw, Path(path).resolve().parent)
        source = path
    given = {k: v for k, v in overrides.items() if v is not None}
    raw.update(_resolve_paths(given, Path.cwd()))
    try:
        return ExperimentConfig(**raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc)}") from None


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic errors as one line: ``field -> message (got value)`` joined by ``;``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and not isinstance(err["input"], dict) and err["type"] != "value_error":
            msg += f" (got {err['input']!r})"
        parts.append(f"{where} -> {msg}")
    return "; ".join(parts)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(values)
    for key in PATH_FIELDS:
        value = out.get(key)
        if not isinstance(value, str) or ":" in value and not Path(value).exists():
            continue  # demo:NAME, URIs and absent values are not paths
        if key == "space" and "/" not in value and not (base / value).exists():
            continue  # a bare file name refers to the bundled search_spaces/ folder
        out[key] = str((base / value).resolve()) if not Path(value).is_absolute() else value
    return out


def resolve_workdir(cfg: ExperimentConfig) -> Path:
    """The folder whose ``mlruns/`` receives runtime output.

    In order: ``workdir`` (flag or file), ``$AUTOML_WORKDIR``, the nearest folder at or above the
    current directory that already has an ``mlruns/`` folder, else the current directory. The result
    is absolute and printed at the start of a run, so output never lands somewhere unnoticed.
    """
    if cfg.workdir:
        return Path(cfg.workdir).resolve()
    env = os.environ.get("AUTOML_WORKDIR")
    if env:
        return Path(env).resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "mlruns").is_dir():
            return folder
    return cwd
