"""automl.config.parse_yaml: a user's YAML read with bounds on what it expands to."""

from __future__ import annotations

import pytest

from automl.config import parse_yaml
from automl.config._yaml import MAX_VALUES
from automl.errors import ConfigError


def test_anchors_and_aliases_that_reuse_a_block_are_read():
    doc = parse_yaml("base: &p {type: float, low: 0.1, high: 10}\nmodels:\n  svm: {C: *p}\n  logistic: {C: *p}\n")
    assert doc["models"]["svm"]["C"] == doc["models"]["logistic"]["C"] == {"type": "float", "low": 0.1, "high": 10}


def test_a_large_tree_without_aliases_is_read_up_to_the_limit():
    assert len(parse_yaml("a: [" + ",".join(["1"] * (MAX_VALUES - 10)) + "]\n")["a"]) == MAX_VALUES - 10


@pytest.mark.parametrize(("levels", "refused"), [(4, False), (6, True), (9, True)])
def test_aliases_are_counted_each_time_they_are_used(levels, refused):
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefghi", "bcdefghij"[:levels - 1]))
    if refused:
        with pytest.raises(ConfigError, match="more than 100,000 values once its aliases are expanded"):
            parse_yaml(text)
    else:
        assert len(parse_yaml(text)) == levels


@pytest.mark.parametrize(("text", "match"), [
    ("a: &a [*a]\n", "contains it"),
    ("a: &a {b: *a}\n", "contains it"),
    ("a: " + "[" * 60 + "]" * 60 + "\n", "deeper than 50"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "deeper than 50"),  # PyYAML's own recursion
    ("a: 2024-02-30\n", "not valid YAML \\(day is out of range"),
    ("a: " + "7" * 5000 + "\n", "not valid YAML \\(Exceeds the limit"),
    ("a: [\n", "line 2: not valid YAML"),
])
def test_what_python_cannot_hold_is_a_config_error(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_yaml(text)
