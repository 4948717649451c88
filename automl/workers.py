"""Many workers on one study: on one host (``automl run --workers N``, journal storage) or many
(``automl worker`` against PostgreSQL), with ``automl finalize`` to refit and test the best trial.

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
import subprocess
import sys
import threading
import time
import warnings
from datetime import datetime
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from automl.config import ExperimentConfig

ATTR_BUDGET, ATTR_DEADLINE, ATTR_CONFIG = "trial_budget", "deadline", "config"
ATTR_PARENT, ATTR_WORKER = "mlflow_parent_run_id", "worker"
IDLE_POLL_S = 1.0


def host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- claiming trials -----------------------------------------------------------------------


@contextmanager
def claim_lock(storage: str, study_name: str, workdir: Path):
    """Mutual exclusion among every worker of ``study_name``, on any host the storage reaches."""
    from automl.study import named_lock

    with named_lock(storage, workdir, f"claim-{study_name}"):
        yield


def budget_used(trials) -> int:
    """Trials that count against the budget: every trial except failures that were retried
    (their retry counts instead)."""
    from optuna.trial import TrialState

    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    return sum(1 for t in trials if not (t.state == TrialState.FAIL and t.number in retried))


def fail_stale(study, grace: float) -> list:
    """Fail (and retry once) trials whose worker is gone; return them.

    Gone means: no heartbeat within the grace period (RDB storages), a dead process on this host,
    or (a worker killed between ``ask`` and naming itself) no owner after the grace period.
    """
    import optuna
    from optuna.trial import TrialState

    from automl.study import retry_callback

    running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    if not running:
        return []
    storage = study._storage
    if _heartbeat_enabled(storage):
        optuna.storages.fail_stale_trials(study)  # heartbeat older than the grace period
    trials = study.get_trials(deepcopy=False)
    # Failed by the heartbeat check just now, not by their own worker meanwhile: those got a retry.
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    failed = [t for t in trials if t.state == TrialState.FAIL and t.number in running & retried]
    host = socket.gethostname()
    for t in (t for t in trials if t.state == TrialState.RUNNING):
        owner = str(t.user_attrs.get(ATTR_WORKER, ""))
        owner_host, _, pid = owner.rpartition(":")
        dead = owner_host == host and pid.isdigit() and not _pid_alive(int(pid))
        orphan = not owner and t.datetime_start is not None and \
            (datetime.now() - t.datetime_start).total_seconds() > grace
        if dead or orphan:
            storage.set_trial_user_attr(t._trial_id, "error", f"worker {owner or '?'} died")
            storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
            retry_callback()(study, storage.get_trial(t._trial_id))
            failed.append(t)
    return failed


def _heartbeat_enabled(storage) -> bool:
    check = getattr(storage, "is_heartbeat_enabled", None)  # RDBStorage's heartbeat interface
    return bool(check and check())


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
            attrs = study.user_attrs
            deadline = attrs.get(ATTR_DEADLINE)
            if deadline is not None and time.time() > deadline:
                return None
            trials = study.get_trials(deepcopy=False)
            waiting = any(t.state == TrialState.WAITING for t in trials)
            budget = attrs.get(ATTR_BUDGET)
            if waiting or budget is None or budget_used(trials) < budget:
                with warnings.catch_warnings():  # "heartbeat is meant for optimize": we beat
                    warnings.simplefilter("ignore", UserWarning)
                    trial = study.ask()
                trial.set_user_attr(ATTR_WORKER, host_id())
                if _heartbeat_enabled(study._storage):  # beat before the lock goes: no blind gap
                    study._storage.record_heartbeat(trial._trial_id)
                return trial
            if not any(t.state == TrialState.RUNNING for t in trials):
                return None
        time.sleep(IDLE_POLL_S)


class Heartbeat:
    """Record a trial's heartbeat on RDB storages while it runs (Optuna only does this inside
    ``Study.optimize``; workers use ask/tell so the claim lock can guard ``ask``)."""

    def __init__(self, study, trial):
        storage = study._storage
        self.enabled = _heartbeat_enabled(storage)
        self.storage, self.trial_id = storage, trial._trial_id
        self._stop = threading.Event()

    def __enter__(self):
        if self.enabled:
            self.storage.record_heartbeat(self.trial_id)
            interval = self.storage.get_heartbeat_interval()
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
            self._thread.start()
        return self

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # a blip in the database: beat again next interval
                continue

    def __exit__(self, *exc):
        self._stop.set()
        return False


def work(study, objective, tracker, lock_factory, grace: float, reporter=None) -> int:
    """Run trials until the study's budget or deadline is spent. Returns trials run here."""
    import optuna
    from optuna.trial import TrialState

    def on_stale(trials):
        for t in trials:
            run_id = t.user_attrs.get("mlflow_run_id")
            if run_id:
                tracker.kill_run(run_id, t.number)

    done = 0
    while (trial := next_trial(study, lock_factory, on_stale, grace)) is not None:
        with Heartbeat(study, trial):
            # skip_if_finished: a trial failed as stale meanwhile (a long DB outage) stays failed.
            try:
                frozen = study.tell(trial, objective(trial), skip_if_finished=True)
            except optuna.TrialPruned:
                frozen = study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
            except Exception:  # recorded on the trial by the objective; the search goes on
                frozen = study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            except KeyboardInterrupt:
                study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                raise
        tracker.on_trial(study, frozen)
        if reporter is not None:
            reporter.on_trial(study, frozen)
        done += 1
    return done


