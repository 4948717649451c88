"""``automl show``: a study's leaderboard and trial states from its storage, on stdout, without
MLflow; nothing is created when there is nothing to show."""

from __future__ import annotations

import optuna

from automl.run import run_experiment


def test_show_lists_studies_then_one_study_with_its_leaderboard(cli, config, workdir):
    summary = run_experiment(config(study_name="iris-show", n_trials=4, pruner="none"))
    listing = cli("show")
    assert listing.exit_code == 0, listing.output
    assert "iris-show" in listing.stdout and "log_loss" in listing.stdout and listing.stderr == ""
    one = cli("show", "--study", "iris-show", "--top", "2")
    assert one.exit_code == 0, one.output
    states = sorted(summary["n_trials"].items(), key=lambda kv: -kv[1])
    counts = ", ".join(f"{n} {state.lower()}" for state, n in states)
    assert f"trials {counts}" in one.stdout
    assert "top 2 trials" in one.stdout and f"{summary['best_cv_score']:.4f}" in one.stdout


def test_show_names_why_trials_stopped(cli, workdir):
    storage = f"sqlite:///{workdir / 'own.db'}"
    study = optuna.create_study(study_name="hand", storage=storage, direction="minimize")
    for value in (1.0, 2.0):
        study.add_trial(optuna.trial.create_trial(value=value, user_attrs={"family": "knn"}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED,
                                              user_attrs={"stopped": "time limit: fold 2 was still fitting"}))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL,
                                              user_attrs={"error": "ValueError: bad penalty\nmore"}))
    result = cli("show", "--storage", storage, "--study", "hand")
    assert result.exit_code == 0, result.output
    assert "1 x stopped: time limit" in result.stdout
    assert "1 x failed: ValueError: bad penalty" in result.stdout
    assert "2 complete" in result.stdout


def test_an_unknown_study_or_a_missing_store_is_a_one_line_error(cli, config, workdir, user_error):
    run_experiment(config(study_name="there", n_trials=1))
    user_error(cli("show", "--study", "gone"), r"no study named 'gone'.*studies: there")
    empty = workdir / "empty"
    user_error(cli("show", "--workdir", str(empty)), r"optuna\.db does not exist")
    assert not empty.exists()  # showing creates nothing


def test_an_unreachable_storage_is_a_one_line_error(cli, user_error):
    user_error(cli("show", "--storage", "postgresql://bob:pw@127.0.0.1:1/automl"),
               r"storage: cannot read \(OperationalError")
