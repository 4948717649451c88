"""A retrain's study starts warm: the champion's configuration and its study's best go first.

Also cleans up after a crashed retrain of the same model: trials it left RUNNING, in this study
and in the earlier studies of that model, are failed (the caller holds the retrain lock).
"""

from __future__ import annotations

from typing import Any

from automl.study import fail_stale_trials
from automl.trial import attrs

WARM_START_TOP = 3


def prepare_study(study, space, model_name: str, champion_tags: dict[str, str] | None) -> int:
    """Fail stale trials; enqueue warm-start trials. Returns how many were enqueued."""
    attrs.mark_retrain_study(study, model_name)
    _fail_stale_trials(study, model_name)
    before = len(study.get_trials(deepcopy=False))
    for params in warm_start_params(study, champion_tags):
        if params.get("model") in space.models:
            study.enqueue_trial(params, skip_if_exists=True)
    return len(study.get_trials(deepcopy=False)) - before


def _fail_stale_trials(study, model_name: str) -> None:
    import optuna

    fail_stale_trials(study)
    for summary in optuna.get_all_study_summaries(study._storage, include_best_trial=False):
        if summary.study_name != study.study_name and attrs.retrain_of(summary) == model_name:
            fail_stale_trials(optuna.load_study(study_name=summary.study_name,
                                                storage=study._storage))


def warm_start_params(study, champion_tags: dict[str, str] | None) -> list[dict[str, Any]]:
    """The champion's parameters, then the top trials of the study that produced it (deduped)."""
    import optuna
    from optuna.trial import TrialState

    if not champion_tags or not champion_tags.get("study_name"):
        return []
    name, number = champion_tags["study_name"], champion_tags.get("best_trial")
    try:  # without a name, load_study would pick any study that is alone in the storage
        previous = optuna.load_study(study_name=name, storage=study._storage)
    except (KeyError, ValueError, TypeError):
        return []  # the champion's study lives elsewhere; start cold
    trials = previous.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    champion = [t.params for t in trials if str(t.number) == str(number)]
    reverse = previous.direction.name == "MAXIMIZE"
    best = sorted(trials, key=lambda t: t.value, reverse=reverse)[:WARM_START_TOP]
    unique: list[dict[str, Any]] = []
    for params in champion + [t.params for t in best]:
        if params not in unique:
            unique.append(params)
    return unique
