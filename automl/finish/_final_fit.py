"""The final fit: on every training row, within the budget when there is one
(:func:`automl.evaluate.fit_in_time`); each fallback is a warning and is recorded in the summary's
``final_fit``."""

from __future__ import annotations

from automl.evaluate import candidates, fit_in_time, refit, refit_ensemble
from automl.search import FoldData, make_runner
from automl.trial import complete_trials

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
        fitted = fit_in_time(candidates(o.members, o.trial, complete_trials(ctx.study)), fitter, ctx.plan,
                             prep.data, seed)
    finally:
        if own:
            fitter.close()
    o.model, o.final_fit = fitted.model, fitted.record()
    if not fitted.gave_way:
        return
    if o.members and len(fitted.members) == 1:  # the ensemble gave way to a single trial
        o.members = []
        if o.ensemble is not None:
            o.ensemble.not_chosen = fitted.gave_way[0]
    o.trial = fitted.members[0][0] if len(fitted.members) == 1 else o.trial
    ctx.reporter.warn(f"final model: {'; '.join(fitted.gave_way)}; the {fitted.label} is saved instead")
