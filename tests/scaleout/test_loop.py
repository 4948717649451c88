"""A worker's loop: a stop wherever it lands leaves no trial of its own RUNNING."""

from __future__ import annotations

import contextlib

import optuna
import pytest
from optuna.trial import TrialState

from automl.scaleout import _claim, work


class _Tracker:
    def on_trial(self, study, trial):
        pass

    def kill_run(self, run_id, number):
        pass


def _study() -> optuna.Study:
    return optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))


def test_a_stop_between_claiming_a_trial_and_running_it_fails_that_trial(monkeypatch):
    # The moment after Optuna created the trial, before the objective holds it (naming the worker).
    def stopped_here(trial, worker):
        raise KeyboardInterrupt

    monkeypatch.setattr(_claim.attrs, "record_worker", stopped_here)
    study = _study()
    with pytest.raises(KeyboardInterrupt):
        work(study, lambda trial: 1.0, _Tracker(), contextlib.nullcontext, grace=60.0)
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_a_stop_inside_the_objective_fails_the_trial_and_earlier_ones_keep_their_result():
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return trial.suggest_float("x", 0, 1)

    study = _study()
    with pytest.raises(KeyboardInterrupt):
        work(study, objective, _Tracker(), contextlib.nullcontext, grace=60.0)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
