"""A space's portfolio: configurations known to be strong, tried first, then TPE goes on.

In the YAML, per task block, a list of entries in the order they run (the learning script,
``benchmarks/learn_portfolio.py``, writes them cheapest first)::

    portfolio:
      classification:
        - {model: lightgbm, params: {num_leaves: 15, learning_rate: 0.1}, prep: {scaler: robust}}

An entry names a family of the space and values of its searched parameters (and of the
preprocessing's); every value must lie in the space, so Optuna's TPE can learn from the trial.
What an entry leaves out takes the estimator's default, clipped into the space.
"""

from __future__ import annotations

from typing import Any

from automl.errors import named, shown
from automl.families import FAMILIES

from ._param import Param

ENTRY_KEYS = ("model", "params", "prep")


def check_portfolio(doc: Any, parsed: dict, blocks: dict[str, tuple], problems: list[str]) -> dict:
    """Validate the ``portfolio`` mapping against the parsed space; entries per task block."""
    out: dict[str, list[dict]] = {block: [] for block in blocks}
    if doc is None:
        return out
    if not isinstance(doc, dict):
        problems.append(f"portfolio: must be a mapping with keys {', '.join(blocks)}")
        return out
    for block, entries in doc.items():
        if block not in blocks:
            problems.append(f"portfolio.{named(block)}: unknown key; allowed: {', '.join(blocks)}")
        elif not isinstance(entries, list):
            problems.append(f"portfolio.{block}: must be a list of entries")
        else:
            models = {f: ps for f, ps in {**parsed["models"], **parsed[block]["models"]}.items()
                      if any(FAMILIES[f].supports(task) for task in blocks[block])}
            prep = parsed["preprocessing"] + parsed[block]["preprocessing"]
            out[block] = [e for i, e in enumerate(entries)
                          if _entry(e, f"portfolio.{block}[{i}]", models, prep, problems)]
    return out


def _entry(entry: Any, path: str, models: dict[str, list[Param]], prep: list[Param],
           problems: list[str]) -> bool:
    before = len(problems)
    if not isinstance(entry, dict) or "model" not in entry:
        problems.append(f"{path}: must be a mapping with 'model' (and 'params', 'prep')")
        return False
    for key in entry:
        if key not in ENTRY_KEYS:
            problems.append(f"{path}.{named(key)}: unknown key; allowed: {', '.join(ENTRY_KEYS)}")
    family = entry["model"]
    if not isinstance(family, str) or family not in models:  # a list is not even a lookup key
        problems.append(f"{path}.model: {shown(family)} is not a family of this space; "
                        f"choose one of {', '.join(models)}")
        return False
    _values(entry.get("params"), models[family], f"{path}.params", problems)
    _values(entry.get("prep"), prep, f"{path}.prep", problems)
    return len(problems) == before


def _values(values: Any, params: list[Param], path: str, problems: list[str]) -> None:
    if values is None:
        return
    if not isinstance(values, dict):
        problems.append(f"{path}: must be a mapping of parameter -> value")
        return
    searched = {p.name: p for p in params if p.type != "fixed"}
    for name, value in values.items():
        p = searched.get(name)
        if p is None:
            problems.append(f"{path}.{named(name)}: not a searched parameter of the space; "
                            f"allowed: {', '.join(sorted(searched)) or 'none'}")
        elif not _inside(p, value):
            allowed = shown(list(p.choices)) if p.type == "categorical" else f"[{p.low}, {p.high}]"
            problems.append(f"{path}.{name}: {shown(value)} is outside the space; allowed: {allowed}")


def _inside(p: Param, value: Any) -> bool:
    if p.type == "categorical":
        return value in p.choices
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if p.type == "int" and float(value) != int(value):
        return False
    return p.low <= value <= p.high
