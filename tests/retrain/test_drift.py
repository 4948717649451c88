"""drift: profiles, population stability index, and the schema differences a retrain refuses."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from automl.artifacts import profile
from automl.retrain import PSI_WARN, drift, psi, schema_problems


@pytest.fixture
def table(rng):
    n = 2000
    X = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n),
                      "when": pd.date_range("2020-01-01", periods=n, freq="h").astype(str)})
    y = pd.Series(rng.choice(["a", "b"], n), name="label")
    return X, y


KINDS = {"x": "numeric", "colour": "categorical", "when": "datetime"}


def _schema(**changes):
    base = {"task": "binary", "classes": ["a", "b"], "n_train_rows": 100,
            "columns": [{"name": "x", "dtype": "float64", "kind": "numeric"},
                        {"name": "colour", "dtype": "object", "kind": "categorical"}]}
    return {**base, **changes}


def test_psi_of_identical_shares_is_zero():
    shares = np.array([0.1, 0.2, 0.3, 0.4])
    assert psi(shares, shares) == 0.0


def test_psi_handles_empty_bins():
    assert np.isfinite(psi([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]))


def test_same_distribution_has_no_drift(table, rng):
    X, y = table
    ref = profile(X, y, KINDS, "binary")
    fresh = pd.DataFrame({"x": rng.normal(size=2000), "colour": rng.choice(["red", "green", "blue"], 2000)})
    values = drift(ref, fresh, pd.Series(rng.choice(["a", "b"], 2000)))
    assert set(values) == {"x", "colour", "target"}  # datetime columns are not profiled
    assert all(v < 0.05 for v in values.values()), values


def test_drift_on_itself_is_zero(table):
    X, y = table
    values = drift(profile(X, y, KINDS, "binary"), X, y)
    assert values == pytest.approx({"x": 0.0, "colour": 0.0, "target": 0.0}, abs=1e-12)


@pytest.mark.parametrize("column, change", [
    ("x", lambda s: s + 1.5),
    ("colour", lambda s: s.where(s != "red", "blue")),
])
def test_shifted_column_passes_the_warning_threshold(table, column, change):
    X, y = table
    ref = profile(X, y, KINDS, "binary")
    values = drift(ref, X.assign(**{column: change(X[column])}), y)
    assert values[column] > PSI_WARN
    assert all(v < 1e-9 for c, v in values.items() if c != column)


def test_target_shift_is_measured(table):
    X, y = table
    ref = profile(X, y, KINDS, "binary")
    assert drift(ref, X, pd.Series(np.where(np.arange(len(y)) % 10 == 0, "a", "b")))["target"] > PSI_WARN


def test_regression_target_profiled_as_numbers(table, rng):
    X, _ = table
    y = pd.Series(rng.normal(size=len(X)))
    ref = profile(X, y, KINDS, "regression")
    assert ref["target"]["kind"] == "numeric"
    assert drift(ref, X, y * 3 + 2)["target"] > PSI_WARN


def test_constant_and_empty_numeric_columns():
    X = pd.DataFrame({"c": [1.0] * 50, "e": [np.nan] * 50})
    y = pd.Series(["a", "b"] * 25)
    ref = profile(X, y, {"c": "numeric", "e": "numeric"}, "binary")
    values = drift(ref, X, y)
    assert values["c"] == pytest.approx(0.0) and np.isfinite(values["e"])


def test_unchanged_schema_has_no_problems():
    assert schema_problems(_schema(), _schema()) == []


@pytest.mark.parametrize("new, message", [
    (_schema(columns=[{"name": "x", "dtype": "float64", "kind": "numeric"}]),
     r"^missing columns \['colour'\]$"),
    (_schema(columns=_schema()["columns"] + [{"name": "z", "dtype": "int64", "kind": "numeric"}]),
     r"^new columns \['z'\]$"),
    (_schema(columns=[{"name": "x", "dtype": "object", "kind": "categorical"},
                      {"name": "colour", "dtype": "object", "kind": "categorical"}]),
     r"^changed column types \['x \(numeric float64 -> categorical object\)'\]$"),
    (_schema(classes=["a", "b", "c"]), r"^new target classes \['c'\]$"),
    (_schema(n_train_rows=49), r"^rows dropped sharply \(49 training rows, champion had 100\)$"),
])
def test_schema_problem_messages(new, message):
    problems = schema_problems(_schema(), new)
    assert len(problems) == 1 and re.search(message, problems[0]), problems


def test_vanished_class_and_task_change_both_reported():
    problems = schema_problems(_schema(), _schema(task="multiclass", classes=["a"]))
    assert problems == ["task changed from binary to multiclass", "vanished target classes ['b']"]


def test_dtype_change_within_a_kind_is_accepted():
    # int64 -> float64 (a missing value appeared) is still a number for the pipeline.
    new = _schema(columns=[{"name": "x", "dtype": "int64", "kind": "numeric"}, _schema()["columns"][1]])
    assert schema_problems(_schema(), new) == []


def test_half_the_rows_is_still_accepted():
    assert schema_problems(_schema(), _schema(n_train_rows=50)) == []
