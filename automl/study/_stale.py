"""Trials left RUNNING by a process that will never tell them: the one place they are failed.

Who may fail them differs, never how: this process's own trial after a stop that cut Optuna
short; every RUNNING trial when no other process can own one (a run alone on its study, a
retrain under its lock); a dead worker's trial (no heartbeat within the grace period, a dead
process on this host, or no owner after the grace period), retried once.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Callable

from automl.trial import attrs

from ._storage import retry_callback


def fail_running(study, why: Callable[[object], str | None], retry: bool = False) -> list:
    """Fail each RUNNING trial for which ``why(trial)`` gives a reason (its error), re-enqueued
    once with the same parameters when ``retry``; return them."""
    from optuna.trial import TrialState

    storage, failed = study._storage, []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        reason = why(trial)
        if reason is None:
            continue
        attrs.fail_trial(storage, trial, reason)
        if retry:
            retry_callback()(study, storage.get_trial(trial._trial_id))
        failed.append(trial)
    return failed


def fail_stale_trials(study, retry: bool = False) -> int:
    """Mark every trial left RUNNING as FAIL (each retried once with ``retry``: a shared study's
    budget counts the retry instead). Call only when no live process can own one (see
    :class:`StudyPresence`, the retrain lock). Returns how many were failed."""
    return len(fail_running(study, lambda trial: "stale: its process died", retry=retry))


def fail_own_trial(study, trial_id: int, reason: str) -> None:
    """This process's trial, when a stop or an error cut the search between Optuna's own steps."""
    try:
        fail_running(study, lambda trial: reason if trial._trial_id == trial_id else None)
    except Exception:  # noqa: BLE001 - the store is gone too: retrain and resume clean up stale trials
        pass


def fail_dead_workers(study, grace: float, heartbeats: bool) -> list:
    """Fail (and retry once) trials whose worker is gone; return them. With ``heartbeats`` (RDB
    storages with a heartbeat) Optuna's own check first: no beat within the grace period."""
    import optuna
    from optuna.trial import TrialState

    running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    if not running:
        return []
    if heartbeats:
        optuna.storages.fail_stale_trials(study)  # heartbeat older than the grace period
    trials = study.get_trials(deepcopy=False)
    # Failed by the heartbeat check just now, not by their own worker meanwhile: those got a retry.
    retried = attrs.retried_numbers(trials)
    failed = [t for t in trials if t.state == TrialState.FAIL and t.number in running & retried]
    host, now = socket.gethostname(), datetime.now()

    def why(trial) -> str | None:
        owner = attrs.worker(trial)
        owner_host, _, pid = owner.rpartition(":")
        dead = owner_host == host and pid.isdigit() and not _pid_alive(int(pid))
        orphan = not owner and trial.datetime_start is not None and \
            (now - trial.datetime_start).total_seconds() > grace
        return f"worker {owner or '?'} died" if dead or orphan else None

    return failed + fail_running(study, why, retry=True)


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
