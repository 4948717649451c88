"""Files on disk, written so that a crash never leaves half a file where one is expected.

Each file is written under a unique temporary name in its folder and renamed into place
(:mod:`automl._files`): two runs writing the same file never share a temporary file, a reader
sees the old or the new file, and a link planted at a file's name is replaced, not followed.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from automl._files import FileLock, atomic_path, ensure_file, private_folder, write_atomic
from automl.config import ExperimentConfig
from automl.data import ROWS_FILE

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"
LOCK_FILE = ".automl.lock"  # held by the run ending in a model folder (folder_lock)


def model_folder(cfg: ExperimentConfig, workdir: Path, study_name: str, create: bool = True) -> Path:
    """Where a run of the study saves its model, schema, plots and report (made private; a link
    on the way is refused). Without ``create``, only checked."""
    if cfg.output_dir:
        return private_folder(Path(cfg.output_dir), create=create)
    return private_folder(workdir, "mlruns", "models", study_name, create=create)


def remove_leftovers(folder: Path) -> int:
    """Delete the temporary files a killed process left in ``folder`` (writes it never renamed
    into place); call only when no live process can be writing there. Returns how many."""
    if not folder.is_dir():
        return 0
    left = [p for pattern in (".*.tmp", ".automl-check-*") for p in folder.rglob(pattern) if p.is_file()]
    for path in left:
        path.unlink(missing_ok=True)
    return len(left)


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, text)


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    return write_atomic(path, data)


# What a run writes into its model folder; a later run of the study moves them aside first.
RUN_FILES = (MODEL_FILE, MODEL_FILE + ".sig", SCHEMA_FILE, ROWS_FILE, "leaderboard.csv", "model_card.md", "report.html", "plots")


def check_model_folder(folder: Path) -> Path:
    """Refuse, before the search, a link (or another user's file) where a run will write in
    ``folder``; return ``folder``."""
    for name in RUN_FILES + ("previous", LOCK_FILE):
        if name in ("plots", "previous"):
            private_folder(folder, name, create=False)
        else:
            ensure_file(folder / name, create=False)
    return folder


def folder_lock(folder: Path, timeout: float | None = None) -> FileLock:
    """The lock a run holds from moving the previous files aside until it has reported: the
    files in ``folder`` are then one run's, and a second run of the study waits for the first
    (up to ``timeout``, then ``TimeoutError``)."""
    return FileLock(folder / LOCK_FILE, timeout=timeout)


def own_folder(folder: Path, wait: float | None, held: ExitStack) -> tuple[Path, bool]:
    """``folder``, locked (in ``held``) until the run has reported: its files are then all this
    run's. Past ``wait`` seconds (another run of the study is ending there; its MLflow logging can
    take a minute), a folder of its own, ``<folder>/concurrent/<time>-<pid>``. Returns the folder
    and whether it is that one of its own."""
    import time

    try:
        held.enter_context(folder_lock(folder, timeout=wait))
        return folder, False
    except TimeoutError:
        own = private_folder(folder, "concurrent", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{os.getpid()}")
        held.enter_context(folder_lock(own))
        return own, True


def keep_previous(folder: Path) -> Path | None:
    """Move an earlier run's files out of ``folder`` into ``folder/previous/<time of its
    model>/`` (a new folder each time) so that a resumed study does not overwrite them; return
    where, or None. ``folder`` comes from :func:`automl._files.private_folder`; hold its
    :func:`folder_lock`."""
    import time

    try:
        made = os.lstat(folder / MODEL_FILE).st_mtime
    except FileNotFoundError:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(made))
    previous, n = private_folder(folder, "previous"), 1
    dest = previous / stamp
    while True:
        try:
            os.mkdir(dest, 0o700)
            break
        except FileExistsError:
            n += 1
            dest = previous / f"{stamp}-{n}"
    for name in RUN_FILES:
        try:
            os.replace(folder / name, dest / name)
        except FileNotFoundError:
            pass
    return dest


def save_model(pipeline, model_schema: dict[str, Any], folder: Path, rows: bytes | None = None) -> Path:
    """Write the fitted pipeline (joblib), its schema and the hashes of the rows it was fitted on
    (``training_rows.npz``) next to it; return the model path."""
    import joblib

    from automl._trust import sign

    path = folder / MODEL_FILE
    with atomic_path(path) as tmp:
        joblib.dump(pipeline, tmp)
    sign(path)  # automl predict loads this pickle only with a valid signature
    write_atomic(folder / SCHEMA_FILE, json.dumps(model_schema, indent=2))
    if rows is not None:
        write_bytes_atomic(folder / ROWS_FILE, rows)
    return path
