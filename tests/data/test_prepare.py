"""Hostile but common input: placeholders in numbers, a constant target, groups with holes,
values shown as written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import prepare, read_table
from automl.errors import DataError


def _frame(rng, n=60) -> pd.DataFrame:
    return pd.DataFrame({"size": rng.normal(size=n).round(3).astype(str), "y": rng.normal(size=n)})


def test_a_stray_placeholder_in_numbers_is_missing_not_text(rng, workdir):
    frame = _frame(rng)
    frame.loc[[3, 7], "size"] = ["?", "N/A"]
    frame.to_csv(workdir / "t.csv", index=False)
    data = prepare(read_table(str(workdir / "t.csv"))[0], "y", "auto", "t.csv")
    assert data.numeric == ["size"] and data.categorical == []
    assert data.X["size"].isna().sum() == 2 and data.X["size"].dtype.kind == "f"


def test_a_word_among_numbers_keeps_the_column_text(rng):
    frame = _frame(rng).assign(size=rng.integers(0, 5, 60).astype(str))
    frame.loc[3, "size"] = "large"  # not a placeholder: the column really holds words
    assert prepare(frame, "y", "auto", "src").categorical == ["size"]


def test_a_constant_regression_target_is_refused(rng):
    frame = _frame(rng).assign(y=5.0)
    with pytest.raises(DataError, match=r"target 'y' has a single value \(5.0\); there is nothing to learn"):
        prepare(frame, "y", "regression", "src")


def test_a_missing_group_is_refused(rng):
    frame = _frame(rng).assign(g=np.where(np.arange(60) == 4, None, "a"))
    with pytest.raises(DataError, match=r"group_column 'g' is missing in 1 rows"):
        prepare(frame, "y", "auto", "src", group_column="g")


def test_values_in_messages_are_shown_as_written(rng):
    frame = _frame(rng).assign(y=np.int64(7))
    with pytest.raises(DataError, match=r"single class \(7\)"):
        prepare(frame, "y", "binary", "src")


def test_times_with_mixed_utc_offsets_are_refused(rng):
    frame = _frame(rng).assign(when=["2024-03-01T10:00:00+01:00", "2024-06-01T10:00:00+02:00"] * 30)
    with pytest.raises(DataError, match=r"column 'when' mixes UTC offsets \(e.g. '2024-03-01T10:00:00\+01:00' "
                                        r"and '2024-06-01T10:00:00\+02:00'\); .*one offset or in UTC"):
        prepare(frame, "y", "auto", "src")
    with pytest.raises(DataError, match=r"time_column: column 'when' mixes UTC offsets"):
        prepare(frame, "y", "auto", "src", time_column="when")


def test_lists_in_parquet_cells_are_refused(rng, workdir):
    frame = _frame(rng).assign(tags=[["a", "b"], ["c"]] * 30)
    frame.to_parquet(workdir / "t.parquet")
    with pytest.raises(DataError, match=r"column 'tags' holds lists \(e.g. \['a', 'b'\]\); .*one value"):
        prepare(read_table(str(workdir / "t.parquet"))[0], "y", "auto", "t.parquet")


def test_an_integer_identifier_column_is_kept_with_a_warning(rng):
    frame = _frame(rng).assign(size=rng.normal(size=60), customer_id=np.arange(1000, 1060))
    data = prepare(frame, "y", "auto", "src")
    assert "customer_id" in data.numeric
    assert data.warnings == ["column 'customer_id' looks like an identifier (60 distinct whole numbers); "
                             "it is used as a number: drop it if it only names rows"]
    assert prepare(_frame(rng).assign(size=rng.normal(size=60)), "y", "auto", "src").warnings == []
