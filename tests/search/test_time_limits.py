"""Trials within their time and memory: projected overruns stopped after a fold (counted budget
units, no wall clock), a fit that cannot stop killed with its process, iterative fits stopping by
themselves, a fold over its memory limit failing alone, and the search's plan."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from automl.budget import Budget
from automl.data import prepare
from automl.metrics import get_metric
from automl.run import run_experiment
from automl.search import (CVObjective, ExplainCost, FoldData, InProcessRunner, PoolRunner, SearchPlan, attrs,
                           save_seconds)

from automl.space import load_space
from automl.split import cv_folds, holdout


class Clock:
    """A fake clock: time moves only when a test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class UnitsRunner(InProcessRunner):
    """Each round of folds costs ``units`` on the fake clock, whatever it really took."""

    def __init__(self, data, metric, clock: Clock, units: float):
        super().__init__(data, metric)
        self.clock, self.units = clock, units

    def run(self, jobs, seconds_left):
        self.clock.now += self.units
        return super().run(jobs, seconds_left)


@pytest.fixture
def table(rng):
    n = 300
    x = rng.normal(size=(n, 4))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(y=np.where(x[:, 0] > 0, "p", "n"))
    data = prepare(frame, "y", "auto", "t")
    split = holdout(data, 0.2, 0)
    return data, FoldData(split.X_train, split.y_train, cv_folds(split, data.task, 5, 0, False))


def _space(workdir, text: str, task: str = "binary"):
    (workdir / "space.yaml").write_text(text)
    return load_space(str(workdir / "space.yaml"), task)


def test_projected_overrun_is_stopped_after_the_first_fold(table, workdir):
    data, folds = table
    clock, metric = Clock(), get_metric("binary", "accuracy")
    space = _space(workdir, "models:\n  naive_bayes: {}\n")
    objective = CVObjective(space, folds, (data.numeric, [], []), metric, 0,
                            UnitsRunner(folds, metric, clock, units=10), clock=clock,
                            seconds_for=lambda trial: 25.0)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2)  # the search goes on after a stopped trial
    assert [t.state.name for t in study.trials] == ["PRUNED", "PRUNED"]
    reason = attrs.stopped(study.trials[0])
    assert reason.startswith("time limit: 1 of 5 fold rounds took 10.0 s") and "25.0 s were allowed" in reason
    assert len(attrs.fold_scores(study.trials[0])) == 1


def test_no_limit_means_every_fold_runs(table, workdir):
    data, folds = table
    clock, metric = Clock(), get_metric("binary", "accuracy")
    space = _space(workdir, "models:\n  naive_bayes: {}\n")
    objective = CVObjective(space, folds, (data.numeric, [], []), metric, 0,
                            UnitsRunner(folds, metric, clock, units=10), clock=clock)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state.name == "COMPLETE" and clock.now == 50


def test_iterative_fit_stops_itself_at_the_deadline(table, workdir):
    data, folds = table
    metric = get_metric("binary", "accuracy")
    space = _space(workdir, "models:\n  gd: {optimizer: sgd, max_epochs: 100000000, tol: null}\n")
    runner = InProcessRunner(folds, metric)  # cannot kill: the fit must stop by itself
    objective = CVObjective(space, folds, (data.numeric, [], []), metric, 0, runner,
                            seconds_for=lambda trial: 0.3)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state.name == "PRUNED"
    assert attrs.stopped(trial) == "time limit: fold 0 was still fitting at the trial's deadline"


def test_a_fit_that_cannot_stop_is_killed_with_its_process(rng, workdir):
    # A linear SVM with a huge C on random labels: libsvm would iterate for minutes.
    n = 2500
    frame = pd.DataFrame(rng.normal(size=(n, 20)), columns=[f"x{i}" for i in range(20)])
    frame["y"] = rng.choice(["p", "n"], n)
    data = prepare(frame, "y", "auto", "t")
    split = holdout(data, 0.2, 0)
    folds = FoldData(split.X_train, split.y_train, cv_folds(split, data.task, 3, 0, False))
    metric = get_metric("binary", "accuracy")
    space = _space(workdir, "models:\n  svm: {kernel: linear, C: 100000.0, tol: 1.0e-9}\n")
    runner = PoolRunner(folds, metric, workers=1)
    objective = CVObjective(space, folds, (data.numeric, [], []), metric, 0, runner,
                            seconds_for=lambda trial: 0.5)
    study = optuna.create_study(direction="maximize")
    try:
        study.optimize(objective, n_trials=1)
        assert runner.killed == 1
        killed = [w for w in runner._pool if w is not None]
        assert killed == []  # its slot waits for a fresh process
    finally:
        runner.close()
    trial = study.trials[0]
    assert trial.state.name == "PRUNED"
    assert attrs.stopped(trial) == "time limit: fold 0 was still fitting at the trial's deadline"


