"""A trial's configuration as a value: enough to rebuild its pipeline from scratch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from automl.families import build_estimator
from automl.preprocess import build_pipeline

from . import _attrs


@dataclass
class TrialSpec:
    """Family, model parameters (fixed ones included) and preprocessing parameters."""

    family: str
    model_params: dict[str, Any]
    prep_params: dict[str, Any]

    def build(self, task: str, columns, seed: int):
        """A fresh, unfitted pipeline: preprocessing then the estimator."""
        estimator = build_estimator(self.family, task, self.model_params, seed)
        return build_pipeline(columns, self.prep_params, estimator)

    def flat_params(self) -> dict[str, Any]:
        """Family, its parameters (fixed ones included) and preprocessing, under Optuna's names."""
        return {"model": self.family,
                **{f"{self.family}.{k}": v for k, v in self.model_params.items()},
                **{f"prep.{k}": v for k, v in self.prep_params.items()}}

    def record(self, trial) -> None:
        _attrs.record_spec(trial, self.family, self.model_params, self.prep_params)

    @classmethod
    def from_trial(cls, trial) -> "TrialSpec":
        return cls(*_attrs.spec_parts(trial))
