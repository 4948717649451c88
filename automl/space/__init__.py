"""Search spaces declared in YAML, validated with every problem's path, sampled define-by-run.

Format (see docs/spaces.md)::

    preprocessing:              # optional, searched like any hyperparameter
      scaler: {type: categorical, choices: [standard, robust]}
    models:                     # families used for every task they support
      svm:
        C: {type: float, low: 1.0e-3, high: 1.0e+3, log: true}
        kernel: {type: categorical, choices: [rbf, linear]}
        gamma: {type: categorical, choices: [scale, auto], when: {kernel: rbf}}
        max_iter: 5000          # a plain value is fixed, not searched
    classification: {models: {...}, preprocessing: {...}}   # optional task-specific blocks
    regression: {models: {...}}

Optuna parameter names: ``model`` (the family), ``<family>.<param>``, ``prep.<param>``.
"""

from ._baseline import BASELINES, baseline_trials, portfolio_trials
from ._load import SPACES_DIR, load_space, read_space_yaml, resolve_space_path, validate_file
from ._param import Param, SearchSpace
from ._validate import validate

__all__ = ["BASELINES", "SPACES_DIR", "Param", "baseline_trials", "portfolio_trials",
           "SearchSpace", "load_space", "read_space_yaml", "resolve_space_path", "validate",
           "validate_file"]
