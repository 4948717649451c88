"""A validated search space, and how it samples a trial (define-by-run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter: searched (``float``/``int``/``categorical``) or ``fixed`` to ``value``."""

    name: str
    type: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()
    value: Any = None
    when: dict[str, tuple] = field(default_factory=dict)

    def suggest(self, trial, prefix: str):
        name = f"{prefix}.{self.name}"
        if self.type == "fixed":
            return self.value
        if self.type == "categorical":
            return trial.suggest_categorical(name, list(self.choices))
        if self.type == "int":
            return trial.suggest_int(name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)


@dataclass
class SearchSpace:
    """A validated space for one task."""

    source: str
    task: str
    models: dict[str, list[Param]]
    preprocessing: list[Param]
    digest: str
    portfolio: list[dict] = field(default_factory=list)  # entries tried first (``_portfolio``)

    def suggest(self, trial) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Sample a family, its parameters and the preprocessing parameters for ``trial``."""
        family = trial.suggest_categorical("model", list(self.models))
        return family, _suggest_group(self.models[family], trial, family), \
            _suggest_group(self.preprocessing, trial, "prep")


def _suggest_group(params: list[Param], trial, prefix: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for p in params:
        if all(values.get(k, _MISSING) in allowed for k, allowed in p.when.items()):
            values[p.name] = p.suggest(trial, prefix)
    return values


_MISSING = object()
