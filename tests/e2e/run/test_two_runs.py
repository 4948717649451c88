"""Two runs of one study that end at the same moment each end with their own files.

Two real ``automl run`` processes on one study. Each is made to reach the end of its run at the
same moment as the other, and, once it has saved its model, to give the other up to a few
seconds to save its own before it goes on to report: the moment the old code let the second run
replace the first one's files. The wrappers below only order the real steps and note what each
run saved and what its summary's ``model_path`` held when it reported.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from automl._trust import load_signed_pickle

STUDY = "nightly"
HARNESS = r"""
import hashlib, sys, time
from pathlib import Path

import automl.run._run as run_module
import automl.finish._steps as steps
from automl.cli import main

notes, me, other = Path(sys.argv[1]), sys.argv[2], sys.argv[3]


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def wait_for(name, seconds):
    end = time.monotonic() + seconds
    while not (notes / name).exists() and time.monotonic() < end:
        time.sleep(0.02)


def wrap(module, name, before=None, after=None):
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        if before:
            before()
        result = real(*args, **kwargs)
        if after:
            after(result)
        return result
    setattr(module, name, wrapper)


def ending():  # the save step's first call: both runs end together
    (notes / f"{me}-ending").touch()
    wait_for(f"{other}-ending", 120)


def saved(path):
    (notes / f"{me}-saved").write_text(sha(path))
    wait_for(f"{other}-saved", 3)


wrap(steps, "model_folder", before=ending)
wrap(steps, "save_model", after=saved)
wrap(run_module, "report", after=lambda summary: (notes / f"{me}-reported").write_text(sha(summary["model_path"])))
sys.argv = ["automl", "run", *sys.argv[4:]]
main()
"""


def test_two_runs_of_one_study_ending_at_once_each_keep_their_own_files(workdir, frame):
    notes = workdir / "notes"
    notes.mkdir()
    frame.iloc[::3].to_csv(workdir / "test.csv", index=False)
    frame.drop(frame.index[::3]).to_csv(workdir / "train.csv", index=False)
    # A given test file: the study is the same whatever the seed, and each seed its own model.
    flags = ["--data", "train.csv", "--test-data", "test.csv", "--target", "label", "--study-name", STUDY,
             "--space", "fast.yaml", "--n-trials", "1", "--cv", "2", "--n-jobs", "1", "--no-tracking",
             "--quiet"]
    runs = {name: subprocess.Popen([sys.executable, "-P", "-c", HARNESS, str(notes), name, other, *flags,
                                    "--seed", seed, "--summary-json", str(workdir / f"{name}.json")],
                                   stderr=subprocess.PIPE, text=True)
            for name, other, seed in (("a", "b", "1"), ("b", "a", "2"))}
    for name, proc in runs.items():
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    saved = {name: (notes / f"{name}-saved").read_text() for name in runs}
    # Read back right after each run saved it, the model file was that run's (with another seed,
    # another model), and so it still was when the run reported it.
    assert saved["a"] != saved["b"]
    for name in runs:  # what each run's summary pointed at when it reported was its own model
        assert (notes / f"{name}-reported").read_text() == saved[name], name
    folder = workdir / "mlruns" / "models" / STUDY
    for name in runs:
        assert json.loads((workdir / f"{name}.json").read_text())["model_path"] == str(folder / "model.joblib")
    # Nothing lost: the later run's files are in the folder, the earlier one's whole in previous/.
    kept = [folder, *(folder / "previous").iterdir()]
    assert len(kept) == 2
    for place in kept:
        model = place / "model.joblib"
        load_signed_pickle(model, str(model))  # the signature beside it is this very model's
        assert {p.name for p in place.iterdir()} >= {"model.joblib", "model.joblib.sig", "schema.json",
                                                     "leaderboard.csv", "model_card.md", "plots"}
    shas = sorted(hashlib.sha256((p / "model.joblib").read_bytes()).hexdigest() for p in kept)
    assert shas == sorted(saved.values())


def test_under_a_budget_a_run_does_not_wait_out_another_runs_end(run_cli, workdir):
    """Another run of the study holds the model folder (its end, MLflow logging included, can
    take a minute): a run with --timeout saves into a folder of its own instead of waiting, and
    its summary points there; the other run's files are untouched."""
    from automl._files import FileLock, private_folder
    from automl.artifacts._persist import LOCK_FILE

    folder = private_folder(workdir, "mlruns", "models", STUDY)
    (folder / "model.joblib").write_bytes(b"the other run's model")
    with FileLock(folder / LOCK_FILE):
        # The budget counts from the process's start (capped at 60 s before our code ran): in a
        # pytest process that has run for minutes, 60 s would be spent before the set-up.
        result = run_cli("--data", "demo:iris", "--study-name", STUDY, "--timeout", "600",
                         "--summary-json", "s.json", quiet=False)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((workdir / "s.json").read_text())
    own = summary["model_path"]
    assert own.startswith(str(folder / "concurrent") + "/") and own.endswith("/model.joblib")
    assert load_signed_pickle(Path(own), own) is not None
    assert (folder / "model.joblib").read_bytes() == b"the other run's model"
    assert "another run of this study is saving into" in result.output
