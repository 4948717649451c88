"""The selection rule: the best CV score, or the cheapest trial within one standard error of it
(paired over the same folds)."""

from __future__ import annotations

import optuna
import pytest

from automl.evaluate import select
from automl.evaluate._select import shortfall


def _trial(number: int, folds: list[float], predict_rate: float, family: str = "knn", fit: float = 1.0):
    trial = optuna.trial.create_trial(value=sum(folds) / len(folds), user_attrs={
        "fold_scores": folds, "predict_s_per_row": predict_rate, "family": family, "fit_time_s": fit})
    trial.number = number
    return trial


def test_shortfall_is_paired_over_the_folds():
    # Every fold 0.01 behind: a certain shortfall (no spread), whatever the folds' difficulty.
    assert shortfall([0.9, 0.8, 0.7], [0.89, 0.79, 0.69], maximize=True) == pytest.approx((0.01, 0.0))
    # For an error, higher is worse: the same arithmetic, mirrored.
    mean, se = shortfall([1.0, 2.0, 3.0], [1.1, 1.9, 3.3], maximize=False)
    assert mean == pytest.approx(0.1) and se > 0  # (0.1 - 0.1 + 0.3) / 3


def test_simplest_takes_the_cheapest_trial_within_one_standard_error():
    best = _trial(0, [0.95, 0.90, 0.97, 0.92], predict_rate=1e-3, family="random_forest")
    close = _trial(1, [0.94, 0.91, 0.95, 0.92], predict_rate=1e-5, family="logistic")  # noisy, near
    cheap_but_worse = _trial(2, [0.90, 0.85, 0.92, 0.87], predict_rate=1e-6)  # 0.05 behind on every fold
    partial = _trial(3, [0.99], predict_rate=1e-7)  # not on the same folds: no paired comparison
    trials = [best, close, cheap_but_worse, partial]
    chosen = select(trials, best, "simplest", maximize=True)
    assert chosen.chosen_number == 1 and chosen.within == [0, 1]
    assert "trial 1 (logistic)" in chosen.reason and "within one standard error" in chosen.reason
    assert chosen.best["trial"] == 0 and chosen.chosen["predict_ms_per_1000_rows"] == pytest.approx(10.0)
    assert select(trials, best, "best", maximize=True).chosen_number == 0


def test_the_best_stays_when_it_is_the_cheapest_or_alone():
    best = _trial(0, [1.0, 1.2, 0.9], predict_rate=1e-6)  # an error: lower is better
    dearer = _trial(1, [1.01, 1.19, 0.92], predict_rate=1e-3)
    chosen = select([best, dearer], best, "simplest", maximize=False)
    assert chosen.chosen_number == 0 and chosen.within == [0, 1]
    assert "also the cheapest" in chosen.reason


def test_the_pareto_front_keeps_trials_no_other_beats_on_score_time_and_size():
    from automl.evaluate import pareto

    def trial(number, score, rate, size):
        t = optuna.trial.create_trial(value=score, user_attrs={
            "fold_scores": [score], "predict_s_per_row": rate, "model_bytes": size, "family": "f"})
        t.number = number
        return t

    trials = [trial(0, 0.95, 1e-3, 10_000),   # the best score: on the front
              trial(1, 0.93, 1e-5, 2_000),    # faster and smaller: on the front
              trial(2, 0.92, 1e-4, 5_000),    # beaten by 1 on all three
              trial(3, 0.93, 1e-5, 1_000)]    # as good and fast as 1, smaller: beats 1
    table = pareto(trials, maximize=True)
    assert list(table["trial"]) == [0, 1, 3, 2]  # best score first, ties by trial
    assert dict(zip(table["trial"], table["front"])) == {0: True, 1: False, 2: False, 3: True}
    assert table.set_index("trial").loc[3, "predict_ms_per_1000_rows"] == pytest.approx(10.0)
    error = pareto(trials, maximize=False)  # the same numbers as errors: 2 is now the best
    assert error["trial"].iloc[0] == 2 and bool(error.set_index("trial").loc[2, "front"])
