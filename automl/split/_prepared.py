"""The data side of an experiment, ready to search: the table read and checked, the test rows
locked away, the CV folds made, the metric chosen, every row's hash kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from automl.config import ExperimentConfig
from automl.data import (Dataset, RowPrints, align_test_frame, fingerprint, group_hashes, kinds_of, prepare,
                         read_table, row_hashes)
from automl.errors import shown
from automl.metrics import Metric, get_metric

from ._split import Split, choose_folds, cv_folds, given_test, holdout

# Per row of the table: True where the test rows should come from first (None: no preference).
Unseen = Callable[[Dataset, dict[str, str], np.ndarray, "np.ndarray | None"], "np.ndarray | None"]


@dataclass
class Prepared:
    """The data side of an experiment, ready to search."""

    data: Dataset
    split: Split
    folds: list[tuple]
    metric: Metric
    data_fingerprint: str
    prints: RowPrints
    test_rows_dropped: int = 0

    @property
    def refit_growth(self) -> float:
        """A refit on training and test rows against one on the training rows (refit_full)."""
        return (len(self.split.y_train) + len(self.split.y_test)) / len(self.split.y_train)

    @property
    def columns(self) -> tuple[list[str], list[str], list[str]]:
        """Numeric, categorical and datetime feature columns, as the pipeline takes them."""
        return self.data.columns_by_kind


def prepare_data(cfg: ExperimentConfig, warn: Callable[[str], None], salt: str,
                 unseen: Unseen | None = None) -> Prepared:
    """Read and check the data, lock away the test rows, materialise the CV folds.

    Rows are hashed with ``salt``. In a retrain, ``unseen`` says which rows the champion has not
    learnt from: the test rows are drawn from those first, so that both models can be compared on
    rows neither learnt from."""
    frame, name = read_table(cfg.data)
    data = prepare(frame, cfg.target, cfg.task, cfg.data, cfg.group_column, cfg.time_column)
    data.name = name
    for col, why in data.dropped_columns.items():
        warn(f"dropped column {shown(col)}: {why}")
    for warning in data.warnings:
        warn(warning)
    if data.rows_dropped:
        warn(f"dropped {data.rows_dropped} rows with a missing target")
    time_ordered = cfg.time_column is not None
    test_dropped = 0
    kinds = kinds_of(data.numeric, data.datetime, data.categorical + data.text)
    table = row_hashes(data.X, data.y, kinds, data.task, salt)
    groups = group_hashes(data.groups, salt) if data.groups is not None else None
    if cfg.test_data:
        test_frame, _ = read_table(cfg.test_data)
        X_test, y_test, test_dropped = align_test_frame(test_frame, data, str(data.y.name), cfg.test_data)
        split = given_test(data, X_test, y_test)
        test = row_hashes(X_test, y_test, kinds, data.task, salt)
    else:
        prefer = unseen(data, kinds, table, groups) if unseen is not None and not time_ordered else None
        split = holdout(data, cfg.test_size, cfg.seed, time_ordered, prefer=prefer)
        test = table[split.test_index]
    k = cfg.cv or choose_folds(len(split.y_train), len(data.feature_columns), cfg.timeout)
    folds = cv_folds(split, data.task, k, cfg.seed, time_ordered)
    metric = get_metric(data.task, cfg.metric)
    prints = RowPrints(salt, kinds, table, test, groups, data.times, data.time_kind)
    return Prepared(data, split, folds, metric, fingerprint(split.X_train, split.y_train), prints, test_dropped)
