"""A space's portfolio: validated against the space, enqueued after the baselines in its order."""

from __future__ import annotations

import optuna
import pytest
import yaml

from automl.run import run_experiment
from automl.space import baseline_trials, load_space, portfolio_trials, validate

SPACE = """
models:
  decision_tree:
    max_depth: {type: int, low: 1, high: 12}
classification:
  models:
    decision_tree:  # a classifier's criterion: regression keeps the shared block above
      max_depth: {type: int, low: 1, high: 12}
      criterion: {type: categorical, choices: [gini, entropy]}
    logistic:
      C: {type: float, low: 1.0e-3, high: 1.0e+3, log: true}
preprocessing:
  scaler: {type: categorical, choices: [standard, robust]}
portfolio:
  classification:
    - {model: decision_tree, params: {max_depth: 3}, prep: {scaler: robust}}
    - {model: logistic, params: {C: 10.0}}
"""


def test_entries_are_complete_configurations_in_file_order(workdir):
    (workdir / "s.yaml").write_text(SPACE)
    first, second = portfolio_trials(load_space(str(workdir / "s.yaml"), "binary"))
    assert first == {"model": "decision_tree", "decision_tree.max_depth": 3,
                     "decision_tree.criterion": "gini", "prep.scaler": "robust"}
    assert second == {"model": "logistic", "logistic.C": 10.0, "prep.scaler": "standard"}
    assert portfolio_trials(load_space(str(workdir / "s.yaml"), "regression")) == []


@pytest.mark.parametrize(("entry", "problem"), [
    ({"model": "svm"}, "portfolio.classification[0].model: 'svm' is not a family of this space"),
    ({"model": "logistic", "params": {"C": 1.0e+6}},
     "portfolio.classification[0].params.C: 1000000.0 is outside the space; allowed: [0.001, 1000.0]"),
    ({"model": "logistic", "params": {"tol": 0.1}},
     "portfolio.classification[0].params.tol: not a searched parameter of the space; allowed: C"),
    ({"model": "decision_tree", "prep": {"scaler": "minmax"}},
     "portfolio.classification[0].prep.scaler: 'minmax' is outside the space; allowed: ['standard', 'robust']"),
    ({"model": "logistic", "weight": 2}, "portfolio.classification[0].weight: unknown key"),
    ({"params": {"C": 1.0}}, "portfolio.classification[0]: must be a mapping with 'model'"),
])
def test_bad_entries_are_named_by_path(entry, problem):
    doc = yaml.safe_load(SPACE)
    doc["portfolio"]["classification"] = [entry]
    problems, _ = validate(doc)
    assert any(p.startswith(problem) for p in problems), problems


def test_a_fresh_study_runs_the_baselines_then_the_portfolio(config, workdir):
    (workdir / "s.yaml").write_text(SPACE)
    space = load_space(str(workdir / "s.yaml"), "binary")
    run_experiment(config(data="demo:breast_cancer", space=str(workdir / "s.yaml"), n_trials=4,
                          study_name="folio", tracking=False))
    study = optuna.load_study(study_name="folio", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    assert [t.params for t in study.trials[:3]] == baseline_trials(space) + portfolio_trials(space)
    assert "fixed_params" not in study.trials[3].system_attrs  # then TPE
    assert len(study.trials) == 4


def test_a_short_run_leaves_no_entry_waiting_and_a_resumed_one_goes_on(config, workdir):
    """Entries are enqueued one at a time: a run that stops before the portfolio's end leaves
    no WAITING trial behind, and resuming the study runs the entries it has not run yet."""
    (workdir / "s.yaml").write_text(SPACE)
    space = load_space(str(workdir / "s.yaml"), "binary")
    storage = f"sqlite:///{workdir}/mlruns/optuna.db"
    run_experiment(config(data="demo:breast_cancer", space=str(workdir / "s.yaml"), n_trials=2,
                          study_name="short", tracking=False))
    study = optuna.load_study(study_name="short", storage=storage)
    assert [t.state.name in ("COMPLETE", "PRUNED") for t in study.trials] == [True, True]
    run_experiment(config(data="demo:breast_cancer", space=str(workdir / "s.yaml"), n_trials=2,
                          study_name="short", tracking=False))
    study = optuna.load_study(study_name="short", storage=storage)
    fixed = [t.system_attrs.get("fixed_params") for t in study.trials]
    assert fixed[:3] == baseline_trials(space) + portfolio_trials(space)  # the last entry, then TPE
    assert fixed[3] is None and len(study.trials) == 4


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_default_space_ships_a_learned_portfolio_per_task(task):
    """20 to 40 configurations per task, more than one family, none repeating a baseline."""
    space = load_space("default.yaml", task)
    folio = portfolio_trials(space)
    assert 20 <= len(folio) <= 40
    assert len({entry["model"] for entry in folio}) >= 3
    baselines = baseline_trials(space)
    assert not any(entry in baselines for entry in folio)
