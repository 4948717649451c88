"""Cheap, strong first trials: a run ends with a model even when its budget is tiny.

A fresh study starts with the families below that its space has, each with good defaults (clipped
into the space's ranges): a regularised linear model (well under a second on most tables) and a
small boosted-tree model (LightGBM with early stopping, and histogram gradient boosting). TPE goes
on from there.
"""

from __future__ import annotations

import inspect
from typing import Any

from automl.families import FAMILIES
from automl.preprocess import PREP_DEFAULTS

from ._param import Param, SearchSpace

# In the order they run; a value the space does not allow is replaced by the nearest it does.
BASELINES: dict[str, dict[str, Any]] = {
    "logistic": {"penalty": "l2", "C": 1.0},
    "linear": {"penalty": "l2", "alpha": 1.0},
    "lightgbm": {"learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20,
                 "colsample_bytree": 1.0, "subsample": 1.0, "reg_lambda": 0.0},
    "hist_gradient_boosting": {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31,
                               "min_samples_leaf": 20, "l2_regularization": 0.0},
}


def baseline_trials(space: SearchSpace) -> list[dict[str, Any]]:
    """Optuna parameters (``model``, ``<family>.<param>``, ``prep.<param>``) of each baseline
    family the space has, to enqueue first."""
    prep = _values(space.preprocessing, PREP_DEFAULTS, {}, "prep")
    trials = []
    for family, preferred in BASELINES.items():
        if family in space.models:
            defaults = _estimator_defaults(family, space.task)
            trials.append({"model": family,
                           **_values(space.models[family], preferred, defaults, family), **prep})
    return trials


def portfolio_trials(space: SearchSpace) -> list[dict[str, Any]]:
    """Optuna parameters of the space's portfolio entries, in their order; what an entry leaves
    out is the estimator's default, clipped into the space."""
    trials = []
    for entry in space.portfolio:
        family = entry["model"]
        prep = _values(space.preprocessing, entry.get("prep") or {}, PREP_DEFAULTS, "prep")
        model = _values(space.models[family], entry.get("params") or {},
                        _estimator_defaults(family, space.task), family)
        trials.append({"model": family, **model, **prep})
    return trials


def _estimator_defaults(family: str, task: str) -> dict[str, Any]:
    params = inspect.signature(FAMILIES[family].factory(task)).parameters
    return {name: p.default for name, p in params.items() if p.default is not inspect.Parameter.empty}


def _values(params: list[Param], preferred: dict[str, Any], defaults: dict[str, Any],
            prefix: str) -> dict[str, Any]:
    """A value for each searched parameter whose ``when`` holds, under Optuna's names."""
    chosen: dict[str, Any] = {}
    for p in params:
        if p.type == "fixed":
            chosen[p.name] = p.value
            continue
        if not all(chosen.get(k) in allowed for k, allowed in p.when.items()):
            continue
        chosen[p.name] = _fit(p, [preferred.get(p.name), defaults.get(p.name)])
    return {f"{prefix}.{p.name}": chosen[p.name] for p in params
            if p.type != "fixed" and p.name in chosen}


def _fit(p: Param, candidates: list[Any]) -> Any:
    """The first candidate the parameter allows; else the nearest allowed value."""
    if p.type == "categorical":
        return next((c for c in candidates if c is not None and c in p.choices), p.choices[0])
    numbers = [c for c in candidates if isinstance(c, (int, float)) and not isinstance(c, bool)]
    inside = [c for c in numbers if p.low <= c <= p.high]
    value = inside[0] if inside else min(max(numbers[0], p.low), p.high) if numbers else \
        (p.low * p.high) ** 0.5 if p.log else (p.low + p.high) / 2
    if p.type == "int":
        step = p.step or 1
        return int(p.low + round((value - p.low) / step) * step)
    if p.step:
        return p.low + round((value - p.low) / p.step) * p.step
    return float(value)
