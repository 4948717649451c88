"""The default pruner: stop a trial only when it is out of the running.

Optuna's ``WilcoxonPruner`` tests whether a trial is worse than the best on the folds seen so
far. With 5 folds its one-sided p-value cannot fall under 0.1 before the fourth fold
(2**-3 = 0.125 after three), so it stopped trials with one fold left to run, saving a fifth of
their cost, and threw away their out-of-fold predictions, which ensemble selection needs: on a
10,000-row panel it pruned 23 of 25 trials, several within 5 % of the best, and the ensemble had
two members to choose from. This pruner stops a trial as soon as every fold it has run scored
worse than the best trial's *worst* fold: such a trial will not be chosen and earns no ensemble
weight, and it is usually told apart after the first folds, when stopping saves most.
"""

from __future__ import annotations

import math

import optuna


class OutclassedPruner(optuna.pruners.BasePruner):
    """Prune when every reported fold is worse than the best complete trial's worst fold."""

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        seen = [v for v in trial.intermediate_values.values() if not math.isnan(v)]
        if not seen:
            return False
        try:
            best = study.best_trial
        except ValueError:  # no complete trial yet
            return False
        folds = [v for v in best.intermediate_values.values() if not math.isnan(v)]
        if not folds:
            return False
        if study.direction == optuna.study.StudyDirection.MINIMIZE:
            return min(seen) > max(folds)
        return max(seen) < min(folds)
