"""Opening Optuna storages: the embedded default's files, and a fresh store opened by several
processes at once."""

import multiprocessing

import optuna
import pytest

from automl.study._storage import default_storage, make_storage


def _open(url: str, ours: bool, results) -> None:
    try:
        make_storage(url) if ours else optuna.storages.RDBStorage(url)
        results.put((ours, "ok"))
    except Exception as exc:
        results.put((ours, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))


def test_a_fresh_store_opened_by_another_process_at_the_same_moment_still_opens(tmp_path):
    # A dashboard or a script may open the store while a run creates its tables; automl's runs
    # serialise creation among themselves, but not with them.
    fork = multiprocessing.get_context("fork")
    ours = []
    for round_ in range(20):
        url = f"sqlite:///{tmp_path / f'fresh-{round_}.db'}"
        results = fork.Queue()
        procs = [fork.Process(target=_open, args=(url, who == 0, results)) for who in range(3)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=120)
        outcomes = [results.get(timeout=10) for _ in procs]
        ours += [message for is_ours, message in outcomes if is_ours]
    assert ours == ["ok"] * 20


def test_the_default_store_is_one_private_sqlite_file_and_a_journal_for_workers(tmp_path):
    url = default_storage(tmp_path)
    assert url == f"sqlite:///{(tmp_path / 'mlruns' / 'optuna.db').resolve()}"
    assert (tmp_path / "mlruns" / "optuna.db").stat().st_mode & 0o077 == 0
    journal = default_storage(tmp_path, parallel=True)
    assert journal.startswith("journal://") and journal.endswith("optuna-journal.log")


def test_reading_only_makes_nothing_and_finds_a_journal(tmp_path):
    (tmp_path / "mlruns").mkdir(mode=0o700)
    (tmp_path / "mlruns" / "optuna-journal.log").touch(mode=0o600)
    assert default_storage(tmp_path, create=False).startswith("journal://")
    assert not (tmp_path / "mlruns" / "optuna.db").exists()


def test_a_store_that_is_not_a_database_is_refused_before_optuna_opens_it(tmp_path):
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(Exception, match="folder.db"):
        make_storage(f"sqlite:///{tmp_path / 'folder.db'}")
