"""``automl show``: a study's leaderboard and trial states from its storage, on stdout, without
MLflow; nothing is created when there is nothing to show."""

from __future__ import annotations

import optuna


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


def test_an_unreachable_storage_is_a_one_line_error(cli, user_error):
    user_error(cli("show", "--storage", "postgresql://bob:pw@127.0.0.1:1/automl"),
               r"storage: cannot read \(OperationalError")
