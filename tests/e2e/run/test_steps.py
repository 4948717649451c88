"""automl.run's final steps: the outcome they fill, the summary's keys, one step = one output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automl.data import ROWS_FILE
from automl.finish import FINAL_STEPS, _steps
from automl.run import run_experiment
from automl.tracking import Artifact

from tests.report.test_summary import CORE_KEYS, TRACKING_KEYS

IMPORTANCE = "importance/permutation_importance.csv"


def test_steps_run_in_flow_order():
    assert [s.__name__ for s in FINAL_STEPS] == [
        "pick", "choose", "refit_best", "test", "explain", "refit_full", "describe_schema", "save", "rank",
        "plot", "judge", "card", "page", "log"]


def test_untracked_summary_has_the_core_keys_only(config, workdir):
    summary = run_experiment(config(summary_json=str(workdir / "s.json"), ensemble_rounds=0))
    assert set(summary) == CORE_KEYS | {"refit_full"}  # on by default after a holdout split
    assert json.loads((workdir / "s.json").read_text()) == json.loads(json.dumps(summary, default=str))


def test_a_new_output_is_one_more_step(config, workdir, monkeypatch):
    """An extra step before ``log`` adds an artifact; it reaches MLflow with nothing else changed."""
    from mlflow import MlflowClient

    def note(outcome):
        outcome.artifacts.append(Artifact.of_text("notes/best.txt", f"trial {outcome.trial.number}"))

    steps = list(FINAL_STEPS)
    monkeypatch.setattr(_steps, "FINAL_STEPS", tuple(steps[:-1] + [note, steps[-1]]))
    summary = run_experiment(config(tracking=True, study_name="steps"))
    client = MlflowClient(f"sqlite:///{workdir / 'mlruns' / 'mlflow.db'}")
    text = client.download_artifacts(summary["mlflow_run_id"], "notes/best.txt", str(workdir))
    assert open(text).read() == f"trial {summary['best_trial']}"
    assert TRACKING_KEYS <= set(summary)


@pytest.mark.parametrize("steps", [4, 8])
def test_steps_fill_the_outcome_in_order(config, monkeypatch, steps):
    """Stopping after a prefix of the steps leaves exactly their fields set."""
    seen = {}

    def stop(outcome):
        seen["outcome"] = outcome
        raise RuntimeError("stop")

    monkeypatch.setattr(_steps, "FINAL_STEPS", tuple(list(FINAL_STEPS)[:steps]) + (stop,))
    with pytest.raises(RuntimeError, match="stop"):
        run_experiment(config())
    outcome = seen["outcome"]
    assert outcome.model is not None and outcome.test_metrics  # choose, refit_best, test
    assert (outcome.model_path is not None) == (steps >= 8)  # save is the eighth step
    own = [a.path or Path(a.file).name for a in outcome.artifacts
           if a.path not in ("ensemble.json", IMPORTANCE, "selection.json", "pareto.csv")]
    # describe writes the schema (seventh step); save adds the rows the model learnt from
    assert own == ["schema.json"] * (steps >= 7) + [ROWS_FILE] * (steps >= 8)


def test_an_ensemble_goes_through_predict_and_the_leaderboard(config, workdir, make_table):
    """A seeded run whose ensemble beats its best trial: a voting model that predicts, with its
    members and weights in the summary and the leaderboard."""
    import numpy as np
    import pandas as pd

    from automl.predict import load_model, predict_frame

    make_table(n=240, classes=("a", "b", "c")).to_csv(workdir / "t.csv", index=False)
    summary = run_experiment(config(data=str(workdir / "t.csv"), target="label", n_trials=12,
                                    study_name="ens", metric="log_loss", tracking=True,
                                    register_model="ens-model"))
    ensemble = summary["ensemble"]
    assert len(ensemble["members"]) > 1
    assert sum(m["weight"] for m in ensemble["members"]) == pytest.approx(1.0)
    assert ensemble["cv_score"] < ensemble["single_cv_score"]  # log loss: lower is better
    board = pd.read_csv(workdir / "mlruns" / "models" / "ens" / "leaderboard.csv")
    weights = dict(zip(board["trial"], board["ensemble_weight"]))
    model = load_model(summary["model_path"])
    assert ensemble["chosen"] and type(model).__name__ == "EnsembleClassifier"  # with this seed
    members = {m["trial"]: m["weight"] for m in ensemble["members"]}
    assert members == pytest.approx({t: w for t, w in weights.items() if w > 0})
    assert list(model.weights) == pytest.approx(sorted(members.values(), reverse=True))
    rows = pd.read_csv(workdir / "t.csv")
    proba = predict_frame(model, rows, proba=True)
    assert list(proba.columns) == ["a", "b", "c"] and proba.to_numpy().sum(axis=1) == pytest.approx(1.0)
    # The registered version is the same ensemble, loaded back from MLflow (skops).
    registered = load_model("models:/ens-model/1", f"sqlite:///{workdir}/mlruns/mlflow.db")
    assert type(registered).__name__ == "EnsembleClassifier"
    np.testing.assert_allclose(predict_frame(registered, rows, proba=True).to_numpy(), proba.to_numpy())
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir}/mlruns/mlflow.db")
    logged = json.loads(open(client.download_artifacts(summary["mlflow_run_id"], "ensemble.json",
                                                       str(workdir))).read())
    assert logged == json.loads(json.dumps(ensemble))
    assert client.get_model_version("ens-model", "1").tags["final_model"] == "ensemble"


KNN_ONLY = """
classification:
  models:
    knn:
      n_neighbors: {type: int, low: 3, high: 9}
