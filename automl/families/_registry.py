"""The allow-list of model families: the only place estimator classes are named."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from automl.errors import UnknownFamilyError

# Parameters the pipeline sets itself; a space may not search them. ``task`` tells a builder that
# serves both tasks which estimator to return.
# ``categorical_first`` is set by the pipeline for families that split categories natively.
RESERVED = frozenset({"random_state", "n_jobs", "verbose", "warm_start", "task", "categorical_first"})
# Regressors whose fit depends on the target's scale (step sizes, epsilon, penalties): they see a
# standardised target, so a target in the hundreds does not diverge or need its own alpha range.
SCALE_TARGET = frozenset({"linear", "sgd", "svm", "mlp", "gd"})


@dataclass(frozen=True)
class Family:
    """One model family: what builds it for classification and for regression."""

    name: str
    classifier: str | None  # "module:attr", resolved lazily; attr is a class or a builder function
    regressor: str | None
    defaults: dict[str, Any] = field(default_factory=dict)  # applied unless the space sets them
    requires: str | None = None  # an optional package (and the extra that installs it)

    def available(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    def supports(self, task: str) -> bool:
        return self._target(task) is not None

    def _target(self, task: str) -> str | None:
        return self.regressor if task == "regression" else self.classifier

    def factory(self, task: str) -> Callable[..., Any]:
        target = self._target(task)
        if target is None:
            raise UnknownFamilyError(f"model family {self.name!r} has no {task} estimator")
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def param_names(self, task: str) -> set[str]:
        """Keyword parameters a space may set for this family and task."""
        params = inspect.signature(self.factory(task)).parameters
        return {p for p in params if p not in RESERVED and p != "self"}


_SK = "automl.families._sklearn"
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("logistic", f"{_SK}:logistic", None),
    Family("linear", None, f"{_SK}:linear"),
    Family("sgd", "sklearn.linear_model:SGDClassifier", "sklearn.linear_model:SGDRegressor"),
    Family("svm", f"{_SK}:svm_classifier", "sklearn.svm:SVR"),
    Family("knn", "sklearn.neighbors:KNeighborsClassifier", "sklearn.neighbors:KNeighborsRegressor"),
    Family("decision_tree", "sklearn.tree:DecisionTreeClassifier",
           "sklearn.tree:DecisionTreeRegressor"),
    Family("naive_bayes", "sklearn.naive_bayes:GaussianNB", None),
    Family("random_forest", "sklearn.ensemble:RandomForestClassifier",
           "sklearn.ensemble:RandomForestRegressor"),
    Family("extra_trees", "sklearn.ensemble:ExtraTreesClassifier",
           "sklearn.ensemble:ExtraTreesRegressor"),
    Family("hist_gradient_boosting", "sklearn.ensemble:HistGradientBoostingClassifier",
           "sklearn.ensemble:HistGradientBoostingRegressor"),
    Family("mlp", f"{_SK}:mlp", f"{_SK}:mlp"),
    Family("gd", "automl.families.gd:GDClassifier", "automl.families.gd:GDRegressor"),
    Family("lightgbm", "automl.families._lightgbm:LightGBMClassifier",
           "automl.families._lightgbm:LightGBMRegressor"),
    Family("catboost", "automl.families._catboost:CatBoostClassifier",
           "automl.families._catboost:CatBoostRegressor", requires="catboost"),
)}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(f"unknown model family {name!r}; choose one of "
                                 f"{', '.join(FAMILIES)}") from None


def build_estimator(family: str, task: str, params: dict[str, Any], seed: int):
    """A fresh, unfitted estimator for ``task`` with the family defaults, ``params`` and the seed."""
    fam = get_family(family)
    factory = fam.factory(task)
    accepted = inspect.signature(factory).parameters
    kwargs = {**fam.defaults, **params}
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    if "n_jobs" in accepted:
        kwargs["n_jobs"] = 1  # parallelism is across CV folds; nesting would oversubscribe the cores
    if "task" in accepted:
        kwargs["task"] = task
    estimator = factory(**kwargs)
    if task == "regression" and family in SCALE_TARGET:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        return TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    return estimator
