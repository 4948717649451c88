"""SHAP values in a whole run, when shap is installed (the suite turns it off elsewhere)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from automl.families import build_estimator
from automl.preprocess import build_pipeline


def test_shap_in_a_run_when_installed_and_why_not_when_out_of_time(config, monkeypatch, rng):
    pytest.importorskip("shap")
    from automl.evaluate import shap_importance
    from automl.run import run_experiment

    monkeypatch.delenv("AUTOML_SHAP")
    summary = run_experiment(config(data="demo:iris", n_trials=2, tracking=False))
    shap = summary["importance"]["shap"]
    assert shap["output"] == "probability of each class (mean over classes)"
    assert len(shap["top"]) == 4 and shap["top"][0]["column"].startswith("petal")
    page = Path(summary["report"]).read_text()
    assert "mean |SHAP|" in page and f"<td>{shap['top'][0]['column']}</td>" in page
    X = pd.DataFrame({"a": rng.normal(size=50)})
    model = build_pipeline((["a"], [], []), {}, build_estimator("linear", "regression", {}, 0)).fit(X, X["a"])
    why = shap_importance(model, X, X, seed=0, seconds=0.0)
    assert isinstance(why, str) and "do not fit the 0.0 s" in why
