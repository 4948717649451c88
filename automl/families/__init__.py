"""Model families: the allow-list, the scikit-learn builders and automl's own NumPy models (``gd``).

A search-space file names a family (``svm``); :func:`build_estimator` turns it into an estimator
for the task. YAML can never name an import path, so loading a space cannot import arbitrary code.
"""

from ._bounded import STOPS_ITSELF, fit_seconds
from ._registry import FAMILIES, RESERVED, SCALE_TARGET, Family, build_estimator, get_family

__all__ = ["FAMILIES", "RESERVED", "SCALE_TARGET", "STOPS_ITSELF", "Family", "build_estimator", "fit_seconds",
           "get_family"]
