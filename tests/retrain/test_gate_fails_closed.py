"""The gate fails closed: only a champion that needs columns the new data lacks is passed over
without a comparison; any other failure to score it is an error that leaves the alias alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.config import ExperimentConfig
from automl.data import RowPrints, row_hashes
from automl.errors import GateError
from automl.metrics import Predictions, get_metric
from automl.retrain import Champion, Gate, Rules
from automl.split import Split


class Broken:
    """A champion that loads but cannot predict (a corrupt or incompatible model)."""

    classes_ = ["a", "b"]

    def predict_proba(self, X):
        raise RuntimeError("corrupt booster")

    def predict(self, X):
        raise RuntimeError("corrupt booster")


def _case(columns: list[str]):
    n = 8
    X = pd.DataFrame({c: np.arange(n) / 10 for c in columns})
    y = pd.Series(["a", "b"] * (n // 2))
    kinds = {c: "numeric" for c in columns}
    table = row_hashes(X, y, kinds, "binary", "s" * 16)
    split = Split(X.iloc[:4], y.iloc[:4], X.iloc[4:], y.iloc[4:], None, "t", np.arange(4), np.arange(4, n))
    prints = RowPrints("s" * 16, kinds, table, table[4:])
    data = type("Data", (), {"task": "binary"})()
    pred = Predictions(np.array(["a", "b"] * 2), np.tile([[0.4, 0.6]], (4, 1)), np.array(["a", "b"]))
    return data, split, prints, pred


def _gate() -> Gate:
    schema = {"columns": [{"name": "x", "kind": "numeric"}, {"name": "z", "kind": "numeric"}],
              "training_rows": {"salt": "s" * 16, "columns": {"x": "numeric", "z": "numeric"}, "task": "binary"}}
    champion = Champion(3, Broken(), schema, {}, rows=np.array([1, 2], dtype=np.uint64))
    return Gate(ExperimentConfig(register_model="m"), champion, rules=Rules(min_rows=1))


def test_a_champion_that_fails_to_score_is_an_error_not_a_promotion():
    data, split, prints, pred = _case(["x", "z"])
    with pytest.raises(GateError, match=r"champion v3 of 'm' failed to score .*corrupt booster.*not moved"):
        _gate().decide(data, split, prints, get_metric("binary", "roc_auc"), pred, {"roc_auc": 0.9}, 0.9)


def test_only_missing_columns_promote_without_a_comparison():
    data, split, prints, pred = _case(["x"])
    decision = _gate().decide(data, split, prints, get_metric("binary", "roc_auc"), pred, {"roc_auc": 0.9}, 0.9)
    assert decision.promote and decision.champion_score is None
    assert decision.reason == "champion cannot score the new data: it needs z, which the new data lacks"