"""


def test_refit_full_fits_the_saved_model_on_training_and_test_rows(config, workdir):
    """k-NN remembers its rows, so the saved model shows which it learnt from. The test score is
    the one test of the model fitted on the training rows, with or without the refit."""
    from automl.predict import load_model

    (workdir / "knn.yaml").write_text(KNN_ONLY)
    runs = {refit: run_experiment(config(space=str(workdir / "knn.yaml"), refit_full=refit,
                                         ensemble_rounds=0, study_name=f"refit{int(refit)}",
                                         output_dir=str(workdir / str(refit))))
            for refit in (False, True)}
    for refit, summary in runs.items():
        learnt = load_model(summary["model_path"]).named_steps["model"].n_samples_fit_
        every = summary["train_rows"] + summary["test_rows"]
        assert learnt == (every if refit else summary["train_rows"])
        assert (summary.get("refit_full") == {"rows": every}) == refit
        assert ("refit_full" in summary["timings"]) == refit
    assert runs[True]["test_metrics"] == runs[False]["test_metrics"]  # same trials, same tested model


def test_a_run_explains_its_model_by_original_column(config, workdir):
    summary = run_experiment(config(study_name="explained", output_dir=str(workdir / "out")))
    importance = summary["importance"]
    assert importance["metric"] == summary["metric"] and importance["repeats"] >= 2
    iris = {"sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"}
    assert {t["column"] for t in importance["top"]} == iris  # every column, none a derived feature
    assert importance["top"][0]["column"].startswith("petal")  # the petals tell iris species apart
    assert any(p.endswith("permutation_importance.png") for p in summary["plots"])
    assert "explain" in summary["timings"]


def test_select_simplest_keeps_a_single_trial_and_says_why(config, workdir):
    """No ensemble under the one-standard-error rule; the chosen trial is the cheapest of those
    within one standard error, and is the trial the final model and the summary come from."""
    import optuna

    from automl.trial import attrs, cost_of

    summary = run_experiment(config(study_name="simple", select="simplest", n_trials=6, pruner="none"))
    selection = summary["selection"]
    assert selection["rule"] == "simplest" and "ensemble" not in summary
    assert summary["best_trial"] == selection["chosen"]["trial"] and selection["reason"]
    study = optuna.load_study(study_name="simple", storage=summary["storage"])
    rates = {t.number: attrs.predict_rate(t) for t in study.trials}
    assert selection["chosen"]["trial"] in selection["within_one_se"]
    assert rates[selection["chosen"]["trial"]] == min(rates[n] for n in selection["within_one_se"])
    best = max(study.trials, key=lambda t: (-t.value, -t.number)) if summary["direction"] == "minimize" \
        else max(study.trials, key=lambda t: (t.value, -t.number))
    assert selection["best"]["trial"] == best.number


def test_a_resumed_study_keeps_the_previous_runs_model(config, workdir):
    folder = workdir / "mlruns" / "models" / "again"
    first = run_experiment(config(study_name="again", n_trials=2))
    old = (folder / "model.joblib").read_bytes()
    second = run_experiment(config(study_name="again", n_trials=2))
    assert first["model_path"] == second["model_path"] == str(folder / "model.joblib")  # the latest
    kept = list((folder / "previous").iterdir())
    assert len(kept) == 1 and (kept[0] / "model.joblib").read_bytes() == old
    assert {p.name for p in kept[0].iterdir()} >= {"model.joblib", "schema.json", "leaderboard.csv",
                                                   "model_card.md", "plots"}


def test_the_explanation_gets_its_time_when_the_search_used_all_the_time_it_could(monkeypatch):
    """The search stops where the plan's reserve for the end of the run begins; that reserve
    includes what the explanation's passes are expected to take, which is the explanation's to
    spend. (It used to be taken from its own allowance: every budgeted run said "0.0 s left" and
    had no importance.)"""
    from types import SimpleNamespace

    from sklearn.datasets import load_iris

    from automl.plan import Budget
    from automl.metrics import get_metric
    from automl.preprocess import build_pipeline
    from automl.families import build_estimator
    from automl.finish import Outcome
    from automl.plan import ExplainCost, SearchPlan

    monkeypatch.setenv("AUTOML_SHAP", "0")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = build_pipeline((list(X.columns), [], []), {},
                           build_estimator("logistic", "multiclass", {}, 0)).fit(X, y)
    share, now = 3.0, [0.0]
    budget = Budget(100, clock=lambda: now[0], started=0.0)
    plan = SearchPlan(budget, n_folds=5, overhead_s=1.0, exit_s=0.5,
                      explain=ExplainCost(share, passes=1 + 5 * 4, rows=len(X)))
    ctx = SimpleNamespace(budget=budget, plan=plan,
                          cfg=SimpleNamespace(seed=0, refit_full=False),
                          prep=SimpleNamespace(split=SimpleNamespace(X_test=X, y_test=y, X_train=X),
                                               metric=get_metric("multiclass", None)))
    outcome = Outcome(ctx, None, None, model=model)
    # Where the search had to stop, for a best trial predicting 100,000 rows a second.
    now[0] = 100 - plan.overhead_s - plan.exit_s - plan.explain.seconds(1e-5)
    _steps.explain(outcome)
    assert "skipped" not in outcome.importance, outcome.importance
    assert outcome.importance["top"][0]["column"].startswith("petal")


def test_refit_full_runs_when_the_rest_of_the_run_fits_after_the_explanation():
    """After the explanation, it and the ensemble choice and test are behind: the refit needs
    only what is still ahead. (Counting them again skipped a 0.5 s refit with
    4 s left on every 60 s run of the peer benchmark.)"""
    from types import SimpleNamespace

    import optuna
    from sklearn.datasets import load_iris

    from automl.plan import Budget
    from automl.families import build_estimator
    from automl.preprocess import build_pipeline
    from automl.finish import Outcome
    from automl.plan import SearchPlan
    from automl.trial import attrs, cost_of

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = build_pipeline((list(X.columns), [], []), {}, build_estimator("logistic", "multiclass", {}, 0))
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(value=0.1, params={}, distributions={}, user_attrs={
        attrs.FIT_TIME: 1.0, attrs.FOLD_SCORES: [0.1] * 5}))  # a refit of about 0.3 s
    share, now = 1.8, [0.0]
    budget = Budget(60, clock=lambda: now[0], started=0.0)
    plan = SearchPlan(budget, n_folds=5, overhead_s=3.0, exit_s=0.5)
    split = SimpleNamespace(X_train=X[:120], y_train=y[:120], X_test=X[120:], y_test=y[120:])
    ctx = SimpleNamespace(budget=budget, plan=plan, reporter=None,
                          cfg=SimpleNamespace(seed=0, refit_full=True),
                          prep=SimpleNamespace(split=split, refit_growth=1.25))
    outcome = Outcome(ctx, None, study.best_trial, model=model.fit(split.X_train, split.y_train))
    for phase, at in (("search", 53.0), ("ensemble", 53.4), ("final_fit", 53.6), ("test", 53.7),
                      ("explain", 56.0)):
        now[0] = at
        budget.mark(phase)
    _steps.refit_full(outcome)  # 4 s left: 3.0 - 0.5 behind = 2.5 s to come, 0.5 s exit, 0.5 s refit
    assert outcome.refit_full == {"rows": 150}
    assert outcome.model.named_steps["model"].n_features_in_ == 4
    now[0] = 59.2  # 0.8 s left: no longer fits, the tested model is kept and the summary says why
    outcome = Outcome(ctx, None, study.best_trial, model=model)
    ctx.reporter = SimpleNamespace(warn=lambda message: None)
    _steps.refit_full(outcome)
    assert outcome.refit_full["rows"] == 120 and "skipped" in outcome.refit_full


def test_a_refit_that_fails_keeps_the_tested_model_and_says_why():
    """The refit comes after the one test: if it fails (here the test rows hold a gap the tested
    model never had to handle), the tested model is saved, not lost with the run."""
    from types import SimpleNamespace

    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from automl.finish import Outcome

    X, y = load_iris(return_X_y=True, as_frame=True)
    X_test = X[120:].copy()
    X_test.iloc[0, 0] = np.nan
    split = SimpleNamespace(X_train=X[:120], y_train=y[:120], X_test=X_test, y_test=y[120:])
    warned = []
    ctx = SimpleNamespace(budget=SimpleNamespace(left=lambda: None), reporter=SimpleNamespace(warn=warned.append),
                          cfg=SimpleNamespace(refit_full=True), prep=SimpleNamespace(split=split))
    tested = LogisticRegression(max_iter=500).fit(split.X_train, split.y_train)
    outcome = Outcome(ctx, None, None, model=tested)
    _steps.refit_full(outcome)
    assert outcome.model is tested and outcome.refit_full["rows"] == 120
    assert "failed: ValueError" in outcome.refit_full["skipped"] and "NaN" in outcome.refit_full["skipped"]
    assert len(warned) == 1 and "the tested model is saved" in warned[0]
