"""Trials read for the time plan: costs from the attributes the objective wrote, best first."""

from __future__ import annotations

import optuna

from automl.plan import TrialCost
from automl.trial import attrs, cost_of, top_costs, top_trials


def _trial(value: float, fit_time: float, folds: int = 5, **folds_attrs):
    return optuna.trial.create_trial(value=value, params={}, distributions={}, user_attrs={
        attrs.FOLDS: {attrs.FIT_TIME: fit_time, attrs.FOLD_SCORES: [value] * folds, **folds_attrs}})


def _study(direction: str, trials) -> optuna.Study:
    study = optuna.create_study(direction=direction)
    for trial in trials:
        study.add_trial(trial)
    return study


def test_a_trial_s_cost_is_what_its_folds_measured():
    study = _study("maximize", [_trial(0.9, 10.0, folds=4, **{attrs.PREDICT_RATE: 1e-4, attrs.PARTS: 120,
                                                               attrs.MODEL_BYTES: 5000})])
    assert cost_of(study.trials[0]) == TrialCost(0, 10.0, 4, 1e-4, 120, 5000)


def test_a_trial_written_before_costs_were_recorded_costs_nothing_but_its_folds():
    legacy = optuna.trial.create_trial(value=0.5, params={}, distributions={},
                                       user_attrs={attrs.FIT_TIME: 3.0, attrs.FOLD_SCORES: [0.5] * 3})
    study = _study("maximize", [legacy])
    assert cost_of(study.trials[0]) == TrialCost(0, 3.0, 3, 0.0, 0, 0)


def test_the_best_trials_come_first_in_the_study_s_direction():
    trials = [_trial(v, t) for v, t in ((0.9, 2.0), (0.8, 8.0), (0.7, 16.0), (0.6, 400.0))]
    maximize, minimize = _study("maximize", trials), _study("minimize", trials)
    assert [t.number for t in top_trials(maximize, 3)] == [0, 1, 2]
    assert [c.fit_s for c in top_costs(minimize, 3)] == [400.0, 16.0, 8.0]
    assert [t.number for t in top_trials(minimize, 1)] == [3]
    assert top_costs(_study("maximize", []), 3) == [] and top_trials(_study("maximize", []), 1) == []


def test_ties_rank_the_earlier_trial_first_and_unfinished_trials_are_left_out():
    study = _study("maximize", [_trial(0.8, 1.0), _trial(0.9, 2.0), _trial(0.9, 3.0)])
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED, params={}, distributions={}))
    assert [t.number for t in top_trials(study, 5)] == [1, 2, 0]
