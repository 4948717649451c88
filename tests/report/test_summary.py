"""The run summary's keys: the core ones always, the optional ones only with a value, a retrain's
decision flattened into them."""

from automl.report import Summary
from automl.retrain import Decision

# The summary keys docs/cli.md documents, without tracking.
CORE_KEYS = {"study_name", "task", "metric", "direction", "best_trial", "best_params",
             "best_cv_score", "best_cv_std", "test_metrics", "n_trials", "rows_dropped",
             "dropped_columns", "train_rows", "test_rows", "test_fingerprint", "data_fingerprint",
             "data", "seed", "storage", "model_path", "plots", "elapsed_s", "timings", "importance",
             "selection", "report"}
TRACKING_KEYS = {"mlflow_run_id", "model_uri", "run_model_uri"}
DECISION_KEYS = {"decision", "reason", "challenger_score", "champion_score", "champion_version",
                 "schema_changes", "drift"}


def _summary(**extra) -> Summary:
    return Summary(study_name="s", task="binary", metric="roc_auc", direction="maximize",
                   best_trial=0, best_params={}, best_cv_score=0.9, best_cv_std=None,
                   test_metrics={}, n_trials={}, rows_dropped=0, dropped_columns={}, train_rows=1,
                   test_rows=1, test_fingerprint="t", data_fingerprint="d", data="x.csv", seed=0,
                   storage="sqlite:///x", model_path="m", plots=[], **extra)


def test_optional_keys_appear_only_with_a_value():
    assert set(_summary().to_dict()) == CORE_KEYS
    tracked = _summary(mlflow_run_id="r", model_uri="models:/m/1", run_model_uri="runs:/r/model",
                       registered_model="m", registered_version=1, workers=2, worker_exit_codes=[0, 0])
    assert set(tracked.to_dict()) == CORE_KEYS | TRACKING_KEYS | {
        "registered_model", "registered_version", "workers", "worker_exit_codes"}


def test_a_decision_is_flattened_with_its_empty_scores_kept():
    decision = Decision(True, "first model: no champion yet", 0.9, None, None, [], {})
    out = _summary(decision=decision).to_dict()
    assert DECISION_KEYS <= set(out) and "promote" not in out
    assert (out["decision"], out["champion_score"], out["champion_version"]) == ("promoted", None, None)
    assert decision.version_tags()["automl.decision"] == "promoted"
