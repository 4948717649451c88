"""The preprocessing half of every model pipeline: which transformer each kind of column gets.

It lives inside the scikit-learn ``Pipeline`` so it is fitted on each CV fold's training rows only,
and travels with the saved model, so prediction applies exactly what training learnt.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from automl.data import LARGEST, parse_times

from ._encoders import CategoricalEncoder
from ._text import TextFeatures

# Searchable preprocessing parameters and their allowed values (None = any value of that type).
PREP_CHOICES: dict[str, tuple | None] = {
    "numeric_imputer": ("mean", "median", "most_frequent"),
    "scaler": ("standard", "robust", "minmax", "maxabs", "none"),
    "categorical_imputer": ("most_frequent", "constant"),
    "rare_min_frequency": None,  # categories rarer than this (count or share) become "infrequent"
    "max_categories": None,
    "missing_indicator": (True, False),
    "high_cardinality": ("target", "onehot"),  # columns with more than max_categories categories
    "text_max_features": None,  # words and word pairs kept per text column
    "text_components": None,  # dense features per text column (truncated SVD)
}
PREP_DEFAULTS: dict[str, Any] = {
    "numeric_imputer": "median",
    "scaler": "standard",
    "categorical_imputer": "most_frequent",
    "rare_min_frequency": 0.01,
    "max_categories": 30,
    "missing_indicator": False,
    "high_cardinality": "target",
    "text_max_features": 2000,
    "text_components": 30,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# The numeric ones (None above): what a value must be, checked by space validation so that a bad
# value is refused by name before the search instead of failing every trial.
PREP_NUMBERS: dict[str, tuple[Any, str]] = {
    "rare_min_frequency": (lambda v: (_is_int(v) and v >= 1) or (isinstance(v, float) and 0 < v < 1),
                           "a share between 0 and 1 (exclusive) or a row count >= 1"),
    "max_categories": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "text_max_features": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "text_components": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
}
NATIVE_MIN_ROWS = 5  # rarer categories share one code for a booster that splits categories itself
DATETIME_PARTS = ("year", "month", "day", "day_of_week", "hour")


class DatetimeExpander(TransformerMixin, BaseEstimator):
    """Turn date/time columns (datetime dtype or parseable strings) into numeric parts."""

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X):
        out = {}
        for col in X.columns:
            stamps = parse_times(X[col], col)  # mixed UTC offsets: refused, as in training
            for part in DATETIME_PARTS:
                out[f"{col}_{part}"] = getattr(stamps.dt, part).astype("float64")
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{c}_{p}" for c in self.feature_names_in_ for p in DATETIME_PARTS])


def _to_float(X):
    # Infinite values and numbers beyond float32 (which overflow where models compute) mean
    # "unknown" here, as in training (data.prepare), so impute them.
    try:
        X = np.asarray(X, dtype="float64")
    except (TypeError, ValueError):  # a placeholder such as "?" (data.check_numeric let it through)
        X = pd.DataFrame(X).apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
    return np.where(np.isfinite(X) & (np.abs(X) <= LARGEST), X, np.nan)


def _to_str(X):
    # Mixed numbers and strings in one column break OneHotEncoder; compare everything as text.
    frame = pd.DataFrame(X)
    return frame.astype(object).where(frame.notna(), np.nan).map(
        lambda v: v if v is np.nan or isinstance(v, str) else str(v)).to_numpy(dtype=object)


def build_preprocessor(numeric: list[str], categorical: list[str], datetimes: list[str],
                       params: dict[str, Any] | None = None, native_categorical: bool = False,
                       text: list[str] = (), regression: bool = False):
    """A ``ColumnTransformer`` for the given columns; ``params`` override :data:`PREP_DEFAULTS`.

    ``native_categorical``: categorical columns come first, as integer codes (rare and unseen
    categories grouped, missing as NaN) for a model that splits categories itself. Each ``text``
    column becomes ``text_components`` dense word features. ``regression``: the target is a value
    (target encoding then works on it standardised), not classes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    p = {**PREP_DEFAULTS, **(params or {})}
    numeric_steps = [FunctionTransformer(_to_float, feature_names_out="one-to-one"),
                     _imputer(p["numeric_imputer"], p["missing_indicator"]), _scaler(p["scaler"])]
    parts = []
    if categorical and native_categorical:
        parts.append(("categorical", _category_codes(p), categorical))
    if numeric:
        parts.append(("numeric", make_pipeline(*numeric_steps), numeric))
    if categorical and not native_categorical:
        parts.append(("categorical", _categorical(p, regression), categorical))
    if datetimes:
        parts.append(("datetime", make_pipeline(DatetimeExpander(), _imputer("median", False),
                                                _scaler(p["scaler"])), datetimes))
    for col in text:
        parts.append((f"text_{col}", TextFeatures(p["text_max_features"], p["text_components"]), [col]))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def _imputer(strategy: str, indicator: bool):
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy=strategy, add_indicator=bool(indicator), keep_empty_features=True)


def _scaler(name: str):
    from sklearn import preprocessing as skp

    scalers = {"standard": skp.StandardScaler, "robust": skp.RobustScaler,
               "minmax": skp.MinMaxScaler, "maxabs": skp.MaxAbsScaler}
    return scalers[name]() if name != "none" else "passthrough"


def _categorical(p: dict[str, Any], regression: bool):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    imputer = SimpleImputer(strategy=p["categorical_imputer"], fill_value="missing",
                            keep_empty_features=True)
    encoder = CategoricalEncoder(min_frequency=p["rare_min_frequency"], max_categories=p["max_categories"],
                                 high_cardinality=p["high_cardinality"], regression=regression)
    return make_pipeline(FunctionTransformer(_to_str, feature_names_out="one-to-one"), imputer, encoder)


def _category_codes(p: dict[str, Any]):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

    # No cap on the number of categories here: max_categories and rare_min_frequency are one-hot
    # limits, and applied to codes they lumped every country of a 185-country panel (each under
    # 1 % of rows) into one "infrequent" code, so the booster never saw the column. Boosters
    # smooth categories themselves; only categories too rare to split on share a code.
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                             encoded_missing_value=np.nan, min_frequency=NATIVE_MIN_ROWS)
    return make_pipeline(FunctionTransformer(_to_str, feature_names_out="one-to-one"), encoder)


def _is_regressor(estimator) -> bool:
    from sklearn.base import is_regressor

    return not isinstance(estimator, str) and is_regressor(estimator)  # "passthrough" is no model


def build_pipeline(columns: tuple[list[str], ...], prep_params: dict[str, Any],
                   estimator):
    """The full model: preprocessing then the estimator, as one unfitted ``Pipeline``. A model
    that splits categories natively (``native_categorical``) gets them first, as codes, and is
    told how many (``categorical_first``)."""
    from sklearn.pipeline import Pipeline

    numeric, categorical, datetimes, *rest = columns
    native = getattr(estimator, "native_categorical", False)
    if native:
        estimator.set_params(categorical_first=len(categorical))
    preprocessor = build_preprocessor(numeric, categorical, datetimes, prep_params,
                                      native_categorical=native, text=rest[0] if rest else (),
                                      regression=_is_regressor(estimator))
    return Pipeline([("preprocess", preprocessor), ("model", estimator)])
