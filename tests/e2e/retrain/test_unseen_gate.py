"""The gate decides on rows neither model learnt from, over a table that grows by appending.

One work folder (real SQLite MLflow and Optuna stores), a noisy table with a linear signal, and a
block of rows no retrain is ever given, to check each decision against:

1. rows 0-1,499, a space of deep trees (they memorise): first model, v1.
2. rows 0-1,999, the same space: an equal challenger -> kept. Its test rows hold no row v1 was
   fitted on (v1 was refit on all its 1,500 rows, and a test part drawn at random would be 3/4 of
   them).
3. rows 0-2,999, logistic regression: truly better -> promoted, although v1 is near-perfect on the
   rows it memorised (the old gate scored it on them and kept it).
4. rows 0-2,999 again: the champion was fitted on every row, nothing is unseen -> by the rule:
   ``keep`` keeps it, ``cv`` compares CV scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from automl.cli import app
from automl.data import read_rows_file
from automl.tracking import load_logged_model

mlflow = pytest.importorskip("mlflow")

MODEL = "grow"
TREES = "models:\n  decision_tree:\n    max_depth: 40\n"
LINEAR = "models:\n  logistic:\n    C: 1.0\n"


def _table(n: int = 4_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, 6))
    signal = X @ np.array([1.0, -0.8, 0.6, 0.0, 0.0, 0.3])
    y = (signal + rng.normal(scale=1.6, size=n) > 0).astype(int)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(target=y)


def _retrain(work: Path, rows: int, space: str, name: str, *extra: str) -> dict:
    data, spaces = work / f"rows{rows}.csv", work / f"{name}.yaml"
    _table().iloc[:rows].to_csv(data, index=False)
    spaces.write_text(space)
    result = CliRunner().invoke(app, [
        "retrain", "--data", str(data), "--target", "target", "--register-model", MODEL, "--workdir", str(work),
        "--space", str(spaces), "--n-trials", "2", "--cv", "3", "--n-jobs", "1", "--seed", "0", "--quiet",
        "--summary-json", str(work / f"{name}.json"), *extra])
    assert result.exit_code == 0, (name, result.stderr, result.exception)
    return json.loads((work / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    work = tmp_path_factory.mktemp("grow")
    with pytest.MonkeyPatch.context() as env:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            env.delenv(name, raising=False)
        return work, [_retrain(work, 1_500, TREES, "day1"), _retrain(work, 2_000, TREES, "day2"),
                      _retrain(work, 3_000, LINEAR, "day3"), _retrain(work, 3_000, LINEAR, "day4"),
                      _retrain(work, 3_000, LINEAR, "day4cv", "--too-few-unseen", "cv")]


def _never_seen_auc(work: Path, version: int) -> float:
    model = load_logged_model(f"models:/{MODEL}/{version}", f"sqlite:///{work}/mlruns/mlflow.db")
    rest = _table().iloc[3_000:]
    return roc_auc_score(rest["target"], model.predict_proba(rest.drop(columns="target"))[:, 1])


def test_an_equal_challenger_is_kept_on_rows_the_champion_never_saw(cycles):
    _, (first, equal, *_) = cycles
    assert first["decision"] == "promoted"
    assert equal["decision"] == "kept_champion", equal["reason"]
    compared = equal["comparison"]
    assert compared["seen_by_champion"] == 0 and compared["rows"] >= 350  # the 500 new rows, less repeats
    assert compared["low"] < 0 < compared["high"] or compared["high"] <= 0


def test_a_better_challenger_wins_against_a_champion_that_memorised(cycles):
    work, (_, _, better, *_) = cycles
    assert better["decision"] == "promoted", better["reason"]
    assert better["comparison"]["low"] > 0 and better["comparison"]["seen_by_champion"] == 0
    assert "neither model learnt from" in better["reason"]
    # The decision agrees with 1,000 rows no model was ever given.
    assert _never_seen_auc(work, better["registered_version"]) > _never_seen_auc(work, better["champion_version"])


def test_nothing_unseen_decides_by_the_rule(cycles):
    _, (*_, kept, by_cv) = cycles
    assert kept["decision"] == "kept_champion"
    assert kept["comparison"]["rows"] == 0 and kept["comparison"]["needed"] == 50
    assert "only 0 test rows unseen by both models" in kept["reason"] and "keep" in kept["reason"]
    assert "by CV (rule too_few_unseen=cv)" in by_cv["reason"]


def test_the_registry_version_shows_the_comparison(cycles):
    work, (_, _, better, *_) = cycles
    uri = f"sqlite:///{work}/mlruns/mlflow.db"
    tags = mlflow.MlflowClient(uri, uri).get_model_version(MODEL, str(better["registered_version"])).tags
    assert int(tags["automl.comparison_rows"]) == better["comparison"]["rows"]
    assert float(tags["automl.comparison_low"]) > 0


def test_the_model_records_every_row_it_was_fitted_on(cycles):
    work, summaries = cycles
    rows, _ = read_rows_file(Path(summaries[2]["model_path"]).parent / "training_rows.npz")
    assert len(rows) == len(np.unique(rows)) and len(rows) > 2_900  # refit on all 3,000 (less repeats)


def test_the_report_and_the_card_show_the_evidence(cycles, open_page):
    work, (_, _, better, kept, _) = cycles
    dom, console = open_page(work / "day3.report.html")
    assert console == [], console
    gate = dom[dom.index('<section id="retrain">'):]
    compared = better["comparison"]
    assert f"<td>{compared['rows']} of {compared['test_rows']} test rows (at least 50 needed)</td>" in gate
    assert "<td>left out: among the champion's training rows</td><td class=\"n\">0</td>" in gate
    assert f"{compared['low']:.4g} to {compared['high']:.4g} (paired bootstrap, 1000 resamples)" in gate
    card = (Path(better["model_path"]).parent / "model_card.md").read_text()
    assert f"compared on {compared['rows']} of {compared['test_rows']} test rows" in card
    dom, _ = open_page(work / "day4.report.html")
    assert "<td>decided by the rule</td><td>too_few_unseen=keep</td>" in dom
