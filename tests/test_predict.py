"""automl.predict and ``automl predict``: row order, probabilities, column checks, model loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl._trust import sign
from automl.data import read_table
from automl.errors import DataError, ModelLoadError
from automl.predict import load_model, predict_frame


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory) -> str:
    """A model as a run saves it (a fitted pipeline, its schema, signed), built without a search:
    automl's logistic pipeline fitted on iris's training rows. Returns the model's path."""
    from automl.artifacts import save_model, schema
    from automl.data import prepare
    from automl.families import build_estimator
    from automl.preprocess import build_pipeline
    from automl.split import holdout

    frame, _ = read_table("demo:iris")
    data = prepare(frame, "target", "auto", "demo:iris")
    split = holdout(data, 0.2, 0)
    model = build_pipeline(data.columns_by_kind, {}, build_estimator("logistic", data.task, {}, 0))
    model.fit(split.X_train, split.y_train)
    return str(save_model(model, schema(data, split), tmp_path_factory.mktemp("model")))


@pytest.fixture
def iris_rows():
    frame, _ = read_table("demo:iris")
    return frame.drop(columns="target").sample(frac=1.0, random_state=1).head(40)


def test_one_prediction_per_row_in_input_order(iris_model, iris_rows):
    model = load_model(iris_model)
    out = predict_frame(model, iris_rows)
    assert list(out.columns) == ["prediction"] and out.index.equals(iris_rows.index)
    assert out["prediction"].tolist() == model.predict(iris_rows).tolist()
    reversed_out = predict_frame(model, iris_rows.iloc[::-1])
    assert reversed_out["prediction"].tolist() == out["prediction"].tolist()[::-1]


def test_proba_has_one_column_per_class(iris_model, iris_rows):
    out = predict_frame(load_model(iris_model), iris_rows, proba=True)
    assert list(out.columns) == ["setosa", "versicolor", "virginica"]
    assert out.sum(axis=1).round(6).eq(1).all()


def test_extra_columns_ignored_and_order_free(iris_model, iris_rows):
    model = load_model(iris_model)
    shuffled = iris_rows[iris_rows.columns[::-1]].assign(extra="x")
    pd.testing.assert_frame_equal(predict_frame(model, shuffled), predict_frame(model, iris_rows))


def test_missing_feature_column(iris_model, iris_rows):
    with pytest.raises(DataError, match=r"input is missing feature columns \['petal width \(cm\)'\]"):
        predict_frame(load_model(iris_model), iris_rows.drop(columns="petal width (cm)"))


def test_proba_of_a_regression_model(rng):
    from automl.families import build_estimator
    from automl.preprocess import build_pipeline

    X, y = pd.DataFrame({"x": rng.normal(size=20)}), pd.Series(rng.normal(size=20))
    model = build_pipeline((["x"], [], []), {}, build_estimator("linear", "regression", {}, 0)).fit(X, y)
    assert np.isfinite(predict_frame(model, X)["prediction"]).all()
    with pytest.raises(DataError, match="--proba: this model gives no probabilities"):
        predict_frame(model, X, proba=True)


@pytest.mark.parametrize(("make", "match"), [
    (lambda d: d / "absent.joblib", "model not found; give a model.joblib path"),
    (lambda d: d, "model not found"),  # a folder without model.joblib
    (lambda d: (d / "bad.joblib").write_text("junk") and d / "bad.joblib",
     "refused: no valid automl signature"),
    (lambda d: (d / "bad.joblib").write_text("junk") and sign(d / "bad.joblib") and d / "bad.joblib",
     "cannot load model"),  # signed by automl, yet not a model: a plain load error
])
def test_load_model_errors(workdir, make, match):
    with pytest.raises(ModelLoadError, match=match):
        load_model(str(make(workdir)))


def test_cli_predict_writes_rows_and_proba(cli, iris_model, iris_rows, workdir):
    iris_rows.to_csv(workdir / "in.csv", index=False)
    result = cli("predict", "--model", iris_model, "--data", "in.csv", "--output", "out/p.csv")
    assert result.exit_code == 0, result.output
    assert "wrote 40 predictions" in result.stderr
    assert len(pd.read_csv(workdir / "out" / "p.csv")) == 40
    folder = str(Path(iris_model).parent)  # the model's folder works as well as its file
    result = cli("predict", "--model", folder, "--data", "in.csv", "--output", "p.parquet", "--proba")
    assert result.exit_code == 0, result.output
    assert list(pd.read_parquet(workdir / "p.parquet").columns) == ["setosa", "versicolor", "virginica"]


def test_non_numeric_value_in_numeric_column(iris_model, iris_rows):
    rows = iris_rows.astype({"sepal width (cm)": object})
    rows.iloc[3, rows.columns.get_loc("sepal width (cm)")] = "wide"
    with pytest.raises(DataError, match=r"input column 'sepal width \(cm\)' is numeric in the training "
                                        r"data but has non-numeric values in the input \(e\.g\. 'wide'\)"):
        predict_frame(load_model(iris_model), rows)


@pytest.mark.parametrize(("drop", "args", "match"), [
    ("sepal length (cm)", [], r"input is missing feature columns \['sepal length \(cm\)'\]"),
    (None, ["--model", "nope.joblib"], r"nope\.joblib: model not found"),
])
def test_cli_predict_errors(cli, user_error, iris_model, iris_rows, workdir, drop, args, match):
    (iris_rows.drop(columns=drop) if drop else iris_rows).to_csv(workdir / "in.csv", index=False)
    given = {"--model": iris_model, "--data": "in.csv", "--output": "o.csv", **dict(zip(args[::2], args[1::2]))}
    user_error(cli("predict", *[x for kv in given.items() for x in kv]), match)
