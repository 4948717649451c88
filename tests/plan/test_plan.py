"""The time plan as numbers: trials' measured costs and a fake clock in, seconds and decisions out."""

from __future__ import annotations

import pytest

from automl.plan import (ENSEMBLE_REFIT_FACTOR, Budget, ExplainCost, SearchPlan, TrialCost, explain_seconds,
                         final_fit, members_that_fit, overhead_to_come, refit_full_fits, save_seconds,
                         seconds_to_deadline)


class Clock:
    """A fake clock: time moves only when a test says so."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _cost(fit_time: float, folds: int = 5, predict_rate: float = 0.0, parts: int = 0, number: int = 0,
          model_bytes: int = 0) -> TrialCost:
    return TrialCost(number, fit_time, folds, predict_rate, parts, model_bytes)


def test_plan_reserves_the_refit_of_the_best_and_the_end_of_the_run():
    clock = Clock()
    plan = SearchPlan(Budget(60, clock=clock), n_folds=5, overhead_s=4.0, exit_s=0.5)
    # Nothing to refit yet, and without a completed trial there is no run to end: the first
    # trial may use all but the exit.
    assert plan.reserve([]) == 0.5 and plan.trial_seconds([]) == pytest.approx(59.5)
    top = [_cost(fit_time=10.0)]  # 2 s a fold on 4/5 of the rows
    assert plan.refit_estimate(top) == pytest.approx(1.5 * 2.0 * 5 / 4)
    assert plan.search_left(top) == pytest.approx(60 - 4.5 - 3.75)
    clock.now = 50.5
    assert plan.should_stop(top) is False and plan.trial_seconds(top) == pytest.approx(1.25)
    clock.now = 51.3  # 0.45 s left: not enough to start a trial
    assert plan.should_stop(top) is True


def test_a_budget_too_small_for_one_trial_names_the_least_that_works():
    clock = Clock(3.2)  # set-up took 3.2 s
    plan = SearchPlan(Budget(5, clock=clock, started=0.0), n_folds=5, overhead_s=4.0, exit_s=0.5)
    assert plan.should_stop([]) is False  # the first trial may use it all
    clock.now = 4.8
    assert plan.should_stop([]) is True
    message = str(plan.too_small([]))
    assert "--timeout 5: set-up took 4.8 s" in message and "--timeout 10" in message  # ceil(4.8+0.5+4.5)


def test_plan_counts_prediction_and_logging_and_ensembles_cost_more():
    plan = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000,
                      save_s_per_part=1e-4)
    small = _cost(fit_time=10.0)
    big = _cost(fit_time=10.0, predict_rate=1e-3, parts=20_000)
    assert plan.final_estimate([small]) == pytest.approx(3.75)
    logging = save_seconds(20_000, 1e-4)
    assert logging > 20_000 * 1e-4  # skops' cost grows faster than the model
    # The test predicts twice (labels, then probabilities), each pass 1.5 times the validation's.
    assert plan.final_estimate([big]) == pytest.approx(3.75 + 1.5 * 2 * 1000 * 1e-3 + logging)
    # Two members cost more than twice one: logging one model of both is superlinear.
    assert plan.final_estimate([big, big]) > 2 * plan.final_estimate([big])
    assert save_seconds(20_000, 0.0) == 0.0  # without tracking nothing is logged


def test_plan_reserves_the_second_fit_of_refit_full():
    """refit_full fits the final model twice: on the training rows, then on training + test rows
    (2.25 fits' time with a 20 % test set); prediction and logging happen once."""
    best = _cost(fit_time=10.0, predict_rate=1e-3)
    once = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000)
    twice = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000,
                       refit_factor=2.25)
    predict = 1.5 * 2 * 1000 * 1e-3
    assert once.final_estimate([best]) == pytest.approx(3.75 + predict)
    assert twice.final_estimate([best]) == pytest.approx(2.25 * 3.75 + predict)
    assert twice.search_left([best]) < once.search_left([best])


