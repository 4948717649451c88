"""The portfolio in whole runs: baselines, then the portfolio's entries, then TPE; one entry at a
time, so a short run leaves nothing waiting."""

from __future__ import annotations

import optuna

from automl.run import run_experiment
from automl.space import baseline_trials, load_space, portfolio_trials

from tests.space.test_portfolio import SPACE


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
