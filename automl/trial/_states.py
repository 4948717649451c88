"""A study's trials counted and told apart: the best complete one, states, why trials stopped."""

from __future__ import annotations

from collections import Counter

from automl.errors import BudgetTooSmallError, SearchFailedError

from . import _attrs


def complete_trials(study) -> list:
    """The study's COMPLETE trials, in number order."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def best_trial(study):
    """The best COMPLETE trial, or a clear error that lists why trials failed."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        return study.best_trial
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    errors = sorted({_attrs.error(t) or "unknown error" for t in failed})
    stopped = sorted({_attrs.stopped(t) for t in study.get_trials(
        deepcopy=False, states=(TrialState.PRUNED,)) if _attrs.stopped(t)})
    if not failed and stopped and all(reason.startswith("time limit") for reason in stopped):
        # Nothing went wrong but the time: the budget (or the space's iterations) is the user's.
        raise BudgetTooSmallError(f"study {study.study_name!r}: no trial finished in its time "
                                  f"({stopped[0]}); raise --timeout or --trial-timeout, or bound "
                                  "the space's iterations (max_iter, n_estimators)")
    detail = f"; errors: {' | '.join(errors[:3])}" if errors else ""
    detail += f"; stopped: {' | '.join(stopped[:2])} (raise --timeout or trial_timeout)" \
        if stopped else ""
    raise SearchFailedError(f"study {study.study_name!r}: no trial completed "
                            f"({len(failed)} failed){detail}")


def count_states(study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def describe_states(states: dict[str, int]) -> str:
    """``{"COMPLETE": 7, "PRUNED": 2}`` as ``7 complete, 2 pruned``, commonest first."""
    return ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items(), key=lambda kv: -kv[1])) or "none"


def why_stopped(trials) -> dict[str, int]:
    """Pruned and failed trials counted by reason, commonest first."""
    reasons: Counter[str] = Counter()
    for t in trials:
        if t.state.name == "PRUNED":
            stopped, at = _attrs.stopped(t), _attrs.pruned_at(t)
            if stopped:  # "time limit: fold 2 was still fitting ...": counted by its kind
                reasons["stopped: " + stopped.split(":")[0]] += 1
            else:
                reasons["pruned" + (f" after fold {at}" if at is not None else "")] += 1
        elif t.state.name == "FAIL":
            reasons["failed: " + (_attrs.error(t) or "no error recorded").splitlines()[0][:120]] += 1
    return dict(reasons.most_common())
