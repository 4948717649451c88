"""What data preparation promises, seen through a whole run: placeholders and odd dtypes in the
rows a saved model predicts, a categorical target with unused categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import prepare
from automl.errors import DataError
from automl.predict import predict_frame


def test_prediction_rows_with_placeholders_are_missing_values(rng, config, workdir):
    from automl.predict import load_model
    from automl.run import run_experiment

    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["y"] = 2 * frame["a"] + rng.normal(scale=0.1, size=80)
    frame.to_csv(workdir / "train.csv", index=False)
    summary = run_experiment(config(data=str(workdir / "train.csv"), target="y", n_trials=2))
    rows = pd.DataFrame({"a": ["0.5", "?"], "b": ["n/a", "0.1"]})
    out = predict_frame(load_model(summary["model_path"]), rows)
    assert np.isfinite(out["prediction"]).all()
    with pytest.raises(DataError, match="non-numeric values in the input \\(e.g. 'oops'\\)"):
        predict_frame(load_model(summary["model_path"]), rows.assign(a=["oops", "1"]))


def test_a_categorical_target_with_unused_categories_is_accepted(rng, config, workdir):
    from automl.run import run_experiment

    y = pd.Categorical(["a", "b"] * 40, categories=["a", "b", "never"])
    frame = pd.DataFrame({"x": rng.normal(size=80), "y": y})
    assert prepare(frame, "y", "auto", "src").task == "binary"
    frame.to_parquet(workdir / "cat.parquet")  # Parquet keeps the categories
    summary = run_experiment(config(data=str(workdir / "cat.parquet"), target="y", n_trials=1))
    assert summary["task"] == "binary"


def test_prediction_times_with_mixed_offsets_are_a_one_line_error(rng, config, workdir, cli, user_error):
    from automl.run import run_experiment

    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=80, freq="D", tz="UTC").astype(str),
                          "x": rng.normal(size=80), "y": ["a", "b"] * 40})
    frame.to_csv(workdir / "train.csv", index=False)
    summary = run_experiment(config(data=str(workdir / "train.csv"), target="y", n_trials=1))
    mixed = ["2024-03-01T10:00:00+01:00", "2024-06-01T10:00:00+02:00"]
    rows = frame.drop(columns="y").head(2).assign(when=mixed)
    rows.to_csv(workdir / "rows.csv", index=False)
    user_error(cli("predict", "--model", summary["model_path"], "--data", str(workdir / "rows.csv"),
                   "--output", "p.csv"), r"column 'when' mixes UTC offsets")
