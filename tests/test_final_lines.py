"""The final lines of ``automl run``: what the reviewer reads first about the final model."""

import io

import pandas as pd
from rich.console import Console

from automl.report import Reporter


def _final_text(ensemble: dict) -> str:
    summary = {"metric": "rmse", "direction": "minimize", "test_rows": 10, "test_metrics": {"rmse": 1.5},
               "ensemble": ensemble, "n_trials": {"COMPLETE": 9}, "model_path": "m"}
    board = pd.DataFrame({"trial": [3], "family": ["lightgbm"], "cv_score": [1.2], "cv_std": [0.1],
                          "fit_time_s": [0.5]})
    out = io.StringIO()
    Reporter(out=Console(file=out, width=200)).final(summary, board)
    return out.getvalue()


def test_an_ensemble_that_beat_the_best_trial_but_was_not_kept_says_why():
    text = _final_text({"chosen": False, "cv_score": 550.7, "single_cv_score": 561.0, "members": [],
                        "not_chosen": "two members need about 31.0 s; 20.4 s were left for them"})
    assert ("final model: the best trial, not the ensemble (CV 550.7000 against 561.0000): "
            "two members need about 31.0 s; 20.4 s were left for them") in text


def test_a_kept_ensemble_names_its_members_and_no_reason():
    text = _final_text({"chosen": True, "cv_score": 550.7, "single_cv_score": 561.0,
                        "members": [{"trial": 3, "weight": 0.6}, {"trial": 5, "weight": 0.4}]})
    assert "final model: ensemble of trials 3 (0.60), 5 (0.40); CV 550.7000 against 561.0000" in text
    assert "not the ensemble" not in text
