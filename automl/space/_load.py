"""Find, read and resolve a search-space file for one task."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from automl.config import parse_yaml, read_text
from automl.errors import ConfigError, SpaceError
from automl.families import FAMILIES

from ._param import SearchSpace
from ._validate import check_for_task, validate

SPACES_DIR = Path(__file__).resolve().parent.parent.parent / "search_spaces"


def resolve_space_path(name: str) -> Path:
    """A path as given, or a bare name inside the bundled ``search_spaces/`` folder."""
    path = Path(name)
    if path.exists() or path.is_absolute() or "/" in name:
        return path
    return SPACES_DIR / name


def load_space(name: str, task: str) -> SearchSpace:
    """Read, validate and resolve a space for ``task`` (``binary``/``multiclass``/``regression``)."""
    path = resolve_space_path(name)
    doc, text = read_space_yaml(path)
    problems, parsed = validate(doc)
    problems = problems or check_for_task(parsed, task)
    if problems:
        raise SpaceError(str(path), problems)
    block = "regression" if task == "regression" else "classification"
    models = {f: ps for f, ps in parsed["models"].items() if FAMILIES[f].supports(task)}
    models.update(parsed[block]["models"])
    if not models:
        raise ConfigError(f"{path}: no model family in this space supports a {task} task")
    prep = {p.name: p for p in parsed["preprocessing"]}
    prep.update({p.name: p for p in parsed[block]["preprocessing"]})
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return SearchSpace(str(path), task, models, list(prep.values()), digest, parsed["portfolio"][block])


def read_space_yaml(path: Path) -> tuple[Any, str]:
    bundled = ", ".join(sorted(p.name for p in SPACES_DIR.glob("*.yaml")))
    text = read_text(path, "search-space file", f"bundled spaces: {bundled}")
    try:
        return parse_yaml(text), text
    except ConfigError as exc:
        raise SpaceError(str(path), [str(exc)]) from None


def validate_file(name: str) -> list[str]:
    """Every problem in a space file as ``yaml.path: message`` (empty list: the file is valid)."""
    doc, _ = read_space_yaml(resolve_space_path(name))
    return validate(doc)[0]
