"""A space's portfolio: validated against the space, enqueued after the baselines in its order."""

from __future__ import annotations

import pytest
import yaml

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


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_default_space_ships_a_learned_portfolio_per_task(task):
    """20 to 40 configurations per task, more than one family, none repeating a baseline."""
    space = load_space("default.yaml", task)
    folio = portfolio_trials(space)
    assert 20 <= len(folio) <= 40
    assert len({entry["model"] for entry in folio}) >= 3
    baselines = baseline_trials(space)
    assert not any(entry in baselines for entry in folio)
