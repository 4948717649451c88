"""The model card: on the registered version (its description) and as model_card.md, with what
a reviewer needs to judge the model, every statement read from the run."""

from __future__ import annotations

import pandas as pd
import pytest

from automl.artifacts import model_card
from automl.data import Dataset
from automl.split import Split

SECTIONS = ("## Intended use", "## Training data", "## Performance", "## How it was chosen",
            "## Strongest columns", "## Known limits")


def test_a_registered_version_carries_the_card(config, workdir):
    mlflow = pytest.importorskip("mlflow")
    from automl.run import run_experiment

    summary = run_experiment(config(tracking=True, register_model="card-model", study_name="carded"))
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}")
    description = client.get_model_version("card-model", summary["registered_version"]).description
    assert description.startswith("# Model card: card-model")
    assert all(s in description for s in SECTIONS)
    assert f"{summary['best_cv_score']:.4g}" in description  # the CV score it was chosen by
    assert summary["data_fingerprint"] in description
    local = workdir / "mlruns" / "models" / "carded" / "model_card.md"
    assert local.read_text() == description
    logged = client.download_artifacts(summary["mlflow_run_id"], "model_card.md", str(workdir / "dl"))
    assert open(logged).read() == description


def _facts(**extra) -> dict:
    facts = {"name": "m", "version": "0", "study": "s", "seed": 0, "data": "t.csv", "data_fingerprint": "f",
             "metric": "rmse", "space": "default.yaml", "time_column": None,
             "test_metrics": {"rmse": 1.0}, "test_rows": 50, "cv": {"score": 1.1, "std": 0.1, "folds": 5},
             "ensemble_cv": None, "n_trials": {"COMPLETE": 3}, "final_model": "trial 1 (knn)",
             "importance": None, "selection_rule": "best", "selection_reason": None}
    return {**facts, **extra}


def _split(X: pd.DataFrame, y: pd.Series, test: int) -> Split:
    return Split(X.iloc[test:], y.iloc[test:], X.iloc[:test], y.iloc[:test], None, "tf")


def test_limits_name_rare_classes_small_tests_and_ranges(rng):
    X = pd.DataFrame({"size": rng.uniform(1, 9, 200), "when": pd.date_range("2024-01-01", periods=200)})
    y = pd.Series(["common"] * 190 + ["rare"] * 10, name="kind")
    data = Dataset(X, y, "t", "binary", ["size"], [], ["when"])
    card = model_card(_facts(metric="roc_auc", time_column="when"), data, _split(X, y, 40))
    assert "`rare` (10)" in card and "the test set has 40 rows" in card
    train = X["size"].iloc[40:]
    assert f"`size` {train.min():.4g} to {train.max():.4g}" in card
    assert "period: `when` from 2024-02-10" in card  # the training rows' period (the first 40 are test)


def test_a_regression_card_states_the_target_range_and_the_refit(rng):
    X = pd.DataFrame({"x": rng.normal(size=300)})
    y = pd.Series(3 * X["x"] + 10, name="price")
    data = Dataset(X, y, "t", "regression", ["x"], [], [])
    card = model_card(_facts(refit_full_rows=300), data, _split(X, y, 60))
    low, high = y.iloc[60:].min(), y.iloc[60:].max()
    assert f"trained on `price` from {low:.4g} to {high:.4g}" in card
    assert "refit on all 300 rows" in card and "fitted on the training rows only" in card
    assert "## Strongest columns" not in card  # no importance computed: no section, no invention
