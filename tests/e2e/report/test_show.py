"""``automl show`` over the study a run left."""

from __future__ import annotations

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


def test_an_unknown_study_or_a_missing_store_is_a_one_line_error(cli, config, workdir, user_error):
    run_experiment(config(study_name="there", n_trials=1))
    user_error(cli("show", "--study", "gone"), r"no study named 'gone'.*studies: there")
    empty = workdir / "empty"
    user_error(cli("show", "--workdir", str(empty)), r"optuna\.db does not exist")
    assert not empty.exists()  # showing creates nothing
