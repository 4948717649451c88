"""A study over search_spaces/optimizers.yaml: every optimizer gets tried, per-epoch losses are
kept on the trial and logged to MLflow as a step metric."""

from __future__ import annotations

import optuna
import pytest

from automl.config import ExperimentConfig
from automl.families.gd import OPTIMIZERS
from automl.run import run_experiment


@pytest.fixture(scope="module")
def optimizer_study(tmp_path_factory):
    work = tmp_path_factory.mktemp("optimizers")
    cfg = ExperimentConfig(data="demo:breast_cancer", space="optimizers.yaml", n_trials=40, cv=3,
                           n_jobs=1, seed=0, workdir=str(work), quiet=True, study_name="opt")
    summary = run_experiment(cfg)
    study = optuna.load_study(study_name="opt", storage=f"sqlite:///{work / 'mlruns' / 'optuna.db'}")
    return summary, study, work


def test_every_optimizer_is_tried(optimizer_study):
    summary, study, _ = optimizer_study
    tried = {t.params.get("gd.optimizer") for t in study.trials}
    assert tried == set(OPTIMIZERS)
    best = study.best_trial
    assert summary["best_trial"] == best.number and summary["best_cv_score"] == best.value
    assert {k: summary["best_params"][k] for k in best.params} == best.params  # searched ones
    assert summary["test_metrics"]["roc_auc"] > 0.95


def test_epoch_losses_are_kept_and_logged(optimizer_study):
    summary, study, work = optimizer_study
    from mlflow import MlflowClient

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert complete and all(len(t.user_attrs["epoch_loss"]) >= 1 for t in complete)
    client = MlflowClient(f"sqlite:///{work / 'mlruns' / 'mlflow.db'}")
    trial = complete[0]
    history = client.get_metric_history(trial.user_attrs["mlflow_run_id"], "epoch_loss")
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
        trial.user_attrs["epoch_loss"])
