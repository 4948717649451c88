"""The final model: a fresh refit of the best trial, and the one evaluation on the test rows."""

from ._refit import refit
from ._test_once import test_once

__all__ = ["refit", "test_once"]