def test_the_plan_of_a_run_takes_the_measured_overhead_else_the_prior():
    budget = Budget(60, clock=Clock())
    common = dict(ensembles=True, refit_growth=1.25, test_rows=100, fold_jobs=2)
    measured = SearchPlan.for_run(budget, 5, 1.7, tracking=True, **common)
    prior = SearchPlan.for_run(budget, 5, None, tracking=True, **common)
    untracked = SearchPlan.for_run(budget, 5, None, tracking=False, **common)
    assert measured.overhead_s == 1.7 and prior.overhead_s > untracked.overhead_s > 0
    assert measured.refit_factor == 2.25 and measured.members == round(ENSEMBLE_REFIT_FACTOR)
    assert untracked.save_s_per_part == 0.0 < measured.save_s_per_part
    assert measured.explain.cap_s == pytest.approx(0.03 * 60)


def test_plan_reserves_room_for_ensemble_members_up_to_a_tenth_of_the_budget():
    """With ensembles on, the search leaves room for three copies of the best trial's final
    cost, so that two or three members of its kind can be kept; the room beyond the best
    trial's own is at most a tenth of the budget, or a large table's ensemble eats the search."""
    cheap = [_cost(fit_time=2.0)]  # a final fit of 0.75 s
    costly = [_cost(fit_time=40.0)]  # 15 s
    alone = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0)
    with_ensemble = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0,
                               ensemble_factor=ENSEMBLE_REFIT_FACTOR)
    assert ENSEMBLE_REFIT_FACTOR >= 2.5  # two members of the best's cost fit, with room to spare
    assert with_ensemble.refit_estimate(cheap) == pytest.approx(ENSEMBLE_REFIT_FACTOR * 0.75)
    assert with_ensemble.refit_estimate(costly) == pytest.approx(15 + 6.0)  # 15 s + 10 % of 60 s
    assert alone.refit_estimate(costly) == pytest.approx(15)
    assert with_ensemble.search_left(costly) == pytest.approx(alone.search_left(costly) - 6.0)


def test_plan_reserves_the_next_best_trials_as_members_not_copies_of_the_best():
    """The room for ensemble members is what the next best trials would cost, not copies of the
    best: on diamonds at 300 s the best LightGBM was cheap and the trials after it were not, and
    the ensemble that beat it out of fold found no room. Still at most a tenth of the budget."""
    top = [_cost(2.0), _cost(8.0), _cost(16.0)]  # final fits of 0.75 s, 3 s, 6 s
    plan = SearchPlan(Budget(300, clock=Clock()), n_folds=5, overhead_s=1.0,
                      ensemble_factor=ENSEMBLE_REFIT_FACTOR)
    assert plan.members == 3
    assert plan.refit_estimate(top) == pytest.approx(0.75 + 3.0 + 6.0)
    small = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, ensemble_factor=ENSEMBLE_REFIT_FACTOR)
    assert small.refit_estimate(top) == pytest.approx(0.75 + 6.0)  # a tenth of 60 s
    assert plan.refit_estimate([_cost(400.0), top[2], top[1]]) == pytest.approx(150.0 + 6.0 + 3.0)


