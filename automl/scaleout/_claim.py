"""Claiming trials: a global budget met exactly by many workers, and stale trials retried.

The engines do the hard parts: Optuna's RDB storage (heartbeats, retry of failed trials) or its
journal file; MLflow's tracking server. What we add is small:

- a *claim lock* (PostgreSQL advisory lock, or a file lock on one host) around "is budget left?
  then ask()", so a global ``n_trials`` is met exactly, never overshot by racing workers;
- stale-trial handling: trials whose worker died are failed (heartbeat grace period on RDB; a dead
  process id on this host for the journal) and retried once; their MLflow runs are closed KILLED;
- the study remembers the budget, the deadline, the config and the MLflow parent run, so every
  worker logs under the same parent and checks it has the same data (fingerprint guards).
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from automl.search import named_lock, retry_callback
from automl.trial import attrs

from ._heartbeat import heartbeat_enabled

IDLE_POLL_S = 1.0


def host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def claim_lock(storage: str, study_name: str, workdir: Path):
    """Mutual exclusion among every worker of ``study_name``, on any host the storage reaches."""
    with named_lock(storage, workdir, f"claim-{study_name}"):
        yield


def budget_used(trials) -> int:
    """Trials that count against the budget: every trial that ran or runs, except failures that
    were retried (their retry counts instead). Enqueued trials count once they start."""
    from optuna.trial import TrialState

    retried = attrs.retried_numbers(trials)
    return sum(1 for t in trials if t.state != TrialState.WAITING
               and not (t.state == TrialState.FAIL and t.number in retried))


def fail_stale(study, grace: float) -> list:
    """Fail (and retry once) trials whose worker is gone; return them.

    Gone means: no heartbeat within the grace period (RDB storages), a dead process on this host,
    or (a worker killed between ``ask`` and naming itself) no owner after the grace period.
    """
    import optuna
    from optuna.trial import TrialState

    running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    if not running:
        return []
    storage = study._storage
    if heartbeat_enabled(storage):
        optuna.storages.fail_stale_trials(study)  # heartbeat older than the grace period
    trials = study.get_trials(deepcopy=False)
    # Failed by the heartbeat check just now, not by their own worker meanwhile: those got a retry.
    retried = attrs.retried_numbers(trials)
    failed = [t for t in trials if t.state == TrialState.FAIL and t.number in running & retried]
    host = socket.gethostname()
    for t in (t for t in trials if t.state == TrialState.RUNNING):
        owner = attrs.worker(t)
        owner_host, _, pid = owner.rpartition(":")
        dead = owner_host == host and pid.isdigit() and not _pid_alive(int(pid))
        orphan = not owner and t.datetime_start is not None and \
            (datetime.now() - t.datetime_start).total_seconds() > grace
        if dead or orphan:
            attrs.fail_trial(storage, t, f"worker {owner or '?'} died")
            retry_callback()(study, storage.get_trial(t._trial_id))
            failed.append(t)
    return failed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def next_trial(study, lock_factory, on_stale, grace: float):
    """Ask for a trial while budget and time are left; None when this worker should stop.

    Waits while others still run trials at the end of the budget: one of them may die, and its
    retry must be picked up by someone.
    """
    from optuna.trial import TrialState

    while True:
        with lock_factory():
            on_stale(fail_stale(study, grace))
            deadline = attrs.deadline(study)
            if deadline is not None and time.time() > deadline:
                return None
            trials = study.get_trials(deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            budget = attrs.budget(study)
            if waiting or budget is None or budget_used(trials) < budget:
                with warnings.catch_warnings():  # "heartbeat is meant for optimize": we beat
                    warnings.simplefilter("ignore", UserWarning)
                    trial = study.ask()
                attrs.record_worker(trial, host_id())
                if heartbeat_enabled(study._storage):  # beat before the lock goes: no blind gap
                    study._storage.record_heartbeat(trial._trial_id)
                return trial
            if not any(t.state == TrialState.RUNNING for t in trials):
                return None
        time.sleep(IDLE_POLL_S)
