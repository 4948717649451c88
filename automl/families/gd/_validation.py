"""Validation of the estimators' hyper-parameters, run at the start of ``fit``.

scikit-learn's own parameter validation lives in a private module; this small copy keeps the
estimators independent of it while giving messages in the same form:
"The 'optimizer' parameter of GDClassifier must be one of [...]. Got 'x' instead."
"""

from __future__ import annotations

import numbers


class Options:
    """Allowed string values."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value):
        return isinstance(value, str) and value in self.values

    def describe(self):
        return f"one of {list(self.values)}"


class Interval:
    """A number of ``kind`` (int or float) in ``[low, high]``; ``open`` names excluded ends."""

    def __init__(self, kind, low=None, high=None, open=()):
        self.kind, self.low, self.high, self.open = kind, low, high, open

    def accepts(self, value):
        number = numbers.Integral if self.kind is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, number):
            return False
        if self.low is not None and (value < self.low or ("low" in self.open and value == self.low)):
            return False
        if self.high is not None:
            return value < self.high or (value == self.high and "high" not in self.open)
        return True

    def describe(self):
        left = "(" if "low" in self.open or self.low is None else "["
        right = ")" if "high" in self.open or self.high is None else "]"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"an {self.kind.__name__} in {left}{low}, {high}{right}"


class Kind:
    """Any instance of ``types`` (e.g. ``bool``, ``dict``); ``None`` is given as ``type(None)``."""

    def __init__(self, *types):
        self.types = types

    def accepts(self, value):
        return isinstance(value, self.types)

    def describe(self):
        return "a " + " or ".join(t.__name__ for t in self.types)


def validate_params(estimator, constraints):
    """Raise ValueError naming the first parameter that none of its constraints accepts."""
    for name, allowed in constraints.items():
        value = getattr(estimator, name)
        if any(rule.accepts(value) for rule in allowed):
            continue
        described = " or ".join(rule.describe() for rule in allowed)
        raise ValueError(
            f"The {name!r} parameter of {type(estimator).__name__} must be {described}. "
            f"Got {value!r} instead."
        )
