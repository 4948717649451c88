"""Module paths that models saved by automl 0.1 still name.

A pickled (joblib) or skops-saved model records the module of every class in it; automl 0.1 kept
its gradient-descent estimators in ``automl.estimators``. Those names resolve to the modules' new
home, so a champion registered before the move still loads for ``predict`` and the retrain gate.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "automl.estimators": "automl.families.gd",
    "automl.estimators._base": "automl.families.gd._base",
    "automl.estimators._classifier": "automl.families.gd._classifier",
    "automl.estimators._regressor": "automl.families.gd._regressor",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import an old name as the very module object of its new name (no copy, same classes)."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        spec.loader_state = module.__spec__  # the import system will put the old name's spec on it
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # already executed under its new name


def install() -> None:
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedModules())  # before the path finder, which would load a copy