def test_plan_keeps_what_the_explanation_s_passes_take_never_more_than_its_share():
    """The explanation is planned as so many scoring passes at the best trial's prediction rate,
    capped at its share of the budget: a fast model on a long run no longer holds back the whole
    share, a slow one no more than the share. An optional extra after the passes (SHAP) is
    planned when both fit the share, else not."""
    share = 9.0
    passes = ExplainCost(share, passes=46, rows=2000)  # 9 columns x 5 repeats + 1
    fast = [_cost(fit_time=2.0, predict_rate=1e-6)]  # 2 ms per 2,000 rows
    slow = [_cost(fit_time=2.0, predict_rate=1e-3)]  # 2 s per pass
    plain = SearchPlan(Budget(300, clock=Clock()), n_folds=5, overhead_s=1.0)
    planned = SearchPlan(Budget(300, clock=Clock()), n_folds=5, overhead_s=1.0, explain=passes)
    expected = 1.5 * 46 * (2000 * 1e-6 + 0.02)  # about 1.5 s
    assert planned.reserve(fast) == pytest.approx(plain.reserve(fast) + expected)
    assert planned.reserve(slow) == pytest.approx(plain.reserve(slow) + share)
    extra = (4.0, 101, 101 * 19 * 30)  # a 4 s start, 101 calls, 57,570 rows predicted
    with_extra = ExplainCost(share, passes=46, rows=2000, extra=extra)
    assert with_extra.seconds(1e-6) == pytest.approx(expected + 4.0 + 1.5 * (101 * 0.02 + 57570 * 1e-6))
    assert with_extra.seconds(1e-5) == pytest.approx(1.5 * 46 * (2000 * 1e-5 + 0.02))  # both: over 9 s
    assert ExplainCost().seconds(1.0) == 0.0  # no budget, no share: nothing held back
    # An ensemble's members predict in turn: its explanation is planned at their summed rate.
    assert planned.final_estimate(fast * 3) - plain.final_estimate(fast * 3) \
        == pytest.approx(1.5 * 46 * (2000 * 3e-6 + 0.02))


def test_plan_caps_trials_at_trial_timeout_and_without_budget():
    clock = Clock()
    top = [_cost(fit_time=1.0)]
    assert SearchPlan(Budget(None, trial_timeout=7, clock=clock), 5, 4.0).trial_seconds(top) == 7
    assert SearchPlan(Budget(None, clock=clock), 5, 4.0).trial_seconds(top) is None
    # A 5-fold trial's refit is 1.5 x 5/4 x 1/5 of its wall time (folds one at a time): a trial
    # starting with 19 s to spare may take 19 / 1.375 s, not up to the search's end.
    assert SearchPlan(Budget(20, trial_timeout=30, clock=clock), 5, 1.0).trial_seconds(top) \
        == pytest.approx((20 - 1.0) / (1 + 1.5 * 1.25 / 5))


def test_a_trial_leaves_room_for_its_own_refit_on_a_holdout_split():
    """One holdout split: a trial that becomes the best needs 1.5 x 1.25 of its own time again."""
    clock = Clock()
    plan = SearchPlan(Budget(30, clock=clock), n_folds=1, overhead_s=3.0, exit_s=0.5, fold_jobs=2)
    clock.now = 6.0
    assert plan.trial_seconds([]) == pytest.approx(30 - 6 - 0.5)  # the first may use it all
    top = [_cost(fit_time=1.0, folds=1)]  # a cheap linear model completed
    assert plan.own_refit_ratio() == pytest.approx(1.875)
    assert plan.trial_seconds(top) == pytest.approx((30 - 6 - 3.5) / 2.875)


def test_budget_timings_in_phase_order():
    clock = Clock()
    budget = Budget(30, clock=clock)
    clock.now = 2.0
    budget.mark("setup")
    clock.now = 20.5
    budget.mark("search")
    clock.now = 21.0
    assert budget.timings() == {"setup": 2.0, "search": 18.5, "total": 21.0}
    assert budget.left() == 9.0


# --- after the search ----------------------------------------------------------------------------


def test_the_overhead_still_to_come_shrinks_by_what_is_behind_but_not_by_the_fits():
    clock = Clock()
    plan = SearchPlan(Budget(60, clock=clock), n_folds=5, overhead_s=4.0, exit_s=0.5)
    assert overhead_to_come(plan) == 4.0  # the search has not ended
    clock.now = 40.0
    plan.budget.mark("search")
    clock.now = 41.0
    plan.budget.mark("ensemble")  # 1 s of the overhead behind
    clock.now = 46.0
    plan.budget.mark("final_fit")  # a fit: the plan counts it with the model, not here
    assert overhead_to_come(plan) == pytest.approx(3.0)
    clock.now = 52.0  # 6 s more of overhead: none left to come
    assert overhead_to_come(plan) == 0.0


