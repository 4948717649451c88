"""Many workers on one study: ``automl run --workers N``, ``automl worker``, ``automl finalize``.

The mechanics (claiming under a lock, heartbeats, stale trials, spawning) are in
``automl.scaleout``; this module strings them together with set-up, tracking and the final steps.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import ValidationError

from automl.finish import conclude, report
from automl.config import ExperimentConfig, format_validation_error, mask_url
from automl.errors import ConfigError, describe
from automl.report import Reporter
from automl.scaleout import (claim_lock, config_from_study, host_id, init_budget, refuse_sqlite,
                             spawn_workers, wait_workers, work)
from automl.study import fail_stale_trials, make_storage
from automl.trial import attrs
from automl.tracking import resolve_tracking_uri

from ._setup import Context, setup


def _claim(ctx: Context):
    return lambda: claim_lock(ctx.storage, ctx.study.study_name, ctx.workdir)


def run_parallel(cfg: ExperimentConfig, reporter: Reporter) -> dict[str, Any]:
    """``automl run --workers N``: N local workers share the study, then refit and test once."""
    refuse_sqlite(cfg.storage)
    with setup(cfg, reporter, heartbeat=True) as ctx:
        study, plan = ctx.study, ctx.plan
        init_budget(study, cfg, extra_trials=True, search_seconds=plan.search_left(ctx.top_costs()))
        n_jobs = max(1, (os.cpu_count() or 1) // cfg.workers)  # cores shared, not oversubscribed
        tracker = ctx.open_tracker()
        with tracker:
            if getattr(tracker, "parent_run_id", None):  # none with tracking off
                attrs.set_parent_run(study, tracker.parent_run_id)
            uri = resolve_tracking_uri(cfg.tracking_uri, ctx.workdir)[0] if cfg.tracking else None
            ctx.budget.mark("setup")
            reporter.start_search(attrs.budget(study), ctx.budget.total, ctx.budget.elapsed())
            try:
                procs = spawn_workers(cfg, ctx.storage, study.study_name, ctx.workdir, uri, n_jobs)
                codes = wait_workers(procs, study, reporter, on_poll=_keep_deadline(ctx))
                # Leftovers: retries no live worker picked up, trials of workers that died last.
                objective = ctx.objective(tracker, n_jobs * cfg.workers, plan=None)
                try:
                    work(study, objective, tracker, _claim(ctx), cfg.grace_period)
                finally:
                    objective.runner.close()
                fail_stale_trials(study)  # every worker has exited: nothing can still be running
            finally:
                reporter.end_search()
            ctx.budget.mark("search")
            outcome = conclude(ctx.finishing(), tracker, workers=(cfg.workers, codes))
        return report(outcome)


def _keep_deadline(ctx: Context):
    """Move the workers' shared deadline as the best trial (and so the refit to reserve) changes."""
    if ctx.budget.total is None:
        return None

    def update(study) -> None:
        left = ctx.plan.search_left(ctx.top_costs())
        if left is not None:
            attrs.set_deadline(study, time.time() + left)
    return update


def worker_main(cfg: ExperimentConfig, reporter: Reporter) -> int:
    """``automl worker``: join (or create) the study and run trials until its budget is spent."""
    refuse_sqlite(cfg.storage)
    with setup(cfg, reporter, heartbeat=True, parallel=True) as ctx:
        study, lock = ctx.study, _claim(ctx)
        with lock():
            init_budget(study, cfg, extra_trials=False)
            parent = attrs.parent_run(study)
            tracker = ctx.open_tracker(parent_run_id=parent, close_parent=False)
            tracker.__enter__()  # inside the lock: the first worker creates the one parent run
            if parent is None and getattr(tracker, "parent_run_id", None):
                attrs.set_parent_run(study, tracker.parent_run_id)
        objective = ctx.objective(tracker, ctx.fold_jobs(), plan=None)
        try:
            done = work(study, objective, tracker, lock, cfg.grace_period)
        except BaseException as exc:
            tracker.__exit__(type(exc), exc, exc.__traceback__)
            raise
        finally:
            objective.runner.close()
        tracker.__exit__(None, None, None)
        reporter.info(f"worker {host_id()}: ran {done} trials of study {study.study_name!r}")
        return done


def finalize(storage: str, study_name: str, overrides: dict[str, Any],
             reporter: Reporter) -> dict[str, Any]:
    """``automl finalize``: refit the study's best trial, test it once, log and register it."""
    study = _load_study(storage, study_name)
    try:
        cfg = config_from_study(study, {**overrides, "storage": storage, "study_name": study_name})
    except ValidationError as exc:
        raise ConfigError(f"finalize: {format_validation_error(exc)}") from None
    with setup(cfg, reporter) as ctx:
        tracker = ctx.open_tracker(parent_run_id=attrs.parent_run(study), close_parent=True)
        with tracker:
            outcome = conclude(ctx.finishing(), tracker)
        return report(outcome)


def _load_study(storage: str, study_name: str):
    import optuna

    try:
        return optuna.load_study(study_name=study_name, storage=make_storage(storage))
    except KeyError:
        raise ConfigError(f"finalize: no study {study_name!r} in {mask_url(storage)}") from None
    except ConfigError:
        raise
    except Exception as exc:  # bad URL, unreachable database
        raise ConfigError(mask_url(f"finalize: cannot open {storage} ({describe(exc)})")) from None
