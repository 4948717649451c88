"""Messages stay small and plain: whatever a user's files hold, what automl prints is short lines
of text the terminal shows, never acts on.

An echoed value is capped however large or nested it is (a YAML alias bomb is gigabytes as
``repr``); names and values with control characters (escape sequences, bells, carriage
returns, bidirectional overrides) come out escaped on stdout and stderr alike.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import FAST_FLAGS

SHORT = 500  # characters: a line a person reads
# Nine levels of nine aliases: 399 bytes of YAML, 387 million values once expanded.
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _one_short_line(result, code: int = 2, limit: int = SHORT) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr[:SHORT])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < limit, (len(lines), result.stderr[:SHORT])
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("command", [
    ["run", "--config", "bomb.yaml"],
    ["retrain", "--config", "bomb.yaml"],
    ["worker", "--config", "bomb.yaml"],
    ["run", "--space", "./bomb.yaml"],
    ["validate-space", "./bomb.yaml"],
])
def test_an_alias_bomb_is_one_short_line_for_every_yaml_input(cli, workdir, command):
    (workdir / "bomb.yaml").write_text(BOMB)
    assert len(BOMB) < 400
    line = _one_short_line(cli(*command, "--no-tracking", "--n-jobs", "1")
                           if command[0] != "validate-space" else cli(*command))
    assert "bomb.yaml" in line and "aliases" in line


@pytest.mark.parametrize(("text", "where"), [
    ("a: &a [*a]\n", "contains it"),  # a value that holds itself
    ("models: " + "[" * 2000 + "]" * 2000 + "\n", "deeper"),
    ("seed: 2024-13-45\n", "month"),  # PyYAML reads a date that Python refuses
    ("seed: " + "1" * 5000 + "\n", "digits"),
])
def test_yaml_python_cannot_hold_is_one_short_line(cli, workdir, text, where):
    (workdir / "odd.yaml").write_text(text)
    for result in (cli("run", "--config", "odd.yaml", "--no-tracking"), cli("validate-space", "./odd.yaml")):
        assert where in _one_short_line(result)


WIDE = "[" + ",".join(["x"] * 50_000) + "]"  # under every size limit; its repr is 250 kB
LONG = "y" * 300_000


@pytest.mark.parametrize("text", [
    f"target: {WIDE}\n",  # pydantic's input
    f"seed: 0x{'f' * 3000}\n",  # an int whose repr Python refuses
    f"study_name: '{LONG}'\n",  # our own validator's message
    f"? '{LONG}'\n: 1\n",  # an unknown key's name
    "".join(f"k{i}: 1\n" for i in range(5000)),  # 5,000 problems
])
def test_a_config_echoes_values_capped(cli, workdir, text):
    (workdir / "big.yaml").write_text(text)
    _one_short_line(cli("run", "--config", "big.yaml", "--no-tracking"))


@pytest.mark.parametrize("spec", [
    f"{{type: categorical, choices: '{LONG}'}}",
    f"{{type: {WIDE}}}",
    f"{{type: int, low: 1, high: {WIDE}}}",
    f"{{type: float, low: 1, high: 2, log: {WIDE}}}",
    f"{{type: int, low: 1, high: 0x{'f' * 3000}}}",
    f"{{type: categorical, choices: [1, 2], when: {{weights: {WIDE}}}}}",
])
def test_a_space_echoes_values_capped(cli, workdir, spec):
    (workdir / "space.yaml").write_text(
        f"models:\n  knn:\n    weights: {{type: categorical, choices: [uniform]}}\n    n_neighbors: {spec}\n")
    checked = cli("validate-space", "./space.yaml")
    assert checked.exit_code == 2 and "Traceback" not in checked.output
    assert all(len(line) < SHORT for line in checked.stderr.splitlines()), checked.stderr[:SHORT]
    _one_short_line(cli("run", "--space", "./space.yaml", "--no-tracking", "--n-jobs", "1"))


def test_a_space_with_many_problems_says_how_many_more(cli, workdir):
    (workdir / "space.yaml").write_text("".join(f"k{i}: 1\n" for i in range(5000)))
    line = _one_short_line(cli("run", "--space", "./space.yaml", "--no-tracking"), limit=1000)
    assert "and 4995 more" in line and "validate-space" in line


# --- control characters in names and values --------------------------------------------------

NAMES = ["\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07title", "bs\x08\x0bv", "rtl\u202eabc", "c1\x9bx"]
TARGET = "lab\x1b[2Jel"


@pytest.fixture
def hostile_csv(workdir, rng):
    """A table whose column names and target labels carry terminal escapes and controls."""
    n = 60
    frame = pd.DataFrame({name: rng.normal(size=n) for name in NAMES})
    frame[TARGET] = np.where(frame[NAMES[0]] > 0, "yes\x1b[5m", "no\x07\u202e")
    frame.to_csv(workdir / "esc.csv", index=False)
    frame.drop(columns=TARGET).to_csv(workdir / "rows.csv", index=False)
    frame[NAMES[:2]].to_csv(workdir / "short.csv", index=False)
    (workdir / "group.yaml").write_text(yaml.safe_dump(
        {"data": "esc.csv", "target": TARGET, "group_column": "g\x1b[2J\u202e"}))
    return frame


def _plain(result) -> None:
    for stream in (result.stdout, result.stderr):
        found = RAW_CONTROL.findall(stream)
        assert not found, (found[:5], stream[:SHORT])


def test_control_characters_in_names_and_labels_are_never_printed_raw(cli, workdir, hostile_csv):
    ran = cli("run", "--data", "esc.csv", "--target", TARGET, "--no-tracking",
              "--summary-json", "summary.json", *[x for kv in FAST_FLAGS.items() for x in kv])
    assert ran.exit_code == 0, ran.stderr
    _plain(ran)
    assert "\\x1b[31mred" in ran.stdout  # shown, escaped, in the strongest columns
    import json

    summary = json.loads((workdir / "summary.json").read_text())
    study = summary["study_name"]
    for result in (cli("show"), cli("show", "--study", study)):
        assert result.exit_code == 0, result.stderr
        _plain(result)
    model = summary["model_path"]
    predicted = cli("predict", "--model", model, "--data", "rows.csv", "--output", "out\x1b]0;x\x07.csv")
    assert predicted.exit_code == 0, predicted.stderr
    _plain(predicted)
    missing = cli("predict", "--model", model, "--data", "short.csv", "--output", "o.csv")
    _plain(missing)
    assert "\\x1b" in _one_short_line(missing)  # the columns it lacks, named


@pytest.mark.parametrize("args", [
    ["run", "--data", "esc.csv", "--target", "no\x1b]0;pe\x07", "--no-tracking"],  # lists the columns
    ["run", "--config", "group.yaml", "--no-tracking"],  # group_column: a name that is not a column
    ["run", "--data", "esc\x1b[2J\r.csv", "--no-tracking"],
    ["validate-space", "sp\x1b]0;t\x07\u202e.yaml"],
])
def test_errors_naming_hostile_columns_and_paths_are_one_plain_line(cli, hostile_csv, args):
    result = cli(*args)
    _plain(result)
    assert "\\x1b" in _one_short_line(result)
    traced = cli(*args, "--debug")  # the traceback quotes them too
    assert "Traceback" in traced.stderr
    _plain(traced)
