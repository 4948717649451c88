"""Which ensemble members the time left buys: trials built directly in a study, their measured
costs, a fake clock, and the out-of-fold scores of the subsets that fit."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from automl.evaluate import score_subsets
from automl.metrics import get_metric
from automl.plan import Budget, SearchPlan, members_that_fit
from automl.trial import attrs, cost_of


def _affordable(plan, study, weights, score_of, maximize):
    trials = {t.number: t for t in study.trials}
    kept, why = members_that_fit(plan, [(cost_of(trials[n]), w) for n, w in weights.items()], maximize, score_of)
    return [(trials[c.number], w) for c, w in kept], why


def test_the_members_that_fit_and_score_best_are_kept_when_the_ensemble_does_not_fit():
    """Three members, time for two of them: the pair that fits and scores best out of fold is
    kept, here the heaviest member with the costly one whose errors cancel its own, not the
    cheap pair that dropping the costliest per unit of weight would have left. Weights are
    renormalised over what is kept; with less time, the cheap pair; with less still, none, and
    the reason names what the cheapest pair needs."""
    study = optuna.create_study(direction="minimize")
    for fit_time in (3.0, 30.0, 1.5):  # trials 0, 1, 2: refits of about 1.1, 11.2 and 0.6 s
        study.add_trial(optuna.trial.create_trial(value=1.0, params={}, distributions={}, user_attrs={
            attrs.FIT_TIME: fit_time, attrs.FOLD_SCORES: [1.0] * 5}))
    y = pd.Series(np.linspace(0.0, 10.0, 200))
    noise = np.random.default_rng(0).normal(size=200)
    oof = {0: y + noise, 1: y - noise, 2: y + noise + 2.0}  # 0 and 1 cancel; 2 repeats 0's error, biased
    candidates = [(n, p.to_numpy(np.float32).reshape(-1, 1)) for n, p in oof.items()]
    metric = get_metric("regression", "rmse")
    now = [0.0]
    budget = Budget(60, clock=lambda: now[0], started=0.0)
    plan = SearchPlan(budget, n_folds=5, overhead_s=2.0, exit_s=0.5)
    score_of = lambda subsets: score_subsets(y, candidates, metric, None, subsets)  # noqa: E731
    weights = {0: 0.5, 1: 0.3, 2: 0.2}
    trials = study.trials
    for room, expected in ((plan.final_estimate([cost_of(t) for t in trials[:2]]), {0: 0.5 / 0.8, 1: 0.3 / 0.8}),
                           (plan.final_estimate([cost_of(trials[0]), cost_of(trials[2])]), {0: 0.5 / 0.7, 2: 0.2 / 0.7})):
        now[0] = 60 - 2.5 - room  # room for these members, and the end's overhead and exit
        kept, short = _affordable(plan, study, weights, score_of, maximize=False)
        assert short is None
        assert {t.number: round(w, 6) for t, w in kept} == {n: round(w, 6) for n, w in expected.items()}
    now[0] += 0.1
    kept, short = _affordable(plan, study, weights, score_of, maximize=False)
    cheapest = plan.final_estimate([cost_of(trials[0]), cost_of(trials[2])])
    assert kept == [] and short == (f"the cheapest two members need about {cheapest:.1f} s; "
                                    f"{cheapest - 0.1:.1f} s were left for them")


def test_the_ensemble_has_the_room_the_search_left_it():
    """The search stopped where the reserve began; the selection rounds since then are part of
    the end's overhead, already spent, not to be taken from the members' room again (that left
    no room for two members on any 60 s run of the peer benchmark)."""
    study = optuna.create_study(direction="maximize")
    for _ in range(2):  # two trials whose refits take about 1.4 s each
        study.add_trial(optuna.trial.create_trial(value=0.9, params={}, distributions={}, user_attrs={
            attrs.FIT_TIME: 3.0, attrs.FOLD_SCORES: [0.9] * 5}))
    now = [0.0]
    budget = Budget(60, clock=lambda: now[0], started=0.0)
    plan = SearchPlan(budget, n_folds=5, overhead_s=2.0, exit_s=0.5)
    both = plan.final_estimate([cost_of(t) for t in study.trials])
    now[0] = 60 - both - 2.0 - 0.5  # the search ended with room for both ...
    budget.mark("search")
    now[0] += 0.4  # ... and the selection took 0.4 s of the end's overhead
    unscored = lambda subsets: pytest.fail("all members fit: no subset to score")  # noqa: E731
    kept, _ = _affordable(plan, study, {0: 0.5, 1: 0.5}, unscored, maximize=True)
    assert [(t.number, w) for t, w in kept] == [(0, 0.5), (1, 0.5)]
    now[0] += 2.5  # the end's overhead all behind, the exit's 0.5 s must come out of the members' room
    kept, short = _affordable(plan, study, {0: 0.5, 1: 0.5}, unscored, maximize=True)
    assert kept == []
    # The summary says why, with the figures: what two members need against what was left.
    assert short == f"the cheapest two members need about {both:.1f} s; {both - 0.9:.1f} s were left for them"
