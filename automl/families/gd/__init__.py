"""Linear models fitted by a choice of first-order optimizers, written in NumPy.

The optimizer is a hyper-parameter like any other, so a search can compare plain, momentum and
adaptive methods on the same model. ``OPTIMIZERS`` maps each optimizer name to its update rule.
"""

from automl.errors import DivergenceError

from ._classifier import GDClassifier
from ._optimizers import OPTIMIZERS
from ._regressor import GDRegressor

__all__ = ["OPTIMIZERS", "DivergenceError", "GDClassifier", "GDRegressor"]
