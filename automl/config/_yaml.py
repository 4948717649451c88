"""A YAML document a user wrote (a config, a search space), read with bounds.

``yaml.safe_load`` builds anchors and aliases as shared references, which is cheap; what is not is
everything that walks the result as a tree afterwards (``repr``, ``json.dumps``, pydantic): nine
levels of nine aliases each are 387 million values, from a few hundred bytes. So a document is
refused when it holds more values than any config or space needs (aliases counted each time they
are used), nests too deep, or contains itself.
"""

from __future__ import annotations

from typing import Any

import yaml

from automl.errors import ConfigError, first_line

MAX_VALUES = 100_000  # the bundled spaces hold a few hundred
MAX_DEPTH = 50


def yaml_problem(exc: Exception) -> str:
    """Where and why a YAML text does not parse, as ``line N: not valid YAML (reason)``."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark else "file"
    return f"{where}: not valid YAML ({getattr(exc, 'problem', None) or first_line(exc)})"


def parse_yaml(text: str) -> Any:
    """The document in ``text``, or ``ConfigError`` saying why not (the caller names the file)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(exc)) from None
    except RecursionError:  # PyYAML composes nested blocks recursively
        raise ConfigError(f"nests deeper than {MAX_DEPTH} levels; a config or space needs a few") from None
    except ValueError as exc:  # a value PyYAML recognises but Python refuses: 2024-13-45, 5,000 digits
        raise ConfigError(f"not valid YAML ({first_line(exc, 120)})") from None
    _check_size(doc)
    return doc


def _check_size(doc: Any) -> None:
    """Refuse ``doc`` when it expands past ``MAX_VALUES`` values or ``MAX_DEPTH`` levels, or holds
    itself. Each distinct container is visited once (sizes of shared ones are remembered), so
    the check costs what the file's text does, not what its expansion would."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(doc, False)]
    open_ids: list[int] = []
    while stack:
        value, done = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        key = id(value)
        children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        if done:
            open_ids.pop()
            sizes[key] = min(MAX_VALUES + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
            continue
        if key in sizes:
            continue
        if key in open_ids:
            raise ConfigError("an alias refers to a value that contains it; "
                              "a config or space must be a tree")
        if len(open_ids) >= MAX_DEPTH:
            raise ConfigError(f"nests deeper than {MAX_DEPTH} levels; a config or space needs a few")
        open_ids.append(key)
        stack.append((value, True))
        stack.extend((c, False) for c in children)
    if sizes.get(id(doc), 1) > MAX_VALUES:
        raise ConfigError(f"holds more than {MAX_VALUES:,} values once its aliases are expanded "
                          "(an alias counts each time it is used); a config or space needs far fewer")
