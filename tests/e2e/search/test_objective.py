"""The objective seen through a whole run: a configuration proposed again is a copy."""

from __future__ import annotations

import optuna

from automl.trial import attrs as A


def test_a_configuration_proposed_again_takes_the_earlier_results_without_fitting(config, workdir):
    """Two possible configurations, six trials: the repeats are copies, marked as such."""
    from automl.run import run_experiment

    (workdir / "two.yaml").write_text("models:\n  knn:\n    n_neighbors: {type: categorical, choices: [3, 5]}\n")
    summary = run_experiment(config(space=str(workdir / "two.yaml"), n_trials=6, study_name="twice",
                                    pruner="none"))
    study = optuna.load_study(study_name="twice", storage=summary["storage"])
    first = {}
    for t in study.trials:
        key = t.params["knn.n_neighbors"]
        if key not in first:
            first[key] = t
            assert A.DUPLICATE_OF not in t.user_attrs
        else:
            twin = first[key]
            assert t.user_attrs[A.DUPLICATE_OF] == twin.number
            assert t.value == twin.value and A.fold_scores(t) == A.fold_scores(twin)
            assert t.intermediate_values == twin.intermediate_values
    assert len(first) <= 2 and len(study.trials) == 6
