"""Writes under the work folder never follow a link planted there (automl/_files.py), and what a
run keeps there is private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from automl._files import FileLock, ensure_file, private_folder, write_atomic
from automl.errors import ConfigError

STUDY = "s"
FAST = ["--data", "demo:iris", "--study-name", STUDY, "--space", "fast.yaml", "--n-trials", "2",
        "--cv", "2", "--n-jobs", "1", "--quiet"]
# Where a link can be planted, and what else the run needs for it to matter there.
PLANTED = {
    "mlruns": [],
    f"mlruns/models/{STUDY}": [],
    f"mlruns/models/{STUDY}/plots": [],
    f"mlruns/models/{STUDY}/previous": [],
    f"mlruns/models/{STUDY}/model.joblib": [],
    f"mlruns/models/{STUDY}/.automl.lock": [],
    "mlruns/models": [],
    "mlruns/oof": [],
    f"mlruns/oof/{STUDY}": [],
    "mlruns/locks": [],
    "mlruns/optuna.db": [],
    "mlruns/optuna.db-wal": [],
    "mlruns/optuna.db.lock": [],
    "mlruns/workers": ["--workers", "2"],
    "mlruns/optuna-journal.log": ["--workers", "2"],
    "mlruns/artifacts": ["tracking"],
    "mlruns/artifacts/models": ["tracking"],
    "mlruns/mlflow.db": ["tracking"],
    "mlruns/mlflow.db.lock": ["tracking"],
}
FILES = ("model.joblib", "optuna.db", "optuna.db-wal", ".lock", "optuna-journal.log", "mlflow.db")


def _victims(workdir: Path) -> tuple[Path, Path]:
    folder, file = workdir / "outside", workdir / "outside.txt"
    folder.mkdir()
    file.write_text("keep me")
    return folder, file


def _plant(workdir: Path, where: str, target: Path) -> Path:
    link = workdir / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("where", sorted(PLANTED))
def test_a_link_planted_in_the_work_folder_is_refused_and_nothing_is_written_through_it(
        where, cli, workdir, user_error):
    folder, file = _victims(workdir)
    link = _plant(workdir, where, file if where.endswith(FILES) else folder)
    extra = [x for x in PLANTED[where] if x != "tracking"]
    if "tracking" not in PLANTED[where]:
        extra.append("--no-tracking")
    line = user_error(cli("run", *FAST, *extra), "refused: a symbolic link")
    assert str(link) in line
    assert list(folder.iterdir()) == [] and file.read_text() == "keep me"
    assert link.is_symlink()  # refused, not removed


def test_a_folder_another_user_owns_or_anyone_may_write_is_refused(run_cli, workdir, user_error):
    models = workdir / "mlruns" / "models"
    models.mkdir(parents=True)
    models.chmod(0o777)
    user_error(run_cli("--study-name", STUDY), rf"{models}: refused: every user may write into it")
    if os.getuid() != 0:
        return  # only root can give a folder away
    models.chmod(0o755)
    (models / STUDY).mkdir()
    os.chown(models / STUDY, 65534, 65534)
    user_error(run_cli("--study-name", STUDY), rf"{models / STUDY}: refused: owned by another user")


def test_folders_are_made_private_and_checked_all_the_way_down(tmp_path):
    made = private_folder(tmp_path, "a", "b")
    assert made == tmp_path / "a" / "b" and stat.S_IMODE(made.stat().st_mode) == 0o700
    (tmp_path / "elsewhere").mkdir()
    (made / "c").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match=r"/a/b/c: refused: a symbolic link"):
        private_folder(tmp_path, "a", "b", "c", "d")
    assert not (tmp_path / "elsewhere" / "d").exists()
    with pytest.raises(ConfigError, match=r"'\.\.' is not a plain folder name"):
        private_folder(tmp_path, "a", "..")
    assert private_folder(tmp_path, "x", "y", create=False) == tmp_path / "x" / "y"
    assert not (tmp_path / "x").exists()


def test_a_file_is_written_over_a_link_never_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "model.joblib").symlink_to(victim)
    write_atomic(tmp_path / "model.joblib", b"new")
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "model.joblib").is_symlink() and (tmp_path / "model.joblib").read_bytes() == b"new"
    assert stat.S_IMODE((tmp_path / "model.joblib").stat().st_mode) == 0o600


def test_a_file_kept_in_place_must_be_a_plain_file_of_ones_own(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "linked.db").symlink_to(victim)
    os.link(victim, tmp_path / "hard.db")
    (tmp_path / "folder.db").mkdir()
    for name, why in (("linked.db", "a symbolic link"), ("hard.db", "other names"), ("folder.db", "not a plain file")):
        with pytest.raises(ConfigError, match=why):
            ensure_file(tmp_path / name)
    assert victim.read_text() == "keep me"
    assert stat.S_IMODE(ensure_file(tmp_path / "new.db").stat().st_mode) == 0o600


def test_a_file_lock_excludes_another_process_and_refuses_a_link(tmp_path):
    path = tmp_path / "x.lock"
    probe = ("import sys; from pathlib import Path; from automl._files import FileLock; "
             "sys.exit(0 if FileLock(Path(sys.argv[1])).acquire(wait=False) else 3)")
    with FileLock(path):
        assert subprocess.run([sys.executable, "-c", probe, str(path)]).returncode == 3
    assert subprocess.run([sys.executable, "-c", probe, str(path)]).returncode == 0
    (tmp_path / "y.lock").symlink_to(tmp_path / "victim")
    with pytest.raises(ConfigError, match="a symbolic link"):
        FileLock(tmp_path / "y.lock").acquire()
    assert not (tmp_path / "victim").exists()


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_checking_a_sqlite_file_keeps_the_locks_this_process_holds_on_it(tmp_path, journal):
    """Closing any descriptor of a file drops this process's POSIX locks on it, SQLite's too: a
    check that opened the database (as a second default_storage() in one process does) let
    another process write under a live transaction, and a registered version was lost."""
    import sqlite3

    from automl._sqlite import private_sqlite

    db = tmp_path / "optuna.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t VALUES (1)")
    private_sqlite(db)
    probe = ("import sqlite3, sys; sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)"
             ".execute('BEGIN IMMEDIATE')")
    other = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, text=True)
    conn.rollback()
    assert "database is locked" in other.stderr, other.stderr
