"""The trial memory limit in a whole run: the fold over it fails alone."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

from automl.run import run_experiment
from automl.trial import attrs


def test_a_fold_over_its_memory_limit_fails_alone(rng, workdir, config):
    # One-hot of a 1500-level column is ~40 MB dense per fold; five levels are nothing.
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n),
                          "level": [f"L{i % 1500}" for i in rng.permutation(n)]})
    frame["y"] = np.where(frame["x"] + rng.normal(size=n) > 0, "p", "n")
    frame.to_csv(workdir / "wide.csv", index=False)
    (workdir / "space.yaml").write_text(
        "preprocessing:\n  max_categories: {type: categorical, choices: [5, 100000]}\n"
        "  rare_min_frequency: null\nmodels:\n  naive_bayes: {}\n")
    summary = run_experiment(config(data=str(workdir / "wide.csv"), target="y", n_trials=6,
                                    space=str(workdir / "space.yaml"), trial_memory_mb=30,
                                    study_name="mem"))
    study = optuna.load_study(study_name="mem", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed and all(t.params["prep.max_categories"] == 100000 for t in failed)
    assert all("MemoryError" in attrs.error(t) and "trial_memory_mb=30" in attrs.error(t)
               for t in failed)
    assert summary["best_params"]["prep.max_categories"] == 5
    assert summary["n_trials"]["COMPLETE"] >= 1
