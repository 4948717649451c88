"""Out-of-fold predictions of the best trials, kept for ensemble selection.

Every fold's validation predictions of a completed trial, laid out on the training rows (rows no
fold validated, e.g. outside a holdout split, are NaN), as float32. Only the ``keep`` best trials
are kept, as ``.npy`` files under ``mlruns/oof/<study>/`` so a resumed study (or ``finalize``)
can ensemble trials of earlier runs. Each file is written whole under a new name (mode 0600:
predictions on training rows are the owner's only) and renamed into place; another run of the
study may drop a file this one still counts (it is then skipped).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from automl._files import private_folder, write_atomic

KEEP = 20  # best trials whose predictions are kept


class OOFStore:
    """The out-of-fold predictions of a study's ``keep`` best complete trials."""

    def __init__(self, folder: Path, n_rows: int, maximize: bool, keep: int = KEEP):
        self.n_rows, self.maximize, self.keep = n_rows, maximize, keep
        self.folder = private_folder(folder.parent, folder.name)
        self._scores: dict[int, float] = {}  # trial number -> CV score, of the files kept

    def add(self, number: int, score: float, folds: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Keep trial ``number``'s predictions (``(validation rows, predictions)`` per fold) if it
        is among the best; drop the one it pushes out."""
        if len(self._scores) >= self.keep and not self._better(score, self._worst()[1]):
            return
        width = folds[0][1].shape[1]
        oof = np.full((self.n_rows, width), np.nan, dtype=np.float32)
        for rows, predictions in folds:
            oof[rows] = predictions
        buffer = io.BytesIO()
        np.save(buffer, oof)
        write_atomic(self._path(number), buffer.getvalue())
        self._scores[number] = score
        if len(self._scores) > self.keep:
            worst = self._worst()[0]
            self._path(worst).unlink(missing_ok=True)
            del self._scores[worst]

    def adopt(self, study) -> None:
        """Take over the files earlier runs of ``study`` left (their trials' scores from the study)."""
        from optuna.trial import TrialState

        values = {t.number: t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        for path in self.folder.glob("trial-*.npy"):
            number = int(re.findall(r"\d+", path.stem)[0])
            if number in values:
                self._scores[number] = values[number]

    def best(self, limit: int | None = None) -> list[tuple[int, np.ndarray]]:
        """``(trial number, predictions)`` of the kept trials, best first."""
        order = sorted(self._scores, key=lambda n: self._scores[n], reverse=self.maximize)
        found = []
        for n in order:
            if limit is not None and len(found) == limit:
                break
            try:
                found.append((n, np.load(self._path(n))))
            except FileNotFoundError:  # dropped by another run of the study
                del self._scores[n]
        return found

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def _worst(self) -> tuple[int, float]:
        pick = min if self.maximize else max
        number = pick(self._scores, key=lambda n: self._scores[n])
        return number, self._scores[number]

    def _path(self, number: int) -> Path:
        return self.folder / f"trial-{number:05d}.npy"
