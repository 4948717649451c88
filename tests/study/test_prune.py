"""The default pruner stops only trials that are out of the running, from the first fold."""

import optuna
import pytest

from automl.study import make_pruner


def _study(direction: str, best_folds: list[float]) -> optuna.Study:
    study = optuna.create_study(direction=direction, pruner=make_pruner("outclassed"))
    trial = study.ask()
    for fold, value in enumerate(best_folds):
        trial.report(value, fold)
    study.tell(trial, sum(best_folds) / len(best_folds))
    return study


def _prunes(study: optuna.Study, folds: list[float]) -> bool:
    trial = study.ask()
    for fold, value in enumerate(folds):
        trial.report(value, fold)
    return trial.should_prune()


@pytest.mark.parametrize("direction, best, hopeless, close", [
    ("minimize", [1.5, 1.6, 1.8], [1.9], [1.7, 2.5]),  # an error: lower is better
    ("maximize", [0.90, 0.93, 0.95], [0.85, 0.89], [0.91]),  # a score: higher is better
])
def test_prunes_only_trials_worse_on_every_fold_than_the_best_worst_fold(direction, best, hopeless, close):
    study = _study(direction, best)
    assert _prunes(study, hopeless), "every fold is worse than the best trial's worst fold"
    assert not _prunes(study, close), "one fold within the best trial's range keeps it running"


def test_never_prunes_before_a_trial_has_completed():
    study = optuna.create_study(direction="minimize", pruner=make_pruner("outclassed"))
    assert not _prunes(study, [1e9, 1e9])
