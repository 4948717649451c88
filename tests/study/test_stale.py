"""Trials a dead process left RUNNING, found by a process alone on the study (join_study)."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from automl.study import join_study, make_storage


def _study_with_a_running_trial(tmp_path, journal: bool):
    url = f"journal://{tmp_path / 'journal.log'}" if journal else f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="shared", storage=make_storage(url))
    study.enqueue_trial({"x": 0.5})
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    return url, study, trial.number


@pytest.mark.parametrize("journal", [False, True])
def test_a_worker_alone_on_a_shared_study_retries_the_dead_workers_trial(tmp_path, journal):
    """A worker that joins just after another died finds its trial as the dead worker's peers
    would have: failed, and queued once more with the same parameters (the budget counts the
    retry instead)."""
    url, study, number = _study_with_a_running_trial(tmp_path, journal)
    presence, failed = join_study(url, study, retry=True)
    presence.leave()
    trials = study.get_trials(deepcopy=False)
    assert failed == 1 and trials[number].state == TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == number]
    assert [(t.state, t.params) for t in retries] == [(TrialState.WAITING, {"x": 0.5})]


def test_a_run_alone_fails_the_dead_runs_trial_without_a_retry(tmp_path):
    url, study, number = _study_with_a_running_trial(tmp_path, journal=False)
    presence, failed = join_study(url, study)
    presence.leave()
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert failed == 1 and states == [TrialState.FAIL]


def test_a_trial_the_heartbeat_check_failed_is_returned_with_its_retry(tmp_path):
    """Optuna's heartbeat check fails (and retries) a trial whose worker stopped beating; the
    trial is finished by then, so nothing more may be written on it."""
    import time

    from automl.study import fail_dead_workers
    from automl.study._storage import _heartbeat_storage

    storage = _heartbeat_storage(f"sqlite:///{tmp_path / 'beats.db'}", (1, 1))
    study = optuna.create_study(study_name="beats", storage=storage)
    trial = study.ask()
    storage.record_heartbeat(trial._trial_id)
    time.sleep(2.5)  # the worker stops beating: past the 1 s grace period
    failed = fail_dead_workers(study, grace=1.0, heartbeats=True)
    trials = study.get_trials(deepcopy=False)
    assert [t.number for t in failed] == [trial.number] and trials[trial.number].state == TrialState.FAIL
    assert [t.state for t in trials if t.system_attrs.get("failed_trial") == trial.number] == [TrialState.WAITING]
