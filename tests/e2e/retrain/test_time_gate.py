"""With a time column, the gate compares only on rows newer than the champion's newest.

A daily table with a date column (real SQLite MLflow and Optuna stores):

1. days 0-1,999 with 80 of the days 1,600-1,999 missing (not yet delivered): first model, v1,
   refit on every row it was given.
2. the same days with the 80 late rows back-filled: the test part is the newest 400 days; the
   80 back-filled rows are new to v1, but older than its newest row, so they are no fair test of a
   model of a time series -> nothing to compare on, and the rule (keep) decides.
3. days 0-2,999: the newest 600 days are newer than anything v1 saw -> compared on them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from automl.cli import app
from automl.data import prepare

pytest.importorskip("mlflow")

LINEAR = "models:\n  logistic:\n    C: 1.0\n"
LATE = np.arange(1_600, 2_000, 5)  # 80 days delivered late


def _days(n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(n, 4))
    y = (X @ np.array([1.0, -0.7, 0.5, 0.0]) + rng.normal(scale=1.2, size=n) > 0).astype(int)
    day = pd.Timestamp("2019-01-01") + pd.to_timedelta(np.arange(n), unit="D")
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).assign(day=day.strftime("%Y-%m-%d"), target=y)


def _retrain(work: Path, table: pd.DataFrame, name: str) -> dict:
    data, space = work / f"{name}.csv", work / "linear.yaml"
    # Shuffled on disk: the time column, not the file's order, says which rows are newest.
    table.sample(frac=1.0, random_state=0).to_csv(data, index=False)
    space.write_text(LINEAR)
    config = work / "daily.yaml"
    config.write_text("time_column: day\n")  # a setting of the experiment file, not a flag
    result = CliRunner().invoke(app, [
        "retrain", "--config", str(config), "--data", str(data), "--target", "target",
        "--register-model", "daily", "--workdir", str(work), "--space", str(space), "--n-trials", "2",
        "--cv", "3", "--n-jobs", "1", "--seed", "0", "--quiet", "--summary-json", str(work / f"{name}.json")])
    assert result.exit_code == 0, (name, result.stderr, result.exception)
    return json.loads((work / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    work = tmp_path_factory.mktemp("daily")
    table = _days()
    with pytest.MonkeyPatch.context() as env:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            env.delenv(name, raising=False)
        first = _retrain(work, table.iloc[:2_000].drop(index=LATE), "day1")
        late = _retrain(work, table.iloc[:2_000], "backfilled")
        newer = _retrain(work, table, "newer")
    return first, late, newer


def test_back_filled_rows_older_than_the_champion_are_not_compared_on(days):
    first, late, _ = days
    assert first["decision"] == "promoted"
    compared = late["comparison"]
    assert late["decision"] == "kept_champion", late["reason"]
    assert compared["seen_by_champion"] == 400 - 80 and compared["not_newer_than_champion"] == 400
    assert compared["rows"] == 0 and "not newer than the champion's newest training row" in late["reason"]


def test_rows_after_the_champion_are_compared_on(days):
    _, _, newer = days
    compared = newer["comparison"]
    assert compared["test_rows"] == 600 and compared["not_newer_than_champion"] == 0
    assert compared["rows"] == 600 and compared["low"] is not None
    assert "newer than the champion's newest training row" in compared["basis"]


def test_times_are_kept_in_time_order_as_numbers():
    frame = pd.DataFrame({"t": ["2024-01-03T00:00:00+01:00", "2024-01-01T01:00:00+01:00",
                                "2024-01-02T13:00:00+01:00"],
                          "x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    data = prepare(frame, "y", "binary", "src", time_column="t")
    assert data.X["x"].tolist() == [2.0, 3.0, 1.0]
    assert data.time_kind == "instant"
    hours = (data.times - data.times[0]) / 3600
    assert hours.tolist() == [0.0, 36.0, 47.0]  # 23:00 UTC on the 2nd is 47 hours after midnight UTC on the 1st
    numbers = prepare(frame.assign(t=[3.5, 1.0, 2.0]), "y", "binary", "src", time_column="t")
    assert numbers.times.tolist() == [1.0, 2.0, 3.5] and numbers.time_kind == "number"


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_times_outside_the_nanosecond_range_keep_their_order(unit):
    """A year 1500 or 2500 placeholder is older or newer than today, not wrapped around."""
    stamps = pd.Series(np.array(["2024-01-01", "1500-06-01", "2500-01-01", "2023-01-01"], dtype=f"datetime64[{unit}]"))
    frame = pd.DataFrame({"t": stamps, "x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    data = prepare(frame, "y", "binary", "src", time_column="t")
    assert data.X["x"].tolist() == [2.0, 4.0, 1.0, 3.0]
    assert np.all(np.diff(data.times) > 0) and data.times[0] < -1.4e10 < 1.6e10 < data.times[-1]
