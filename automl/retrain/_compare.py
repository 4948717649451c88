"""Which test rows are fair to compare a champion and a challenger on: those neither learnt from.

The champion's folder records the hashes of the rows it was fitted on (``automl.data`` row
fingerprints); the challenger's test rows are never in its own training part, but a table can
repeat a row, so a test row equal to one of its training rows is left out as well. With groups,
a row whose group the champion saw is left out too (rows of one group are not independent), and
with a time column so is a row no newer than the newest the champion was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from automl.errors import ConfigError
from automl.metrics import Predictions
from automl.data import row_hashes, seen

TOO_FEW_RULES = ("keep", "cv")


@dataclass(frozen=True)
class Rules:
    """How the gate decides: the gain required, how sure it must be, and what to do when too
    few test rows are unseen by both models (``keep`` the champion, or compare the ``cv`` scores)."""

    min_improvement: float = 0.0
    confidence: float = 0.95
    min_rows: int = 50
    too_few: str = "keep"

    def __post_init__(self):
        if not 0 < self.confidence < 1:
            raise ConfigError(f"--confidence must be between 0 and 1 (exclusive), got {self.confidence}")
        if self.min_rows < 1:
            raise ConfigError(f"--min-unseen-rows must be at least 1, got {self.min_rows}")
        if self.too_few not in TOO_FEW_RULES:
            raise ConfigError(f"--too-few-unseen must be one of {', '.join(TOO_FEW_RULES)}, got {self.too_few!r}")


@dataclass
class Rows:
    """The comparison rows among the test rows, and why the others were left out."""

    mask: np.ndarray  # per test row
    test_rows: int
    seen_by_champion: int | None  # None: the champion did not record its rows
    seen_by_challenger: int
    basis: str
    not_newer: int | None = None  # time_column: rows not newer than the champion's newest

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    @property
    def why(self) -> str:
        if self.seen_by_champion is None:
            return self.basis
        older = "" if self.not_newer is None else \
            f", {self.not_newer} are not newer than the champion's newest training row"
        return (f"of {self.test_rows}, {self.seen_by_champion} were among the champion's training rows"
                f"{older} and {self.seen_by_challenger} repeat a challenger training row")

    def summary(self, needed: int) -> dict[str, Any]:
        return {"rows": self.count, "needed": needed, "test_rows": self.test_rows,
                "seen_by_champion": self.seen_by_champion, "seen_by_challenger": self.seen_by_challenger,
                "not_newer_than_champion": self.not_newer, "basis": self.basis}


def unseen_by(champion, X, y, task: str, kinds: dict[str, str], hashes: np.ndarray,
              groups: np.ndarray | None):
    """Per row: not learnt by ``champion`` (its rows and groups); None when it recorded none or
    the columns it hashed are not all in ``X``. ``hashes`` were made with ``kinds``: the rows are
    hashed again only if the champion hashed other columns."""
    recorded = champion.schema.get("training_rows")
    if champion.rows is None or not recorded:
        return None
    columns = recorded["columns"]
    if any(c not in X.columns for c in columns):
        return None
    if dict(columns) != kinds or task != recorded.get("task"):
        hashes = row_hashes(X, y, columns, recorded.get("task", task), recorded["salt"])
    mask = ~seen(hashes, champion.rows)
    if groups is not None and champion.groups is not None:
        mask &= ~seen(groups, champion.groups)
    return mask


def comparison_rows(champion, data, split, prints) -> Rows:
    """The test rows neither the champion nor the challenger (before any refit) learnt from."""
    n = len(split.y_test)
    train = prints.table[split.train_index]
    repeats = seen(prints.test, train)
    groups = prints.groups[split.test_index] if prints.groups is not None and split.test_index is not None else None
    unseen = unseen_by(champion, split.X_test, split.y_test, data.task, prints.kinds, prints.test, groups)
    if unseen is None:
        why = (f"champion v{champion.version} did not record the rows it was fitted on (saved by an "
               "automl before row fingerprints, or its columns are gone)")
        return Rows(np.zeros(n, dtype=bool), n, None, int(repeats.sum()), why)
    older = not_newer(champion, prints, split)
    basis = "test rows unseen by the champion (row fingerprints) and by the challenger"
    if older is None:
        return Rows(unseen & ~repeats, n, int((~unseen).sum()), int(repeats.sum()), basis)
    return Rows(unseen & ~repeats & ~older, n, int((~unseen).sum()), int(repeats.sum()),
                basis + ", newer than the champion's newest training row", int(older.sum()))


def not_newer(champion, prints, split) -> np.ndarray | None:
    """Per test row, with time_column: is it no newer than the newest row the champion was fitted
    on? (A model of a time series is judged on the time after it.) None when unknown."""
    recorded = champion.schema.get("training_rows") or {}
    newest, kind = recorded.get("newest_time"), recorded.get("time_kind")
    if newest is None or prints.times is None or split.test_index is None or prints.time_kind != kind:
        return None
    return prints.times[split.test_index] <= newest


def subset(pred: Predictions, mask: np.ndarray) -> Predictions:
    """The predictions on the rows ``mask`` keeps."""
    pick = (lambda a: None if a is None else np.asarray(a)[mask])
    return Predictions(pick(pred.labels), pick(pred.scores), pred.classes)