def test_a_fold_over_its_memory_limit_fails_alone(rng, workdir, config):
    # One-hot of a 1500-level column is ~40 MB dense per fold; five levels are nothing.
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n),
                          "level": [f"L{i % 1500}" for i in rng.permutation(n)]})
    frame["y"] = np.where(frame["x"] + rng.normal(size=n) > 0, "p", "n")
    frame.to_csv(workdir / "wide.csv", index=False)
    (workdir / "space.yaml").write_text(
        "preprocessing:\n  max_categories: {type: categorical, choices: [5, 100000]}\n"
        "  rare_min_frequency: null\nmodels:\n  naive_bayes: {}\n")
    summary = run_experiment(config(data=str(workdir / "wide.csv"), target="y", n_trials=6,
                                    space=str(workdir / "space.yaml"), trial_memory_mb=30,
                                    study_name="mem"))
    study = optuna.load_study(study_name="mem", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed and all(t.params["prep.max_categories"] == 100000 for t in failed)
    assert all("MemoryError" in attrs.error(t) and "trial_memory_mb=30" in attrs.error(t)
               for t in failed)
    assert summary["best_params"]["prep.max_categories"] == 5
    assert summary["n_trials"]["COMPLETE"] >= 1


def _study_with_best(fit_time: float, folds: int, predict_rate: float = 0.0, parts: int = 0):
    study = optuna.create_study(direction="maximize")
    trial = optuna.trial.create_trial(value=0.9, params={}, distributions={},
                                      user_attrs={attrs.FIT_TIME: fit_time,
                                                  attrs.FOLD_SCORES: [0.9] * folds,
                                                  attrs.PREDICT_RATE: predict_rate,
                                                  attrs.PARTS: parts})
    study.add_trial(trial)
    return study


def test_plan_reserves_the_refit_of_the_best_and_the_end_of_the_run():
    clock = Clock()
    plan = SearchPlan(Budget(60, clock=clock), n_folds=5, overhead_s=4.0, exit_s=0.5)
    empty = optuna.create_study(direction="maximize")
    # Nothing to refit yet, and without a completed trial there is no run to end: the first
    # trial may use all but the exit.
    assert plan.reserve(empty) == 0.5 and plan.trial_seconds(empty) == pytest.approx(59.5)
    study = _study_with_best(fit_time=10.0, folds=5)  # 2 s a fold on 4/5 of the rows
    assert plan.refit_estimate(study) == pytest.approx(1.5 * 2.0 * 5 / 4)
    assert plan.search_left(study) == pytest.approx(60 - 4.5 - 3.75)
    clock.now = 50.5
    assert plan.should_stop(study) is False and plan.trial_seconds(study) == pytest.approx(1.25)
    clock.now = 51.3  # 0.45 s left: not enough to start a trial
    assert plan.should_stop(study) is True


def test_plan_counts_prediction_and_logging_and_ensembles_cost_more():
    plan = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000,
                      save_s_per_part=1e-4)
    small = _study_with_best(fit_time=10.0, folds=5).best_trial
    big = _study_with_best(fit_time=10.0, folds=5, predict_rate=1e-3, parts=20_000).best_trial
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
    study = _study_with_best(fit_time=10.0, folds=5, predict_rate=1e-3)
    once = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000)
    twice = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, test_rows=1000,
                       refit_factor=2.25)
    predict = 1.5 * 2 * 1000 * 1e-3
    assert once.final_estimate([study.best_trial]) == pytest.approx(3.75 + predict)
    assert twice.final_estimate([study.best_trial]) == pytest.approx(2.25 * 3.75 + predict)
    assert twice.search_left(study) < once.search_left(study)


def test_plan_reserves_room_for_ensemble_members_up_to_a_tenth_of_the_budget():
    """With ensembles on, the search leaves room for three copies of the best trial's final
    cost, so that two or three members of its kind can be kept; the room beyond the best
    trial's own is at most a tenth of the budget, or a large table's ensemble eats the search."""
    from automl.run._setup import ENSEMBLE_REFIT_FACTOR

    cheap = _study_with_best(fit_time=2.0, folds=5)  # a final fit of 0.75 s
    costly = _study_with_best(fit_time=40.0, folds=5)  # 15 s
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
    from automl.run._setup import ENSEMBLE_REFIT_FACTOR

    study = _study_with_best(fit_time=2.0, folds=5)  # the best: a final fit of 0.75 s
    for value, fit_time in ((0.8, 8.0), (0.7, 16.0), (0.6, 400.0)):  # 3 s, 6 s, and the worst
        study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={}, user_attrs={
            attrs.FIT_TIME: fit_time, attrs.FOLD_SCORES: [value] * 5}))
    plan = SearchPlan(Budget(300, clock=Clock()), n_folds=5, overhead_s=1.0,
                      ensemble_factor=ENSEMBLE_REFIT_FACTOR)
    assert plan.refit_estimate(study) == pytest.approx(0.75 + 3.0 + 6.0)
    small = SearchPlan(Budget(60, clock=Clock()), n_folds=5, overhead_s=1.0, ensemble_factor=ENSEMBLE_REFIT_FACTOR)
    assert small.refit_estimate(study) == pytest.approx(0.75 + 6.0)  # a tenth of 60 s
    minimize = optuna.create_study(direction="minimize")
    for trial in study.trials:  # lower is better: the 400 s trial is now second best
        minimize.add_trial(trial)
    assert plan.refit_estimate(minimize) == pytest.approx(150.0 + 6.0 + 3.0)  # the best: a 150 s fit


