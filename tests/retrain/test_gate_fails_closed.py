"""The gate fails closed: only a champion that needs columns the new data lacks is passed over
without a comparison; any other failure to score it is an error that leaves the alias alone."""

from __future__ import annotations

import pandas as pd
import pytest

from automl.config import ExperimentConfig
from automl.errors import GateError
from automl.metrics import get_metric
from automl.retrain import Champion, Gate
from automl.split import Split


class Broken:
    """A champion that loads but cannot predict (a corrupt or incompatible model)."""

    classes_ = ["a", "b"]

    def predict_proba(self, X):
        raise RuntimeError("corrupt booster")

    def predict(self, X):
        raise RuntimeError("corrupt booster")


def _split(columns: list[str]) -> Split:
    X = pd.DataFrame({c: [0.1, 0.2, 0.3, 0.4] for c in columns})
    y = pd.Series(["a", "b", "a", "b"])
    return Split(X, y, X, y, None, "t")


def _gate() -> Gate:
    schema = {"columns": [{"name": "x", "kind": "numeric"}, {"name": "z", "kind": "numeric"}]}
    return Gate(ExperimentConfig(register_model="m"), Champion(3, Broken(), schema, {}))


def test_a_champion_that_fails_to_score_is_an_error_not_a_promotion():
    with pytest.raises(GateError, match=r"champion v3 of 'm' failed to score .*corrupt booster.*not moved"):
        _gate().decide(_split(["x", "z"]), get_metric("binary", "roc_auc"), {"roc_auc": 0.9})


def test_only_missing_columns_promote_without_a_comparison():
    decision = _gate().decide(_split(["x"]), get_metric("binary", "roc_auc"), {"roc_auc": 0.9})
    assert decision.promote and decision.champion_score is None
    assert decision.reason == "champion cannot score the new data: it needs z, which the new data lacks"
