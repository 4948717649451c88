"""automl.preprocess: the ColumnTransformer inside every pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.preprocess import DATETIME_PARTS, PREP_CHOICES, build_pipeline, build_preprocessor


@pytest.fixture
def mixed(rng) -> pd.DataFrame:
    n = 40
    df = pd.DataFrame({
        "num": rng.normal(size=n),
        "cat": rng.choice(["a", "b", "c"], n).astype(object),
        "when": pd.date_range("2022-03-01", periods=n, freq="13h").astype(str),
    })
    df.loc[[0, 1], "num"] = [np.nan, np.inf]
    df.loc[[2, 3], "cat"] = np.nan
    df.loc[4, "cat"] = "rare"
    df.loc[5, "when"] = None
    return df


def _transform(frame, params=None, fit_rows=None):
    pre = build_preprocessor(["num"], ["cat"], ["when"], params).set_output(transform="pandas")
    pre.fit(frame if fit_rows is None else frame.iloc[fit_rows])
    return pre, pre.transform(frame)


def test_output_is_finite_and_named(mixed):
    _, out = _transform(mixed)
    assert np.isfinite(out.to_numpy(dtype=float)).all()
    assert {f"when_{p}" for p in DATETIME_PARTS} <= set(out.columns)
    assert "num" in out.columns and any(c.startswith("cat_") for c in out.columns)
    assert len(out) == len(mixed)


def test_datetime_parts_are_the_calendar_values(mixed):
    _, out = _transform(mixed, {"scaler": "none"})
    assert out.loc[10, "when_month"] == 3 and out.loc[10, "when_hour"] == (10 * 13) % 24
    assert out.loc[10, "when_day_of_week"] == pd.Timestamp(mixed.loc[10, "when"]).day_of_week


def test_rare_and_unseen_categories_are_infrequent(mixed):
    params = {"rare_min_frequency": 2, "scaler": "none"}
    pre, _ = _transform(mixed, params)
    assert "cat_infrequent_sklearn" in pre.get_feature_names_out()
    unseen = mixed.head(3).assign(cat=["zzz", "a", None])
    out = pre.transform(unseen)
    assert out.loc[0, "cat_infrequent_sklearn"] == 1.0
    assert out.filter(like="cat_").sum(axis=1).tolist() == [1.0, 1.0, 1.0]


def test_missing_indicator_and_no_scaler(mixed):
    _, out = _transform(mixed, {"missing_indicator": True, "scaler": "none", "numeric_imputer": "mean"})
    indicator = [c for c in out.columns if c.startswith("missingindicator")]
    assert out[indicator[0]].tolist()[:3] == [1.0, 1.0, 0.0]  # NaN and inf are both missing
    finite = mixed["num"].iloc[2:]
    assert out.loc[0, "num"] == pytest.approx(finite.mean())


# What each scaler learns, computed by hand from the rows it was fitted on.
SCALER_STATS = {
    "standard": ("mean_", lambda v: v.mean()),
    "robust": ("center_", lambda v: np.median(v)),
    "minmax": ("data_min_", lambda v: v.min()),
    "maxabs": ("max_abs_", lambda v: np.abs(v).max()),
}


@pytest.mark.parametrize("scaler", [s for s in PREP_CHOICES["scaler"] if s != "none"])
def test_scalers_fit_on_given_rows(mixed, scaler):
    fit_rows = list(range(20, 40))  # the later rows only; the first ones hold NaN and inf
    pre, out = _transform(mixed, {"scaler": scaler}, fit_rows=fit_rows)
    attr, expected = SCALER_STATS[scaler]
    fitted = pre.named_transformers_["numeric"][-1]
    seen = mixed["num"].iloc[fit_rows].to_numpy()
    assert getattr(fitted, attr)[0] == pytest.approx(expected(seen))
    assert getattr(fitted, attr)[0] != pytest.approx(expected(mixed["num"].iloc[2:].to_numpy()))
    # Rows outside the fit are transformed with those statistics, not their own.
    other = list(range(2, 20))
    assert out.loc[other, "num"].to_numpy() == pytest.approx(
        np.asarray(fitted.transform(mixed.loc[other, ["num"]])).ravel())


def test_mixed_type_categories_are_compared_as_text():
    frame = pd.DataFrame({"c": [1, "1", "x", 2.5, None, "x"] * 3})
    pre = build_preprocessor([], ["c"], [], {"rare_min_frequency": None})
    assert pre.fit_transform(frame).shape == (18, 4)  # "1", "2.5", "x", and the imputed value


def test_only_declared_columns_are_used(mixed):
    pipe = build_pipeline((["num"], [], []), {}, "passthrough")
    out = pipe.fit(mixed.assign(extra=1.0)).transform(mixed)
    assert out.shape == (len(mixed), 1)
