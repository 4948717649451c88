"""automl.config: the validated experiment config, YAML loading, flag overrides, the work folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automl.config import ExperimentConfig, load_config, mask_url, resolve_workdir
from automl.errors import ConfigError


def test_defaults():
    cfg = ExperimentConfig()
    assert (cfg.data, cfg.cv, cfg.seed, cfg.n_trials, cfg.tracking) == ("demo:breast_cancer", None, 0, 20, True)


def test_timeout_alone_leaves_n_trials_unset():
    assert ExperimentConfig(timeout=5).n_trials is None


def test_refit_full_defaults_on_after_a_holdout_split_and_off_with_a_test_file():
    assert ExperimentConfig().refit_full is True
    assert ExperimentConfig(test_data="test.csv").refit_full is False
    assert ExperimentConfig(test_data="test.csv", refit_full=True).refit_full is True
    assert ExperimentConfig(refit_full=False).refit_full is False


def test_file_then_flags(workdir):
    (workdir / "exp.yaml").write_text("n-trials: 7\nseed: 1\ncv: 4\n")  # dashes are accepted
    cfg = load_config("exp.yaml", {"seed": 9, "cv": None})
    assert (cfg.n_trials, cfg.seed, cfg.cv) == (7, 9, 4)


def test_false_and_zero_flags_are_kept(workdir):
    cfg = load_config(None, {"tracking": False, "seed": 0})
    assert cfg.tracking is False and cfg.seed == 0


def test_paths_in_file_resolve_against_the_file(workdir):
    sub = workdir / "conf"
    sub.mkdir()
    (sub / "train.csv").write_text("a\n1\n")
    (sub / "my_space.yaml").write_text("models: {knn: {}}\n")
    (sub / "exp.yaml").write_text("data: train.csv\nspace: my_space.yaml\nsummary_json: out/s.json\n")
    cfg = load_config(str(sub / "exp.yaml"), {})
    assert Path(cfg.data) == sub / "train.csv"
    assert Path(cfg.space) == sub / "my_space.yaml"
    assert Path(cfg.summary_json) == sub / "out" / "s.json"


def test_bare_space_name_and_demo_are_left_alone(workdir):
    cfg = load_config(None, {"space": "fast.yaml", "data": "demo:iris"})
    assert (cfg.space, cfg.data) == ("fast.yaml", "demo:iris")


def test_flag_paths_resolve_against_cwd(workdir):
    cfg = load_config(None, {"data": "x.csv", "summary_json": "s.json"})
    assert Path(cfg.data) == workdir / "x.csv" and Path(cfg.summary_json) == workdir / "s.json"


@pytest.mark.parametrize(("text", "match"), [
    ("bogus: 1\n", r"exp\.yaml: bogus -> unknown key"),
    ("cv: 0\n", r"cv -> Input should be greater than or equal to 1 \(got 0\)"),
    ("task: foo\n", r"task -> Input should be .*\(got 'foo'\)"),
    ("test_size: 1.5\n", r"test_size -> Input should be less than 1"),
    ("n_jobs: 0\n", r"n_jobs must be -1 \(all cores\) or a positive integer, got 0"),
    ("group_column: g\ntime_column: t\n", "group_column and time_column cannot both be set"),
    ("seed: -1\ncv: 200\n", r"seed -> .*; cv -> "),  # every problem, in one line
    ("[1, 2]\n", "must be a mapping of settings, got list"),
    ("a: [\n", r"exp\.yaml: line \d+: not valid YAML"),
])
def test_bad_config_file(workdir, text, match):
    (workdir / "exp.yaml").write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config("exp.yaml", {})
    assert "\n" not in str(info.value)


def test_missing_config_file():
    with pytest.raises(ConfigError, match=r"nope\.yaml: config file not found"):
        load_config("nope.yaml", {})


def test_empty_config_file_is_all_defaults(workdir):
    (workdir / "exp.yaml").write_text("# nothing\n")
    assert load_config("exp.yaml", {}).n_trials == 20


def test_fingerprint_tracks_search_settings_only():
    base = ExperimentConfig(data="demo:iris")
    assert base.fingerprint() == ExperimentConfig(data="demo:iris", quiet=True, tracking=False).fingerprint()
    assert base.fingerprint() != ExperimentConfig(data="demo:iris", seed=1).fingerprint()
    assert base.fingerprint() != ExperimentConfig(data="demo:iris", metric="accuracy").fingerprint()


def test_workdir_order(workdir, monkeypatch):
    (workdir / "flag").mkdir()
    assert resolve_workdir(ExperimentConfig(workdir=str(workdir / "flag"))) == workdir / "flag"
    monkeypatch.setenv("AUTOML_WORKDIR", str(workdir / "env"))
    assert resolve_workdir(ExperimentConfig()) == workdir / "env"
    monkeypatch.delenv("AUTOML_WORKDIR")
    (workdir / "proj" / "mlruns").mkdir(parents=True)
    (workdir / "proj" / "deep").mkdir()
    monkeypatch.chdir(workdir / "proj" / "deep")
    assert resolve_workdir(ExperimentConfig()) == workdir / "proj"  # nearest folder with mlruns/


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_the_work_folder_search_stops_at_another_users_folder(workdir, monkeypatch):
    monkeypatch.delenv("AUTOML_WORKDIR")
    (workdir / "theirs" / "mlruns").mkdir(parents=True)
    (workdir / "theirs" / "mine" / "deep").mkdir(parents=True)
    os.chown(workdir / "theirs", 54321, 54321)  # another user's project with an mlruns/
    os.chown(workdir / "theirs" / "mlruns", 54321, 54321)
    monkeypatch.chdir(workdir / "theirs" / "mine" / "deep")
    assert resolve_workdir(ExperimentConfig()) == workdir / "theirs" / "mine" / "deep"
    (workdir / "theirs" / "mine" / "mlruns").mkdir()  # my own, below theirs: adopted
    assert resolve_workdir(ExperimentConfig()) == workdir / "theirs" / "mine"


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://bob:s3cret@db:5432/x", "postgresql://bob:***@db:5432/x"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ("postgresql://:s3cret@db/x", "postgresql://:***@db/x"),
    ("postgresql://db/x?user=bob&password=s3cret&sslmode=require",
     "postgresql://db/x?user=bob&password=***&sslmode=require"),
    ("error: tracking http://u:pw@mlflow:5000: unreachable", "error: tracking http://u:***@mlflow:5000: unreachable"),
    ("postgresql://bob:pa/ss w0rd@db:5432/x", "postgresql://bob:***@db:5432/x"),  # "/" and a space
    ("postgresql://bob:p@ss@db/x", "postgresql://bob:***@db/x"),  # "@" in the password
    ("https://ghp_T0KEN@mlflow.example.com/api", "https://***@mlflow.example.com/api"),  # a token as user
    ("http://mlflow:5000/?token=abc123&x=1", "http://mlflow:5000/?token=***&x=1"),
    ("cannot reach 'http://u:s3c/r3t@[::1]:5000/x'", "cannot reach 'http://u:***@[::1]:5000/x'"),
    ("mail bob@example.com about http://host/x", "mail bob@example.com about http://host/x"),
])
def test_mask_url(url, masked):
    assert mask_url(url) == masked


@pytest.mark.parametrize("field", ["study_name", "experiment", "register_model"])
@pytest.mark.parametrize("name", ["../../x", "/etc/x", "team/exp", "a\\b", "it's", '"q"', ".hidden", ""])
def test_names_are_not_paths_or_quotes(field, name):
    with pytest.raises(ConfigError, match=f"{field} -> .* is not allowed"):
        load_config(None, {field: name})


def test_ordinary_names_pass():
    names = {"study_name": "churn 2026-11.v2", "experiment": "Churn_A", "register_model": "m-1"}
    cfg = load_config(None, names)
    assert (cfg.study_name, cfg.experiment, cfg.register_model) == ("churn 2026-11.v2", "Churn_A", "m-1")


@pytest.mark.parametrize(("overrides", "match"), [
    ({"seed": 2**32}, r"seed -> .*less than or equal to 4294967295"),
    ({"seed": -1}, r"seed -> .*greater than or equal to 0"),
    ({"tracking": False, "register_model": "m"}, r"register_model needs tracking"),
    ({"grace_period": 10, "heartbeat_interval": 10},
     r"grace_period \(10 s\) must be longer than heartbeat_interval"),
])
def test_contradictory_or_out_of_range_settings_are_refused(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, overrides)