def test_the_refit_on_every_row_runs_only_when_it_fits_what_is_left():
    clock = Clock()
    plan = SearchPlan(Budget(60, clock=clock), n_folds=5, overhead_s=2.0, exit_s=0.5)
    costs = [_cost(fit_time=16.0)]  # 6 s on the training rows, 7.5 s on 1.25 times them
    clock.now = 50.0  # 10 s left, 2.5 s of them for the end of the run
    verdict = refit_full_fits(plan, costs, growth=1.25)
    assert verdict.fits and verdict.need_s == pytest.approx(7.5) and verdict.room_s == pytest.approx(7.5)
    clock.now = 50.1
    assert not refit_full_fits(plan, costs, growth=1.25).fits
    assert refit_full_fits(SearchPlan(Budget(None), 5, 2.0), costs, 1.25).fits  # no budget


def test_the_explanation_takes_its_share_or_what_the_end_leaves():
    clock = Clock()
    plan = SearchPlan(Budget(100, clock=clock), n_folds=5, overhead_s=2.0, exit_s=0.5)
    assert explain_seconds(plan, refit_full_s=0.0) == pytest.approx(3.0)  # 3 % of 100 s
    clock.now = 94.0
    assert explain_seconds(plan, refit_full_s=1.0) == pytest.approx(6.0 - 2.5 - 1.0)
    assert explain_seconds(SearchPlan(Budget(None), 5, 2.0), 0.0) is None


def test_the_final_fit_counts_its_pipe_back_and_the_last_fallback_always_runs():
    clock = Clock(50.0)
    plan = SearchPlan(Budget(60, clock=clock, started=0.0), n_folds=5, overhead_s=2.0, exit_s=0.5)
    heavy = [_cost(fit_time=16.0, model_bytes=200_000_000)]  # 6 s, and 2 s through the pipe
    here = final_fit(plan, heavy, cheap=True, last=False)
    assert here.fits and here.need_s == pytest.approx(6.0) and here.room_s == pytest.approx(7.5)
    there = final_fit(plan, heavy, cheap=False, last=False)
    assert there.need_s == pytest.approx(8.0) and not there.fits
    last = final_fit(plan, heavy, cheap=False, last=True)
    assert last.fits and last.room_s == pytest.approx(2 * 8.0 + 1.0)


def test_members_that_fit_keep_the_best_scoring_subset_that_fits():
    clock = Clock()
    plan = SearchPlan(Budget(100, clock=clock), n_folds=5, overhead_s=2.0, exit_s=0.5)
    members = [(_cost(8.0, number=0), 0.5), (_cost(80.0, number=1), 0.3), (_cost(16.0, number=2), 0.2)]
    kept, why = members_that_fit(plan, members, maximize=True, score_of=lambda subsets: [0.0] * len(subsets))
    assert why is None and [c.number for c, _ in kept] == [0, 1, 2]  # 3 + 30 + 6 s fit in 97.5 s
    assert sum(w for _, w in kept) == pytest.approx(1.0)
    clock.now = 80.0  # 17.5 s: 0 and 2 fit together (9 s), 1 fits with nothing
    seen = []

    def score_of(subsets):
        seen.extend(subsets)
        return [1.0] * len(subsets)

    kept, why = members_that_fit(plan, members, maximize=True, score_of=score_of)
    assert seen == [{0: 0.5 / 0.7, 2: 0.2 / 0.7}]
    assert [(c.number, round(w, 6)) for c, w in kept] == [(0, round(0.5 / 0.7, 6)), (2, round(0.2 / 0.7, 6))]
    clock.now = 95.0
    kept, why = members_that_fit(plan, members, maximize=True, score_of=score_of)
    assert kept == [] and why == "the cheapest two members need about 9.0 s; 2.5 s were left for them"
    assert members_that_fit(plan, members[:1], True, score_of) == ([], None)  # one is no ensemble


def test_a_worker_s_trial_ends_at_the_shared_deadline_or_its_timeout():
    assert seconds_to_deadline(1_000.0, now=990.0, trial_timeout=None) == 10.0
    assert seconds_to_deadline(1_000.0, now=990.0, trial_timeout=4.0) == 4.0
    assert seconds_to_deadline(None, now=990.0, trial_timeout=None) is None
