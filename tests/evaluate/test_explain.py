"""Permutation importance ranks the columns the final model relies on, per original column, in
the time it is given."""

from __future__ import annotations


import pandas as pd
import pytest

from automl.evaluate import permutation_importance
from automl.evaluate._explain import MIN_REPEATS, REPEATS, SHUFFLED_PASS, _fit_to_time, _for_shuffles
from automl.metrics import get_metric
from automl.preprocess import build_pipeline
from automl.families import build_estimator


@pytest.fixture
def table(rng) -> tuple[pd.DataFrame, pd.Series]:
    n = 400
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n),
                      "colour": rng.choice(["red", "green", "blue"], n)})
    y = 3 * X["signal"] + (X["colour"] == "red") * 2 + rng.normal(scale=0.1, size=n)
    return X, y


@pytest.mark.parametrize("metric", ["rmse", "r2"])  # lower is better, higher is better
def test_the_column_the_target_depends_on_comes_first_whatever_the_metric_direction(table, metric):
    X, y = table
    model = build_pipeline((["signal", "noise"], ["colour"], []), {},
                           build_estimator("linear", "regression", {}, 0)).fit(X[:300], y[:300])
    result = permutation_importance(model, X[300:], y[300:], get_metric("regression", metric), seed=0)
    ranked = list(result.table["column"])
    # One row per original column: the one-hot columns of colour count as one.
    assert ranked == ["signal", "colour", "noise"]
    noise = result.table.set_index("column").loc["noise"]
    assert result.table["importance"].iloc[0] > 10 * abs(noise["importance"])
    assert result.repeats == REPEATS and result.rows == 100 and (result.table["std"] >= 0).all()
    assert result.top(2)[0]["column"] == "signal"


def test_repeats_then_rows_are_cut_to_fit_the_time():
    assert _fit_to_time(0.01, 10, 1000, None) == (REPEATS, 1000)
    assert _fit_to_time(0.01, 10, 1000, 10.0) == (REPEATS, 1000)  # 1000 passes: plenty
    assert _fit_to_time(0.01, 10, 1000, 0.3) == (3, 1000)  # 30 passes: 3 per column
    assert _fit_to_time(0.01, 10, 1000, 0.1) == (MIN_REPEATS, 500)  # 10 passes: half the rows
    assert _fit_to_time(0.01, 10, 1000, 0.001)[0] is None  # not even 100 rows twice


def test_the_shuffles_get_what_the_timed_pass_and_a_second_scoring_leave():
    """The timed pass is spent, a cut of the rows scores once more, and a shuffled pass costs more
    than a plain one: sized on ``seconds`` alone, 61 passes took 2.3 s where 1.8 s were given."""
    assert _for_shuffles(0.01, None) is None
    assert _for_shuffles(0.01, 0.32) == pytest.approx(0.3 / SHUFFLED_PASS)
    assert _for_shuffles(0.5, 0.8) == 0.0
    assert SHUFFLED_PASS > 1.0


def test_no_time_at_all_says_why_instead_of_guessing(table):
    X, y = table
    model = build_pipeline((["signal", "noise"], ["colour"], []), {},
                           build_estimator("linear", "regression", {}, 0)).fit(X, y)
    why = permutation_importance(model, X, y, get_metric("regression", "rmse"), seed=0, seconds=0.0)
    assert isinstance(why, str) and "do not fit the 0.0 s" in why


def test_shap_values_rank_original_columns_text_and_categories_included(table, rng):
    pytest.importorskip("shap")
    from automl.evaluate import shap_importance

    X, y = table
    model = build_pipeline((["signal", "noise"], ["colour"], []), {},
                           build_estimator("linear", "regression", {}, 0)).fit(X[:300], y[:300])
    result = shap_importance(model, X[300:], X[:300], seed=0, seconds=60.0)
    # Masked values come from training rows whatever their type: the category column is one
    # column, explained through the whole pipeline.
    assert list(result.table["column"]) == ["signal", "colour", "noise"]
    noise = result.table.set_index("column").loc["noise", "mean_abs_shap"]
    assert result.table["mean_abs_shap"].iloc[0] > 10 * noise
    summary = result.summary(2)
    assert summary["rows"] == 100 and summary["background"] == 30
    assert summary["output"] == "predicted value" and summary["top"][0]["column"] == "signal"


def test_shap_counts_its_start_in_a_process_against_the_time_left(monkeypatch, rng):
    # Importing shap and numba's compile of its masking code took 6-8 s on first use; timed only
    # per row, SHAP made a 60 s run end 8 s late.
    pytest.importorskip("shap")
    from automl.evaluate import _shap

    monkeypatch.setattr(_shap, "_started", False)
    X = pd.DataFrame({"a": rng.normal(size=50)})
    model = build_pipeline((["a"], [], []), {}, build_estimator("linear", "regression", {}, 0)).fit(X, X["a"])
    why = _shap.shap_importance(model, X, X, seed=0, seconds=_shap.START_S - 1)
    assert isinstance(why, str) and "start in a process" in why
    monkeypatch.setattr(_shap, "_started", True)  # started: the same seconds buy rows
    assert not isinstance(_shap.shap_importance(model, X, X, seed=0, seconds=_shap.START_S - 1), str)
