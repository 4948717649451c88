"""automl.space's baselines: the cheap, strong first trials of a fresh study."""

from __future__ import annotations

import optuna
import pytest

from automl.plan import Budget
from automl.errors import BudgetTooSmallError
from automl.run import run_experiment
from automl.space import baseline_trials, load_space, portfolio_trials

CLIPPED = """
models:
  hist_gradient_boosting:
    learning_rate: {type: float, low: 0.2, high: 0.3}
    max_iter: {type: int, low: 50, high: 400, step: 50}
    l2_regularization: {type: float, low: 1.0e-6, high: 1.0, log: true}
classification:
  models:
    logistic:
      penalty: {type: categorical, choices: [l1, elasticnet]}
      l1_ratio: {type: float, low: 0.05, high: 0.95, when: {penalty: elasticnet}}
      C: {type: float, low: 1.0e-3, high: 1.0e+3, log: true}
"""


def test_defaults_are_clipped_into_the_space(workdir):
    (workdir / "s.yaml").write_text(CLIPPED)
    first, second = baseline_trials(load_space(str(workdir / "s.yaml"), "binary"))
    assert first == {"model": "logistic", "logistic.penalty": "l1", "logistic.C": 1.0}
    assert second == {"model": "hist_gradient_boosting", "hist_gradient_boosting.learning_rate": 0.2,
                      "hist_gradient_boosting.max_iter": 100,
                      "hist_gradient_boosting.l2_regularization": 1e-6}


@pytest.mark.parametrize(("task", "family"), [("binary", "logistic"), ("regression", "linear")])
def test_the_default_space_starts_linear_then_boosted(task, family):
    trials = baseline_trials(load_space("default.yaml", task))
    assert [t["model"] for t in trials] == [family, "lightgbm", "hist_gradient_boosting"]
    assert trials[0]["prep.scaler"] == "standard"


def test_a_fresh_study_runs_the_baseline_first_and_a_resumed_one_does_not(config, workdir):
    run_experiment(config(data="demo:breast_cancer", space="default.yaml", n_trials=3,
                          study_name="cheap"))
    study = optuna.load_study(study_name="cheap", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    space = load_space("default.yaml", "binary")
    assert [t.params for t in study.trials] == baseline_trials(space)  # and nothing left WAITING
    run_experiment(config(data="demo:breast_cancer", space="default.yaml", n_trials=2,
                          study_name="cheap"))
    study = optuna.load_study(study_name="cheap", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    # The resumed study goes on with the portfolio, not the baselines again.
    assert [t.system_attrs.get("fixed_params") for t in study.trials[3:]] == portfolio_trials(space)[:2]


def test_a_spent_budget_is_a_clear_error_not_a_hang(config):
    spent = Budget(5, clock=lambda: 1000.0, started=0.0)  # counted units: long past the end
    with pytest.raises(BudgetTooSmallError, match=r"--timeout 5: set-up took 1000.0 s .* the least "
                       r"that works here is --timeout 100\d$"):
        run_experiment(config(timeout=5), budget=spent)
