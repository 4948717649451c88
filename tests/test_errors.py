"""automl.errors: the bounded way a message quotes a value (shown) or a name (named)."""

from __future__ import annotations

import numpy as np
import pytest

from automl.errors import named, shown, with_cause


def _alias_bomb(levels: int = 9):
    value = ["x"] * 9
    for _ in range(levels):
        value = [value] * 9  # shared references, as PyYAML builds aliases: 9**10 values as a tree
    return value


@pytest.mark.parametrize("value", [
    _alias_bomb(),
    "x" * 10**6,
    b"\x00" * 10**6,
    list(range(10**5)),
    {str(i): [i] * 100 for i in range(10**4)},
    int("f" * 5000, 16),  # repr() refuses it (more than 4,300 digits)
    {"a": ({1, 2}, frozenset([3]), (4.5, None, True))},
], ids=["alias-bomb", "long-str", "long-bytes", "long-list", "wide-dict", "huge-int", "nested"])
def test_shown_is_bounded_whatever_the_value(value):
    text = shown(value, limit=60)
    assert 0 < len(text) <= 60


def test_a_self_containing_value_is_shown():
    value = []
    value.append(value)
    assert len(shown(value)) <= 60


@pytest.mark.parametrize(("value", "text"), [
    ("closest", "'closest'"), (3, "3"), (0.5, "0.5"), (None, "None"), (True, "True"),
    (np.int64(7), "7"), (np.float64(0.25), "0.25"), (np.str_("a"), "'a'"), ([1, "b"], "[1, 'b']"),
    ("red\x1b[31m\n", "'red\\x1b[31m\\n'"),  # controls escaped, as repr does
])
def test_short_values_are_shown_as_written(value, text):
    assert shown(value) == text


def test_named_keeps_strings_and_cuts_them():
    assert named("n_estimators") == "n_estimators"
    assert named(3) == "3"
    assert named("k" * 1000) == "k" * 57 + "..."
    assert len(named(int("f" * 5000, 16))) <= 60


def test_an_unexpected_error_names_the_error_it_came_from():
    try:
        try:
            raise OSError("the real trouble")
        except OSError:
            raise AssertionError("Should not reach.")
    except AssertionError as exc:
        assert with_cause(exc) == "AssertionError: Should not reach., from OSError: the real trouble"
    assert with_cause(ValueError("alone")) == "ValueError: alone"
