"""The signing key cannot be empty, raced or weak, and a pickle loads only from the bytes whose
signature was checked."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import stat
from pathlib import Path

import pytest

from automl._trust import key_path, load_signed_pickle, sign
from automl._trust._sign import _key
from automl.errors import ModelLoadError, SigningKeyError
from tests.trust.planted import Marker


@pytest.fixture(autouse=True)
def own_config(workdir, monkeypatch) -> Path:
    """A key file of this test's own (never the user's real one), no key in the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(workdir / "config"))
    monkeypatch.delenv("AUTOML_SIGNING_KEY", raising=False)
    return workdir / "config"


def _first_use(config: str, start, out) -> None:
    os.environ["XDG_CONFIG_HOME"] = config
    start.wait()
    try:
        out.put(_key().decode())
    except BaseException as exc:  # noqa: BLE001 - reported to the test, whatever it is
        out.put(f"{type(exc).__name__}: {exc}")


def test_processes_starting_at_once_all_get_the_same_whole_key(workdir):
    """The first process to make the key must not let another read it half-written (empty) or
    crash on the file the first one created."""
    ctx = multiprocessing.get_context("fork")
    processes = 10
    for round_ in range(8):
        start, out = ctx.Barrier(processes), ctx.Queue()
        config = str(workdir / f"config-{round_}")
        workers = [ctx.Process(target=_first_use, args=(config, start, out)) for _ in range(processes)]
        for w in workers:
            w.start()
        keys = {out.get(timeout=60) for _ in workers}
        for w in workers:
            w.join()
        assert len(keys) == 1 and len(keys.pop()) == 64, keys
        assert stat.S_IMODE(os.stat(Path(config) / "automl" / "signing.key").st_mode) == 0o600


def test_an_empty_key_file_is_refused_not_used(workdir):
    path = key_path()
    path.parent.mkdir(parents=True)
    path.touch(mode=0o600)
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    with pytest.raises(SigningKeyError, match=r"signing\.key: the signing key has 0 characters, at least 32"):
        sign(workdir / "model.joblib")
    assert not (workdir / "model.joblib.sig").exists()


@pytest.mark.parametrize("value", ["", "   ", "short-secret"])
def test_a_short_key_in_the_environment_is_refused(workdir, monkeypatch, value):
    monkeypatch.setenv("AUTOML_SIGNING_KEY", value)
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    with pytest.raises(SigningKeyError, match=r"AUTOML_SIGNING_KEY: the signing key has \d+ characters"):
        sign(workdir / "model.joblib")


def test_a_key_file_others_can_read_is_refused(workdir):
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    sign(workdir / "model.joblib")  # makes the key
    os.chmod(key_path(), 0o644)
    with pytest.raises(SigningKeyError, match=r"can be read or written by others \(mode 644\); run chmod 600"):
        load_signed_pickle(workdir / "model.joblib", "model.joblib")
    os.chmod(key_path(), 0o600)
    assert load_signed_pickle(workdir / "model.joblib", "model.joblib") == 1


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_key_folder_others_can_write_is_refused(workdir, mode):
    """Whoever can write the key's folder can put a key of theirs there (made by this user's
    own tool, so owner and mode pass) or delete it to have a new one made."""
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    sign(workdir / "model.joblib")  # makes the key
    os.chmod(key_path().parent, mode)
    with pytest.raises(SigningKeyError, match=rf"automl: the signing key's folder can be written by others "
                                              rf"\(mode {mode:o}\); run chmod 700"):
        load_signed_pickle(workdir / "model.joblib", "model.joblib")
    os.chmod(key_path().parent, 0o700)
    assert load_signed_pickle(workdir / "model.joblib", "model.joblib") == 1


@pytest.mark.parametrize("content", [b"[]", b"null", b'{"sha256": 1, "hmac": []}', b"\xff\xfe",
                                     b'{"sha256": "' + b"a" * 100_000 + b'"}', b"[" * 100_000])
def test_a_malformed_signature_is_a_one_line_refusal(workdir, content):
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    (workdir / "model.joblib.sig").write_bytes(content)
    with pytest.raises(ModelLoadError, match=r"^model\.joblib: refused: no valid automl signature") as err:
        load_signed_pickle(workdir / "model.joblib", "model.joblib")
    assert "\n" not in str(err.value)


_SWAP: dict = {}  # path -> (opens seen, bytes to put there at its second open)
_HOOKED: list = []  # an audit hook stays for the process: installed once


def _swap_on_second_open(event: str, args) -> None:
    if event == "open" and args and str(args[0]) in _SWAP:
        opens, evil = _SWAP[str(args[0])]
        _SWAP[str(args[0])] = (opens + 1, evil)
        if opens + 1 == 2:  # the file changes right after the first read of it
            Path(args[0]).write_bytes(evil)


def test_the_bytes_checked_are_the_bytes_loaded(workdir):
    """A model file replaced between the signature check and the load runs nothing: what is
    loaded is what was read and checked (an audit hook swaps the file at its second open)."""
    import sys

    path, marker = workdir / "model.joblib", workdir / "pwned"
    import joblib

    joblib.dump({"model": 1}, path)
    sign(path)
    if not _HOOKED:
        sys.addaudithook(_swap_on_second_open)
        _HOOKED.append(True)
    _SWAP[str(path)] = (0, pickle.dumps(Marker(marker)))
    try:
        assert load_signed_pickle(path, "model.joblib") == {"model": 1}
    finally:
        opens = _SWAP.pop(str(path))[0]
    assert opens == 1 and not marker.exists()


def test_predict_with_an_empty_key_is_a_one_line_exit_2(cli, workdir, user_error):
    (workdir / "rows.csv").write_text("x\n1\n")
    path = key_path()
    path.parent.mkdir(parents=True)
    path.touch(mode=0o600)
    (workdir / "model.joblib").write_bytes(pickle.dumps(1))
    (workdir / "model.joblib.sig").write_text('{"sha256": "x", "hmac": "y"}')
    user_error(cli("predict", "--model", str(workdir / "model.joblib"), "--data", "rows.csv", "--output", "p.csv"),
               r"signing\.key: the signing key has 0 characters")


def test_a_run_refuses_a_short_key_before_it_searches(run_cli, workdir, monkeypatch, user_error):
    monkeypatch.setenv("AUTOML_SIGNING_KEY", "short")
    user_error(run_cli("--data", "demo:iris"), r"AUTOML_SIGNING_KEY: the signing key has 5 characters")
    assert not (workdir / "mlruns" / "optuna.db").exists()
