"""automl.tracking's final log: the types skops must trust, found without dumping the whole model."""

from __future__ import annotations

import pandas as pd
import pytest
import skops.io

from automl._trust import named_types, read_schema
from automl.evaluate import build_ensemble
from automl.families import FAMILIES, build_estimator
from automl.preprocess import build_pipeline
from automl.tracking._final import _trusted_types


@pytest.fixture(scope="module")
def table():
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["colour"] = ["red", "green", "blue"] * 50
    frame["when"] = pd.date_range("2024-01-01", periods=150).astype(str)
    return frame.drop(columns="target"), frame["target"].map({0: "a", 1: "b", 2: "c"})


def _fitted(family, X, y):
    columns = ([c for c in X.columns if c not in ("colour", "when")], ["colour"], ["when"])
    params = {"n_estimators": 20} if family in ("random_forest", "extra_trees") else {}
    if family == "gd":
        params = {"max_epochs": 5}
    return build_pipeline(columns, {}, build_estimator(family, "multiclass", params, 0)).fit(X, y)


def _named(model) -> list[str]:
    """Every type the whole model's skops file builds from a name."""
    return named_types(read_schema(skops.io.dumps(model), "model"))


@pytest.mark.parametrize("family", sorted(f for f in FAMILIES if FAMILIES[f].supports("multiclass")))
def test_the_stand_in_has_exactly_the_models_types(table, family):
    X, y = table
    model = _fitted(family, X, y)
    assert _trusted_types(model) == _named(model)


def test_an_ensembles_members_keep_their_own_types(table):
    X, y = table
    columns = ([c for c in X.columns if c not in ("colour", "when")], ["colour"], ["when"])
    members = [(f"m{i}", build_pipeline(columns, {}, build_estimator(f, "multiclass", {}, 0)), 0.5)
               for i, f in enumerate(("hist_gradient_boosting", "gd"))]
    model = build_ensemble(members, "multiclass").fit(X, y)
    trusted = _trusted_types(model)
    assert trusted == _named(model)
    assert any("GDClassifier" in t for t in trusted)


def test_a_model_automl_would_refuse_to_load_is_not_logged():
    """The log checks the model against what automl loads back: a model holding anything else
    (here a function no model of automl's holds) fails before MLflow writes any of it."""
    import os

    from sklearn.preprocessing import FunctionTransformer

    from automl.errors import TrackingError

    with pytest.raises(TrackingError, match=r"holds types automl does not load back \((posix|nt)\.system"):
        _trusted_types(FunctionTransformer(func=os.system))
