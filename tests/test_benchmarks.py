"""The benchmarks' own rules: reserved data sets are refused, and the portfolio's greedy
selection picks what lowers the mean best error."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _tables  # noqa: E402  (benchmarks/_tables.py: the public tables, reserved ones refused)
import _baseline  # noqa: E402
import _harness  # noqa: E402
import learn_portfolio  # noqa: E402


@pytest.mark.parametrize("name", ["Titanic", "titanic3", "BostonHousing2", "credit-g", "kr_vs_kp",
                                  "mlc_churn", "CPS1988", "segmentationData", "concrete", "Vehicle"])
def test_reserved_data_sets_are_refused(name):
    with pytest.raises(ValueError):
        _tables.check_not_reserved(name, "anything")


def test_no_registered_table_is_reserved_and_every_task_has_ten():
    tasks = [t.task for t in _tables.TABLES.values()]
    assert all(tasks.count(task) >= 10 for task in ("binary", "multiclass", "regression"))
    for name in _tables.TABLES:
        _tables.check_not_reserved(name, "")


def test_normalised_errors_are_zero_at_the_best_and_one_at_the_median():
    row = [{"score": s, "maximize": True} for s in (0.9, 0.8, 0.7)] + [{"score": None}]
    errors = learn_portfolio.normalised_errors([row])
    assert errors[0, :3].tolist() == pytest.approx([0.0, 1.0, 2.0]) and errors[0, 3] == learn_portfolio.CAP


def test_greedy_picks_complementary_candidates():
    # Candidate 0 is good everywhere, 1 best on table A only, 2 best on table B only.
    errors = np.array([[0.5, 0.0, 3.0],
                       [0.5, 3.0, 0.0]])
    assert learn_portfolio.greedy(errors, 1) == [0]
    assert sorted(learn_portfolio.greedy(errors, 3)[1:]) == [1, 2]


def test_greedy_starts_from_what_runs_anyway():
    # Candidate 0 (a baseline) already covers table A, so the pick is the one best on table B.
    errors = np.array([[0.0, 0.0, 3.0, 1.0],
                       [3.0, 3.0, 0.0, 1.0]])
    assert learn_portfolio.greedy(errors, 1) == [3]  # from empty: good on both
    assert learn_portfolio.greedy(errors, 1, start=(0,)) == [2]
    assert 0 not in learn_portfolio.greedy(errors, 3, start=(0,))


def test_greedy_breaks_ties_by_the_error_on_its_own():
    # After candidate 0 covers both tables every gain is 0; candidate 2 is the better one alone.
    errors = np.array([[0.0, 4.0, 1.0],
                       [0.0, 4.0, 1.0]])
    assert learn_portfolio.greedy(errors, 2) == [0, 2]


def test_a_candidate_that_does_not_return_is_killed_and_counted_as_failed(monkeypatch):
    """The stand-in is a fit that ignores every time limit, as libsvm does."""
    import time

    monkeypatch.setattr(learn_portfolio, "GRACE", 0.5)
    monkeypatch.setattr(learn_portfolio, "_cv", lambda *args: time.sleep(600))
    result = learn_portfolio._killable_cv({}, None, None, [], 0.1)
    assert result["score"] is None and result["error"].startswith("killed after")
    monkeypatch.setattr(learn_portfolio, "_cv", lambda *args: {"score": 0.5, "fit_s": 0.1})
    assert learn_portfolio._killable_cv({}, None, None, [], 0.1) == {"score": 0.5, "fit_s": 0.1}


def test_a_checkout_is_the_commit_s_code_and_is_removed_after(tmp_path):
    with _harness.checkouts({"new": "HEAD"}, tmp_path) as code:
        assert (code["new"] / "automl" / "__init__.py").is_file()
        result = _harness.run_automl(code["new"], ["--help"], tmp_path / "work", kill_after=120)
        assert result["code"] == 0 and not result["killed"], result["stderr"]
    assert not code["new"].exists()


def test_a_run_of_other_code_never_reports_to_the_caller_s_tracking_server(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example.invalid")
    env = _harness.automl_env(tmp_path)
    assert "MLFLOW_TRACKING_URI" not in env and env["PYTHONPATH"] == str(tmp_path)


@pytest.mark.parametrize("families, task, scoring", [("fast", "multiclass", "neg_log_loss"),
                                                      ("default", "regression", "neg_root_mean_squared_error")])
def test_the_one_baseline_searches_each_family_set_and_its_best_refits(families, task, scoring):
    import optuna
    from sklearn.datasets import load_diabetes, load_iris

    X, y = (load_iris if task == "multiclass" else load_diabetes)(return_X_y=True, as_frame=True)
    X, y = X.iloc[::3], y.iloc[::3]  # a few rows: the loop, not the models, is under test
    study = _baseline.search(X, y, task, scoring, families, folds=2, n_trials=2, n_jobs=1)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    names = {"knn", "decision_tree", "logistic", "naive_bayes"} if families == "fast" \
        else {"linear", "random_forest", "hist_gb"}
    assert {t.params["model"] for t in study.trials} <= names
    best = _baseline.pipeline(X, optuna.trial.FixedTrial(study.best_params), task, families).fit(X, y)
    assert len(best.predict(X)) == len(y)
