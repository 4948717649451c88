"""A worker's loop: claim a trial, run it under a heartbeat, tell the study, repeat."""

from __future__ import annotations

from automl.trial import attrs

from ._claim import next_trial
from ._heartbeat import Heartbeat


def work(study, objective, tracker, lock_factory, grace: float, reporter=None) -> int:
    """Run trials until the study's budget or deadline is spent. Returns trials run here.

    A stop (SIGTERM, Ctrl-C) fails the trial this worker holds: it is noted the moment Optuna
    creates it (see :func:`next_trial`), so no stop leaves it RUNNING with nobody to close it."""
    import optuna
    from optuna.trial import TrialState

    def on_stale(trials):
        for t in trials:
            run_id = attrs.run_id(t)
            if run_id:
                tracker.kill_run(run_id, t.number)

    done, claimed = 0, []
    try:
        while (trial := next_trial(study, lock_factory, on_stale, grace, claimed)) is not None:
            with Heartbeat(study, trial):
                # skip_if_finished: a trial failed as stale meanwhile (a long DB outage) stays failed.
                try:
                    frozen = study.tell(trial, objective(trial), skip_if_finished=True)
                except optuna.TrialPruned:
                    frozen = study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
                except Exception:  # recorded on the trial by the objective; the search goes on
                    frozen = study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
            tracker.on_trial(study, frozen)
            if reporter is not None:
                reporter.on_trial(study, frozen)
            done += 1
    except KeyboardInterrupt:
        for trial in claimed[-1:]:  # those before it were told
            study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        raise
    return done