# --- study attributes shared by every worker ---------------------------------------------


def shareable_config(cfg: ExperimentConfig) -> dict[str, Any]:
    """The config as workers and ``finalize`` need it; never a storage or tracking credential."""
    data = cfg.model_dump()
    for key in ("storage", "tracking_uri", "summary_json", "workdir", "output_dir"):
        data[key] = None
    data.update(workers=1, quiet=True)
    return data


def init_budget(study, cfg: ExperimentConfig, extra_trials: bool) -> None:
    """Set the global trial budget and deadline once (``extra_trials``: add n_trials to it)."""
    attrs = study.user_attrs
    if cfg.n_trials is not None and (extra_trials or ATTR_BUDGET not in attrs):
        study.set_user_attr(ATTR_BUDGET, budget_used(study.get_trials(deepcopy=False)) + cfg.n_trials)
    if cfg.timeout is not None and (extra_trials or ATTR_DEADLINE not in attrs):
        study.set_user_attr(ATTR_DEADLINE, time.time() + cfg.timeout)
    if ATTR_CONFIG not in attrs:
        study.set_user_attr(ATTR_CONFIG, shareable_config(cfg))


def config_from_study(study, overrides: dict[str, Any]) -> ExperimentConfig:
    stored = dict(study.user_attrs.get(ATTR_CONFIG) or {})
    stored.update({k: v for k, v in overrides.items() if v is not None})
    return ExperimentConfig(**stored)


# --- automl run --workers N -----------------------------------------------------------------


def spawn_workers(cfg: ExperimentConfig, storage: str, study_name: str, workdir: Path,
                  tracking_uri: str | None, n_jobs: int) -> list[subprocess.Popen]:
    """Start ``cfg.workers`` ``automl worker`` processes on this host."""
    folder = workdir / "mlruns" / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / f"{study_name}.yaml"
    shared = shareable_config(cfg)
    shared.update(n_jobs=n_jobs, data=cfg.data, test_data=cfg.test_data, space=cfg.space)
    config.write_text(yaml.safe_dump(shared))
    # The storage URL travels in the environment, not argv: `ps` would show a password.
    env = {**os.environ, "AUTOML_STORAGE": storage}
    cmd = [sys.executable, "-m", "automl", "worker", "--config", str(config), "--study-name",
           study_name, "--workdir", str(workdir), "--quiet"]
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    else:
        cmd.append("--no-tracking")
    logs = folder / study_name
    logs.mkdir(exist_ok=True)
    procs = []
    for i in range(cfg.workers):
        with open(logs / f"worker-{i}.log", "w") as log:
            # Own sessions: Ctrl-C reaches only the orchestrator, which stops workers once (SIGTERM).
            procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=log,
                                          start_new_session=True))
    return procs


def wait_workers(procs: list[subprocess.Popen], study, reporter) -> list[int]:
    """Wait for the workers, updating the progress bar from the study; return exit codes."""
    try:
        while [p.poll() for p in procs].count(None):  # poll every one: it reaps the dead
            reporter.set_progress(study)
            time.sleep(IDLE_POLL_S)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()  # workers close their runs as KILLED on SIGTERM
        for p in procs:
            p.wait()
        raise
    reporter.set_progress(study)
    return [p.returncode for p in procs]