def test_plan_keeps_what_the_explanation_s_passes_take_never_more_than_its_share():
    """The explanation is planned as so many scoring passes at the best trial's prediction rate,
    capped at its share of the budget: a fast model on a long run no longer holds back the whole
    share (9 s at 300 s for an explanation that took 1.8 s), a slow one no more than the share.
    An optional extra after the passes (SHAP) is planned when both fit the share, else not."""
    share = 9.0
    passes = ExplainCost(share, passes=46, rows=2000)  # 9 columns x 5 repeats + 1
    fast = _study_with_best(fit_time=2.0, folds=5, predict_rate=1e-6)  # 2 ms per 2,000 rows
    slow = _study_with_best(fit_time=2.0, folds=5, predict_rate=1e-3)  # 2 s per pass
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
    assert planned.final_estimate(fast.trials * 3) - plain.final_estimate(fast.trials * 3) \
        == pytest.approx(1.5 * 46 * (2000 * 3e-6 + 0.02))


def test_plan_caps_trials_at_trial_timeout_and_without_budget():
    clock = Clock()
    study = _study_with_best(fit_time=1.0, folds=5)
    assert SearchPlan(Budget(None, trial_timeout=7, clock=clock), 5, 4.0).trial_seconds(study) == 7
    assert SearchPlan(Budget(None, clock=clock), 5, 4.0).trial_seconds(study) is None
    # A 5-fold trial's refit is 1.5 x 5/4 x 1/5 of its wall time (folds one at a time): a trial
    # starting with 19 s to spare may take 19 / 1.375 s, not up to the search's end.
    assert SearchPlan(Budget(20, trial_timeout=30, clock=clock), 5, 1.0).trial_seconds(study) \
        == pytest.approx((20 - 1.0) / (1 + 1.5 * 1.25 / 5))


def test_a_trial_leaves_room_for_its_own_refit_on_a_holdout_split():
    """One holdout split: a trial that becomes the best needs 1.5 x 1.25 of its own time again."""
    clock = Clock()
    plan = SearchPlan(Budget(30, clock=clock), n_folds=1, overhead_s=3.0, exit_s=0.5, fold_jobs=2)
    empty = optuna.create_study(direction="maximize")
    clock.now = 6.0
    assert plan.trial_seconds(empty) == pytest.approx(30 - 6 - 0.5)  # the first may use it all
    study = _study_with_best(fit_time=1.0, folds=1)  # a cheap linear model completed
    assert plan.own_refit_ratio() == pytest.approx(1.875)
    assert plan.trial_seconds(study) == pytest.approx((30 - 6 - 3.5) / 2.875)


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


def test_fold_processes_die_with_the_search_process(tmp_path):
    """SIGKILL to the search process (nothing of ours runs after it) takes its fold processes
    with it, even in the middle of a fit that holds the interpreter (as C code does): a
    watching thread could not run then."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "hog.py").write_text(
        "from sklearn.base import BaseEstimator, RegressorMixin\n"
        "class Hog(RegressorMixin, BaseEstimator):\n"
        "    def fit(self, X, y):\n"
        "        sum(range(10 ** 12))  # one C call: holds the GIL for hours\n"
        "        return self\n")
    script = tmp_path / "search.py"
    script.write_text(
        "import numpy as np, pandas as pd, sys\n"
        "from automl.metrics import get_metric\n"
        "from automl.search import FoldData, PoolRunner\n"
        "from hog import Hog\n"
        "X = pd.DataFrame({'x': np.arange(40.0)}); y = pd.Series(np.arange(40.0))\n"
        "folds = [(np.arange(20), np.arange(20, 40)), (np.arange(20, 40), np.arange(20))]\n"
        "runner = PoolRunner(FoldData(X, y, folds), get_metric('regression', 'rmse'), 2)\n"
        "print(' '.join(str(w.process.pid) for w in runner._pool), flush=True)\n"
        "runner.run([(0, Hog()), (1, Hog())], None)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    time.sleep(4)  # the workers have loaded the data and are inside the fit
    assert all(_alive(p) for p in pids)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in pids if _alive(p)]
    for p in survivors:
        os.kill(p, signal.SIGKILL)  # leave nothing behind, then fail
    assert not survivors


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
