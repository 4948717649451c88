"""The final fit under the budget: planned from the members' measured fit times, stopped at its
deadline, and a cheaper model when it is.

The final model (the ensemble, or the chosen trial) is fitted with a deadline: the time left less
what comes after it (the test, the logging, the end's overhead). A fit known to be cheap runs in
this process; any other in a worker process that is killed at the deadline (the search's warm
pool when there is one, which already holds the training rows). A fit that does not fit its
deadline, or is stopped at it, gives way to the next of: the best trial alone, then the complete
trial that fitted fastest (measured), which always runs. Each fallback is a warning and is
recorded in the summary's ``final_fit``.
"""

from __future__ import annotations

from automl.errors import SearchFailedError
from automl.evaluate import refit, refit_ensemble, unfitted, unfitted_ensemble
from automl.plan import final_fit
from automl.search import FoldData, make_runner
from automl.trial import TrialSpec, attrs, cost_of

from ._outcome import Outcome


def refit_best(o: Outcome) -> None:
    """The final model fitted on every training row, within the budget when there is one."""
    ctx = o.ctx
    prep, seed = ctx.prep, ctx.cfg.seed
    if ctx.budget.left() is None:
        o.model = refit_ensemble(o.members, prep.data, prep.split, seed) if o.members \
            else refit(o.trial, prep.data, prep.split, seed)
        return
    fitter, own = ctx.fitter, ctx.fitter is None
    if own:  # e.g. after workers: nothing of the search is left to fit in
        split = prep.split
        fitter = make_runner(FoldData(split.X_train, split.y_train, []), prep.metric, 1,
                             ctx.cfg.trial_memory_mb, prep.data.task)
    try:
        _fit_in_time(o, fitter)
    finally:
        if own:
            fitter.close()


def _candidates(o: Outcome) -> list[tuple[str, list]]:
    """What to fit, in order: the planned model, the best trial alone, the fastest trial."""
    out = [("ensemble", list(o.members))] if o.members else []
    out.append((f"trial {o.trial.number}", [(o.trial, 1.0)]))
    from optuna.trial import TrialState

    done = o.ctx.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    fastest = min(done, key=lambda t: (attrs.fit_time(t) or 0.0, t.number), default=o.trial)
    if fastest.number != o.trial.number:
        out.append((f"trial {fastest.number}", [(fastest, 1.0)]))
    return out


def _fit_in_time(o: Outcome, fitter) -> None:
    ctx = o.ctx
    why: list[str] = []
    candidates = _candidates(o)
    for i, (label, members) in enumerate(candidates):
        trials = [t for t, _ in members]
        cheap = _cheap(fitter, trials, single=len(trials) == 1)
        verdict = final_fit(ctx.plan, [cost_of(t) for t in trials], cheap, last=i == len(candidates) - 1)
        need, seconds = verdict.need_s, verdict.room_s
        if not verdict.fits:
            why.append(f"the {label} needs ~{need:.1f} s, {max(seconds, 0.0):.1f} s were left")
            continue
        model = unfitted_ensemble(members, ctx.prep.data, ctx.cfg.seed) if len(members) > 1 \
            else unfitted(trials[0], ctx.prep.data, ctx.cfg.seed)
        result = fitter.refit(model, max(seconds, 0.0), cheap)
        if result.kind == "ok":
            return _take(o, label, members, result, need, why)
        stopped = "was stopped at its deadline" if result.kind == "time" else f"failed ({result.error})"
        why.append(f"the {label}'s fit {stopped} after {max(seconds, 0.0):.1f} s (planned ~{need:.1f} s)")
    raise SearchFailedError("no final model could be fitted: " + "; ".join(why))


def _cheap(fitter, trials, single: bool) -> bool:
    cheap = getattr(fitter, "cheap_all", None)
    if cheap is None:  # a worker pool: every fit there can be killed
        return False
    return cheap([TrialSpec.from_trial(t) for t in trials], chunked=single)


def _take(o: Outcome, label: str, members: list, result, need: float, why: list[str]) -> None:
    o.model = result.model
    o.final_fit = {"model": label, "planned_s": round(need, 3), "fit_s": round(result.fit_time, 3)}
    if not why:
        return
    o.final_fit["fallback"] = "; ".join(why)
    if o.members and len(members) == 1:  # the ensemble gave way to a single trial
        o.members = []
        if o.ensemble is not None:
            o.ensemble.not_chosen = why[0]
    o.trial = members[0][0] if len(members) == 1 else o.trial
    o.ctx.reporter.warn(f"final model: {'; '.join(why)}; the {label} is saved instead")