def run_parallel(cfg: ExperimentConfig, reporter) -> dict[str, Any]:
    """``automl run --workers N``: N local workers share the study, then refit and test once."""
    from automl.pipeline import conclude, report, setup
    from automl.study import fail_stale_trials

    _refuse_sqlite(cfg.storage)
    ctx = setup(cfg, reporter, heartbeat=True)
    study, name = ctx.study, ctx.study.study_name
    init_budget(study, cfg, extra_trials=True)
    n_jobs = max(1, (os.cpu_count() or 1) // cfg.workers)  # cores shared, not oversubscribed
    tracker = ctx.tracker()
    with tracker:
        study.set_user_attr(ATTR_PARENT, tracker.parent_run_id)
        from automl.tracking import resolve_tracking_uri

        uri = resolve_tracking_uri(cfg.tracking_uri, ctx.workdir)[0] if cfg.tracking else None
        reporter.start_search(study.user_attrs.get(ATTR_BUDGET))
        try:
            procs = spawn_workers(cfg, ctx.storage, name, ctx.workdir, uri, n_jobs)
            codes = wait_workers(procs, study, reporter)
            # Leftovers: retries no live worker picked up, trials of workers that died last.
            lock = lambda: claim_lock(ctx.storage, name, ctx.workdir)  # noqa: E731
            objective = ctx.objective(tracker.on_trial_start, n_jobs * cfg.workers)
            work(study, objective, tracker, lock, cfg.grace_period)
            fail_stale_trials(study)  # every worker has exited: nothing can still be running
        finally:
            reporter.end_search()
        summary = conclude(ctx, tracker, extra={"workers": cfg.workers, "worker_exit_codes": codes})
    return report(ctx, summary)


def _refuse_sqlite(storage: str | None) -> None:
    if (storage or "").startswith("sqlite"):
        from automl.errors import ConfigError

        raise ConfigError("storage: SQLite cannot take concurrent workers; use the default "
                          "journal storage, journal:///path.log, or PostgreSQL")


def worker_main(cfg: ExperimentConfig, reporter) -> int:
    """``automl worker``: join (or create) the study and run trials until its budget is spent."""
    from automl.pipeline import fold_jobs, setup

    _refuse_sqlite(cfg.storage)
    ctx = setup(cfg, reporter, heartbeat=True, parallel=True)
    study, name = ctx.study, ctx.study.study_name
    lock = lambda: claim_lock(ctx.storage, name, ctx.workdir)  # noqa: E731
    with lock():
        init_budget(study, cfg, extra_trials=False)
        parent = study.user_attrs.get(ATTR_PARENT)
        tracker = ctx.tracker(parent_run_id=parent, close_parent=False)
        tracker.__enter__()  # inside the lock: the first worker creates the one parent run
        if parent is None and getattr(tracker, "parent_run_id", None):
            study.set_user_attr(ATTR_PARENT, tracker.parent_run_id)
    try:
        done = work(study, ctx.objective(tracker.on_trial_start, fold_jobs(cfg)), tracker, lock,
                    cfg.grace_period)
    except BaseException as exc:
        tracker.__exit__(type(exc), exc, exc.__traceback__)
        raise
    tracker.__exit__(None, None, None)
    reporter.info(f"worker {host_id()}: ran {done} trials of study {name!r}")
    return done


def finalize(storage: str, study_name: str, overrides: dict[str, Any], reporter) -> dict[str, Any]:
    """``automl finalize``: refit the study's best trial, test it once, log and register it."""
    import optuna

    from automl.pipeline import conclude, report, setup
    from automl.study import make_storage

    from pydantic import ValidationError

    from automl.config import format_validation_error
    from automl.errors import ConfigError
    from automl.study import mask_url

    try:
        study = optuna.load_study(study_name=study_name, storage=make_storage(storage))
        cfg = config_from_study(study, {**overrides, "storage": storage, "study_name": study_name})
    except KeyError:
        raise ConfigError(f"finalize: no study {study_name!r} in {mask_url(storage)}") from None
    except ValidationError as exc:
        raise ConfigError(f"finalize: {format_validation_error(exc)}") from None
    except Exception as exc:  # bad URL, unreachable database
        raise ConfigError(mask_url(f"finalize: cannot open {storage} ({type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else ''})")) from None
    ctx = setup(cfg, reporter)
    tracker = ctx.tracker(parent_run_id=study.user_attrs.get(ATTR_PARENT), close_parent=True)
    with tracker:
        summary = conclude(ctx, tracker)
    return report(ctx, summary)
