"""A worker's loop: claim a trial, run it under a heartbeat, tell the study, repeat."""

from __future__ import annotations

from automl.trial import attrs

from ._claim import next_trial
from ._heartbeat import Heartbeat


def work(study, objective, tracker, lock_factory, grace: float, reporter=None) -> int:
    """Run trials until the study's budget or deadline is spent. Returns trials run here."""
    import optuna
    from optuna.trial import TrialState

    def on_stale(trials):
        for t in trials:
            run_id = attrs.run_id(t)
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
