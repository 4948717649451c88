"""What the card and the report state, from trials built directly."""

from __future__ import annotations

import optuna
import pandas as pd

from automl.artifacts import families, final_model_words, run_facts
from automl.trial import attrs


def _trial(number: int, family: str, value: float):
    trial = optuna.trial.create_trial(value=value, params={}, distributions={}, user_attrs={
        attrs.SPEC: {attrs.FAMILY: family, attrs.MODEL_PARAMS: {}, attrs.PREP_PARAMS: {}},
        attrs.FOLDS: {attrs.FOLD_SCORES: [value] * 3, attrs.CV_STD: 0.01}})
    study = optuna.create_study(direction="maximize")
    for _ in range(number):
        study.add_trial(optuna.trial.create_trial(value=0.0, params={}, distributions={}))
    study.add_trial(trial)
    return study.trials[-1]


def test_the_final_model_is_named_as_a_trial_or_as_an_ensemble_with_its_weights():
    best, other = _trial(3, "lightgbm", 0.9), _trial(7, "logistic", 0.8)
    assert final_model_words(best, []) == "trial 3 (lightgbm)"
    assert final_model_words(best, [(best, 0.6), (other, 0.4)]) == \
        "ensemble of trial 3 (lightgbm, weight 0.60), trial 7 (logistic, weight 0.40)"


def test_families_count_trials_and_keep_each_family_s_best_score_best_first():
    board = pd.DataFrame({"family": ["knn", "logistic", "knn"], "cv_score": [0.9, 0.8, 0.7]})
    assert families(board) == {"knn": (2, 0.9), "logistic": (1, 0.8)}


def test_the_facts_say_what_ships_and_mask_a_password_in_the_data_path():
    best = _trial(0, "lightgbm", 0.9)
    facts = run_facts(name="m", study="s", seed=0, data="postgresql://u:secret@h/db", data_fingerprint="f",
                      metric="roc_auc", space="fast.yaml", time_column=None, test_metrics={"roc_auc": 0.88},
                      test_rows=100, n_trials={"COMPLETE": 1}, trial=best, members=[], ensemble=None,
                      importance=None, selection=None, refit_full={"rows": 500, "skipped": "no time"},
                      decision=None, comparison=None)
    assert "secret" not in facts["data"]
    assert facts["cv"] == {"score": 0.9, "std": 0.01, "folds": 3} and facts["ensemble_cv"] is None
    assert facts["final_model"] == "trial 0 (lightgbm)" and facts["refit_full_rows"] is None
