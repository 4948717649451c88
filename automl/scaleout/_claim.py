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
from pathlib import Path

from automl._stop import deferred
from automl.study import fail_dead_workers, named_lock
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
    """Fail (and retry once) trials whose worker is gone; return them (see
    :func:`automl.study.fail_dead_workers`)."""
    return fail_dead_workers(study, grace, heartbeat_enabled(study._storage))


def next_trial(study, lock_factory, on_stale, grace: float, claimed: list | None = None):
    """Ask for a trial while budget and time are left; None when this worker should stop.

    Waits while others still run trials at the end of the budget: one of them may die, and its
    retry must be picked up by someone. The trial is appended to ``claimed`` as Optuna creates it,
    a stop meanwhile held until then: the caller can always fail what it holds.
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
                    with deferred():  # created and noted, or neither
                        trial = study.ask()
                        if claimed is not None:
                            claimed.append(trial)
                attrs.record_worker(trial, host_id())
                if heartbeat_enabled(study._storage):  # beat before the lock goes: no blind gap
                    study._storage.record_heartbeat(trial._trial_id)
                return trial
            if not any(t.state == TrialState.RUNNING for t in trials):
                return None
        time.sleep(IDLE_POLL_S)
