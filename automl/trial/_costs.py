"""Trials as the time plan sees them: what their folds measured, best first."""

from __future__ import annotations

from automl.plan import TrialCost

from . import _attrs


def cost_of(trial) -> TrialCost:
    """A complete trial's measured costs (see :class:`automl.plan.TrialCost`)."""
    return TrialCost(number=trial.number, fit_s=_attrs.fit_time(trial) or 0.0,
                     folds=len(_attrs.fold_scores(trial)) or 1, predict_s_per_row=_attrs.predict_rate(trial),
                     parts=_attrs.parts(trial), model_bytes=_attrs.model_bytes(trial))


def top_trials(study, count: int) -> list:
    """The best complete trial, and up to ``count`` in all, best first ([] before one completes)."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    if count < 2:
        try:
            return [study.best_trial]
        except ValueError:
            return []
    # One read of the trials on the per-trial path, the best among them (not best_trial too).
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    ranked = sorted((t for t in done if t.value is not None), key=lambda t: (sign * t.value, t.number))
    return ranked[:count]


def top_costs(study, count: int) -> list[TrialCost]:
    """:func:`top_trials` as the plan takes them."""
    return [cost_of(t) for t in top_trials(study, count)]
