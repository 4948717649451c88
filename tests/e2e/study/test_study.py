"""automl.study and the search as a whole: resume, reproducibility, guards, failed trials."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import optuna
import pytest

from automl.errors import BudgetTooSmallError, ConfigError, SearchFailedError, StudyMismatchError
from automl.run import run_experiment
from automl.study import default_storage, open_study, run_study
from automl.trial import best_trial, count_states

GUARDS = {"metric": "accuracy", "task": "binary", "data_fingerprint": "abc"}


@pytest.fixture
def storage(workdir):
    return default_storage(workdir)


def test_default_storage_is_under_workdir(workdir, storage):
    assert storage == f"sqlite:///{workdir / 'mlruns' / 'optuna.db'}"


def test_open_study_stores_guards_and_reopens(storage, seed):
    study = open_study(storage, "s", "maximize", seed, "none", GUARDS)
    assert {k: study.user_attrs[k] for k in GUARDS} == GUARDS
    assert open_study(storage, "s", "maximize", seed, "median", GUARDS).study_name == "s"


@pytest.mark.parametrize(("key", "value"), [("metric", "roc_auc"), ("task", "multiclass"),
                                            ("data_fingerprint", "def")])
def test_open_study_refuses_other_setup(storage, seed, key, value):
    open_study(storage, "s", "maximize", seed, "none", GUARDS)
    with pytest.raises(StudyMismatchError, match=f"study 's' was created with {key}=.*use another --study-name"):
        open_study(storage, "s", "maximize", seed, "none", {**GUARDS, key: value})


def test_bad_storage_url(seed):
    with pytest.raises(ConfigError, match=r"storage nosuchdb://u:\*\*\*@h/x: cannot open"):
        open_study("nosuchdb://u:pw@h/x", "s", "maximize", seed, "none", GUARDS)


def test_best_trial_when_all_failed(storage, seed):
    study = open_study(storage, "s", "maximize", seed, "none", GUARDS)
    for message in ("ValueError: a", "ValueError: b", "ValueError: a"):
        trial = study.ask()
        trial.set_user_attr("error", message)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    with pytest.raises(SearchFailedError, match=r"study 's': no trial completed \(3 failed\); "
                                                r"errors: ValueError: a \| ValueError: b$"):
        best_trial(study)
    assert count_states(study) == {"FAIL": 3}


def test_best_trial_when_every_trial_ran_out_of_time_is_the_users_to_fix(storage, seed):
    """Nothing failed but the time: a budget (or a space) too big for any model is a user error
    (exit 2) saying what to change; with a real failure among them it stays a search failure."""
    study = open_study(storage, "s", "maximize", seed, "none", GUARDS)
    for fold in (0, 1):
        trial = study.ask()
        trial.set_user_attr("stopped", f"time limit: fold {fold} was still fitting at the trial's deadline")
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    with pytest.raises(BudgetTooSmallError, match=r"^study 's': no trial finished in its time \(time limit: "
                                                  r"fold 0 was still fitting at the trial's deadline\); "
                                                  r"raise --timeout or --trial-timeout, or bound the space"):
        best_trial(study)
    trial = study.ask()
    trial.set_user_attr("error", "MemoryError: a")
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    with pytest.raises(SearchFailedError, match=r"no trial completed \(1 failed\); errors: MemoryError: a; "
                                                r"stopped: time limit"):
        best_trial(study)


# --- whole searches (run_experiment, no tracking) ---------------------------------------------

def _params(study):
    return [t.params for t in study.trials]


def _load(workdir, name):
    return optuna.load_study(study_name=name, storage=default_storage(workdir))


def test_resume_grows_the_study(config, workdir):
    first = run_experiment(config(study_name="grow", n_trials=2))
    second = run_experiment(config(study_name="grow", n_trials=3))
    assert set(first["n_trials"]) | set(second["n_trials"]) <= {"COMPLETE", "PRUNED"}
    assert sum(first["n_trials"].values()) == 2 and sum(second["n_trials"].values()) == 5
    assert len(_load(workdir, "grow").trials) == 5
    assert second["data_fingerprint"] == first["data_fingerprint"]


def test_same_seed_same_trials(config, workdir):
    one = run_experiment(config(study_name="a", n_trials=4))
    two = run_experiment(config(study_name="b", n_trials=4))
    assert _params(_load(workdir, "a")) == _params(_load(workdir, "b"))
    assert one["best_params"] == two["best_params"] and one["test_metrics"] == two["test_metrics"]
    three = run_experiment(config(study_name="c", n_trials=4, seed=1))
    assert three["test_fingerprint"] != one["test_fingerprint"]


def test_resume_with_another_metric_is_refused(config):
    run_experiment(config(study_name="m", n_trials=1, metric="accuracy"))
    with pytest.raises(StudyMismatchError, match="created with metric='accuracy', this run has 'log_loss'"):
        run_experiment(config(study_name="m", n_trials=1, metric="log_loss"))


def test_resume_with_other_data_is_refused(config):
    run_experiment(config(study_name="d", n_trials=1))
    with pytest.raises(StudyMismatchError, match="created with data_fingerprint="):
        run_experiment(config(study_name="d", n_trials=1, seed=1))  # another seed, other training rows


def test_resume_with_another_space_or_cv_is_refused(config):
    run_experiment(config(study_name="sp", n_trials=1))
    # Optuna would fail every new trial on changed choices; refuse up front instead.
    with pytest.raises(StudyMismatchError, match="space_digest"):
        run_experiment(config(study_name="sp", n_trials=1, space="default.yaml"))
    with pytest.raises(StudyMismatchError, match="cv="):
        run_experiment(config(study_name="sp", n_trials=1, cv=4))


def test_failing_trials_are_recorded_and_the_search_goes_on(config, workdir):
    (workdir / "s.yaml").write_text("models:\n  knn:\n    n_neighbors: {type: categorical, choices: [3, 500]}\n")
    summary = run_experiment(config(space=str(workdir / "s.yaml"), n_trials=8, study_name="f"))
    assert summary["n_trials"]["FAIL"] >= 1 and summary["n_trials"]["COMPLETE"] >= 1
    assert summary["best_params"]["knn.n_neighbors"] == 3
    for trial in _load(workdir, "f").trials:
        failed = trial.state == optuna.trial.TrialState.FAIL
        assert failed == (trial.params["knn.n_neighbors"] == 500)
        assert ("error" in trial.user_attrs) == failed


def test_every_trial_failing_is_a_clear_error(config, workdir):
    (workdir / "s.yaml").write_text("models:\n  knn: {n_neighbors: 500}\n")
    with pytest.raises(SearchFailedError, match=r"no trial completed \(2 failed\); errors: ValueError: "
                                                r"Expected n_neighbors <= n_samples"):
        run_experiment(config(space=str(workdir / "s.yaml"), n_trials=2))


def test_cli_study_mismatch_exit_2(run_cli, user_error):
    args = ("--data", "demo:iris", "--study-name", "x", "--n-trials", "1")
    assert run_cli(*args, "--metric", "accuracy").exit_code == 0
    user_error(run_cli(*args, "--metric", "log_loss"), "was created with metric='accuracy'")


def test_cli_all_trials_failed_exit_1(run_cli, user_error, workdir):
    (workdir / "s.yaml").write_text("models:\n  knn: {n_neighbors: 500}\n")
    user_error(run_cli("--data", "demo:iris", "--space", "./s.yaml", "--n-trials", "2"),
               r"error: study 'iris-target': no trial completed \(2 failed\)", code=1)


def test_new_rows_in_the_same_file_start_a_new_study_under_the_default_name(config, workdir, make_table):
    """A nightly `automl run --data data.csv`: day two's rows differ. The default-named study
    holds day one's data, so day two gets its own study (not exit 2), and a rerun on day two's
    data resumes that one. An explicit --study-name keeps the guard (tests above)."""
    path = workdir / "data.csv"
    make_table(n=60).to_csv(path, index=False)
    day1 = run_experiment(config(data=str(path), target="label", n_trials=1))
    make_table(n=80).to_csv(path, index=False)
    day2 = run_experiment(config(data=str(path), target="label", n_trials=1))
    again = run_experiment(config(data=str(path), target="label", n_trials=1))
    assert day1["study_name"] == "data-label"
    assert day2["study_name"].startswith("data-label-") and day2["study_name"] != day1["study_name"]
    assert again["study_name"] == day2["study_name"] and sum(again["n_trials"].values()) == 2
    assert day2["data_fingerprint"] != day1["data_fingerprint"]


# --- a stop between Optuna's own steps --------------------------------------------------------

class _StoppedOnceWhenTold(optuna.storages.InMemoryStorage):
    """A storage that the stop reaches as Optuna tells it a trial's result (Optuna catches a
    KeyboardInterrupt only inside the objective, so this one leaves the trial RUNNING)."""

    stopped = False

    def set_trial_state_values(self, trial_id, state, values=None):
        if state == optuna.trial.TrialState.COMPLETE and not self.stopped:
            self.stopped = True
            raise KeyboardInterrupt
        return super().set_trial_state_values(trial_id, state, values)


def test_a_stop_while_optuna_tells_a_result_leaves_no_trial_running():
    study = optuna.create_study(storage=_StoppedOnceWhenTold(), direction="maximize")
    with pytest.raises(KeyboardInterrupt):
        run_study(study, lambda trial: trial.suggest_float("x", 0, 1), 5, lambda: False, [])
    (trial,) = study.get_trials()
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["error"] == "stopped: the run was interrupted"
    assert "ask" not in vars(study)  # the study is left as it was given


def test_a_stop_while_optuna_creates_a_trial_waits_for_it_and_fails_it(tmp_path):
    # The CLI's own handler, in a process of its own: the signal comes from inside ``ask`` (the
    # sampler's set-up of a trial just stored), where the trial's id is not known yet.
    code = textwrap.dedent(f"""
        import signal, optuna
        from automl.cli import _stop_on_signals
        from automl.study import run_study

        class SignalledAsTrialStarts(optuna.samplers.RandomSampler):
            def before_trial(self, study, trial):
                if trial.number == 2:
                    signal.raise_signal(signal.SIGTERM)
                    print("still in ask", flush=True)

        study = optuna.create_study(storage="sqlite:///{tmp_path / 'o.db'}", study_name="s",
                                    sampler=SignalledAsTrialStarts(seed=0))
        _stop_on_signals()
        try:
            run_study(study, lambda t: t.suggest_float("x", 0, 1), 5, lambda: False, [])
        except KeyboardInterrupt:
            print("stopped", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["still", "in", "ask", "stopped"], done.stderr
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'o.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE", "FAIL"]
    assert study.trials[2].user_attrs["error"] == "stopped: the run was interrupted"


# --- trials a dead process left RUNNING -----------------------------------------------------------

def _process_with_a_running_trial(workdir, name: str, then: str):
    """A real process that joins study ``name`` as automl's processes do, starts a trial, says
    so, then ``then``: "dies" (SIGKILL, nothing cleaned) or "waits" (alive until stdin closes)."""
    code = textwrap.dedent(f"""
        import os, signal, sys, optuna
        from automl.study import default_storage, join_study, make_storage
        from pathlib import Path

        url = default_storage(Path({str(workdir)!r}))
        study = optuna.load_study(study_name={name!r}, storage=make_storage(url))
        join_study(url, study)
        print(study.ask().number, flush=True)
        if {then!r} == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        sys.stdin.read()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    return proc, int(proc.stdout.readline())


def test_a_run_fails_the_trials_a_killed_run_left_running(config, workdir):
    run_experiment(config(study_name="orphans", n_trials=2))
    proc, number = _process_with_a_running_trial(workdir, "orphans", "dies")
    assert proc.wait(timeout=60) == -9
    assert _load(workdir, "orphans").trials[number].state.name == "RUNNING"
    run_experiment(config(study_name="orphans", n_trials=1))
    trial = _load(workdir, "orphans").trials[number]
    assert trial.state.name == "FAIL" and trial.user_attrs["error"] == "stale: its process died"
    assert count_states(_load(workdir, "orphans")).get("RUNNING", 0) == 0


def test_a_run_leaves_alone_the_trials_of_a_process_still_at_work(config, workdir):
    run_experiment(config(study_name="shared", n_trials=2))
    proc, number = _process_with_a_running_trial(workdir, "shared", "waits")
    try:
        run_experiment(config(study_name="shared", n_trials=1))
        assert _load(workdir, "shared").trials[number].state.name == "RUNNING"
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    run_experiment(config(study_name="shared", n_trials=1))  # now alone: that process is gone
    assert _load(workdir, "shared").trials[number].state.name == "FAIL"


@pytest.mark.parametrize("where", ["sqlite", "journal", "postgresql"])
def test_only_a_process_alone_on_a_study_cleans_it(where, tmp_path, request):
    from automl.study._locks import StudyPresence

    url = {"sqlite": f"sqlite:///{tmp_path / 'optuna.db'}",
           "journal": f"journal://{tmp_path / 'optuna-journal.log'}"}.get(where) \
        or request.getfixturevalue("postgres_url")
    calls = []
    first, second = StudyPresence(url, "it's mine"), StudyPresence(url, "it's mine")
    other = StudyPresence(url, "another study")
    assert first.join(lambda: calls.append("first"))
    assert not second.join(lambda: calls.append("second"))  # the first is still at work
    assert other.join(lambda: calls.append("other"))
    first.leave()
    second.leave()
    again = StudyPresence(url, "it's mine")
    assert again.join(lambda: calls.append("again"))  # both gone
    again.leave()
    other.leave()
    assert calls == ["first", "other", "again"]


def test_a_run_alone_deletes_the_half_written_files_a_killed_run_left(config, workdir):
    run_experiment(config(study_name="debris", n_trials=1))
    folder = workdir / "mlruns" / "models" / "debris"
    debris = [folder / ".model.joblib.k1x2.tmp", folder / "plots" / ".roc_curve.png.9zq.tmp"]
    for path in debris:  # what SIGKILL leaves in the middle of a write, before the rename
        path.write_bytes(b"half")
    proc, _ = _process_with_a_running_trial(workdir, "debris", "waits")
    try:
        run_experiment(config(study_name="debris", n_trials=1))  # not alone: it may be writing
        # (moved to previous/ with the earlier run's plots, but kept)
        assert len(list(folder.rglob(".*.tmp"))) == 2
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    run_experiment(config(study_name="debris", n_trials=1))
    assert not list(folder.rglob(".*.tmp"))
    assert (folder / "model.joblib").is_file()
