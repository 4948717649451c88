"""Build the config from the YAML file and the flags, and find the work folder.

Flags override the file. Relative paths in the file are resolved against the file's folder;
relative paths on the command line against the current directory. Runtime output (Optuna storage,
MLflow store, saved models) goes under ``<workdir>/mlruns``; see :func:`resolve_workdir`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from automl.errors import ConfigError, named, shown

from ._model import ExperimentConfig
from ._paths import read_text
from ._yaml import parse_yaml

# Fields naming files: relative values are resolved against where they were written.
SHOWN_ERRORS = 5  # of a config's problems, in the one-line message
PATH_FIELDS = ("data", "test_data", "space", "summary_json", "output_dir", "workdir")
OUTPUT_FIELDS = ("summary_json",)


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
    errors = exc.errors()
    for err in errors[:SHOWN_ERRORS]:
        where = ".".join(named(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif "input" in err and not isinstance(err["input"], dict) and err["type"] != "value_error":
            msg += f" (got {shown(err['input'])})"
        parts.append(f"{where} -> {msg}")
    more = f"; and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
    return "; ".join(parts) + more


def _read_yaml(path: Path) -> dict[str, Any]:
    text = read_text(path, "config file", "give an experiment YAML file")
    try:
        data = parse_yaml(text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    return {named(k, 200).replace("-", "_"): v for k, v in data.items()}


def _resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(values)
    for key in PATH_FIELDS:
        value = out.get(key)
        if not isinstance(value, str) or ":" in value and not Path(value).exists():
            continue  # demo:NAME, URIs and absent values are not paths
        if key == "space" and "/" not in value and not (base / value).exists():
            continue  # a bare file name refers to the bundled search_spaces/ folder
        if Path(value).is_absolute():
            continue
        path = base / value
        # An output's own name stays as given: the finished file is renamed onto it, replacing a
        # link there; resolved, the link's target would be written instead.
        out[key] = str(_absolute(path.parent) / path.name if key in OUTPUT_FIELDS else _absolute(path))
    return out


def _absolute(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link that loops: named as given, refused where it is read
        return Path(os.path.abspath(path))


def resolve_workdir(cfg: ExperimentConfig) -> Path:
    """The folder whose ``mlruns/`` receives runtime output.

    In order: ``workdir`` (flag or file), ``$AUTOML_WORKDIR``, the nearest folder at or above the
    current directory that already has an ``mlruns/`` folder (the climb stops at the first folder
    another user owns, and their ``mlruns/`` is never adopted), else the current directory. The
    result is absolute and printed at the start of a run, so output never lands somewhere
    unnoticed.
    """
    given = cfg.workdir or os.environ.get("AUTOML_WORKDIR")
    if given:
        return _folder(Path(given))
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if not _own(folder):  # never adopt (and write into) another user's mlruns/ higher up
            break
        if (folder / "mlruns").is_dir() and _own(folder / "mlruns"):
            return folder
    return cwd


def _own(path: Path) -> bool:
    """Owned by whoever runs automl (always true where there are no owners)."""
    if not hasattr(os, "getuid"):
        return True
    try:
        return path.stat().st_uid == os.getuid()
    except OSError:
        return False


def _folder(path: Path) -> Path:
    """A work folder as given, resolved: absent (it will be created) or a folder."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link that loops, before Python 3.13
        raise ConfigError(f"workdir: {path} is a symbolic link that loops; give a folder") from None
    if path.is_symlink() and not resolved.exists():
        raise ConfigError(f"workdir: {path} is a symbolic link to {os.readlink(path)}, which does "
                          "not exist; give a folder")
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"workdir: {path} is a file, not a folder; give a folder for mlruns/")
    return resolved
