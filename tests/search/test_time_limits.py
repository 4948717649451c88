"""Trials within their time and memory: projected overruns stopped after a fold (counted budget
units, no wall clock), a fit that cannot stop killed with its process, iterative fits stopping by
themselves, a fold over its memory limit failing alone (the plan itself: tests/plan)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from automl.data import prepare
from automl.metrics import get_metric
from automl.search import CVObjective, FoldData, InProcessRunner, PoolRunner
from automl.trial import attrs

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
