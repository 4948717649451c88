"""The allow-list of model families: the only place estimator classes are named.

A search-space file names a family (``svm``); this registry turns it into an estimator for the
task. YAML can never name an import path, so loading a space cannot import arbitrary code.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

# Parameters the pipeline sets itself; a space may not search them.
RESERVED = frozenset({"random_state", "n_jobs", "verbose", "warm_start"})
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
    summary: str = ""

    def supports(self, task: str) -> bool:
        return self._target(task) is not None

    def _target(self, task: str) -> str | None:
        return self.regressor if task == "regression" else self.classifier

    def factory(self, task: str) -> Callable[..., Any]:
        target = self._target(task)
        if target is None:
            raise KeyError(f"model family {self.name!r} has no {task} estimator")
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def param_names(self, task: str) -> set[str]:
        """Keyword parameters a space may set for this family and task."""
        params = inspect.signature(self.factory(task)).parameters
        return {p for p in params if p not in RESERVED and p != "self"}


def _f(name, clf, reg, summary, **defaults) -> Family:
    return Family(name, clf, reg, defaults, summary)


FAMILIES: dict[str, Family] = {f.name: f for f in (
    _f("logistic", "automl.models:logistic", None, "logistic regression with L1/L2/elastic-net"),
    _f("linear", None, "automl.models:linear", "Ridge (L2), Lasso (L1) or ElasticNet"),
    _f("sgd", "sklearn.linear_model:SGDClassifier", "sklearn.linear_model:SGDRegressor",
       "linear model trained by scikit-learn's SGD with its learning-rate schedules"),
    _f("svm", "automl.models:svm_classifier", "sklearn.svm:SVR", "support vector machine"),
    _f("knn", "sklearn.neighbors:KNeighborsClassifier", "sklearn.neighbors:KNeighborsRegressor",
       "k nearest neighbours"),
    _f("decision_tree", "sklearn.tree:DecisionTreeClassifier", "sklearn.tree:DecisionTreeRegressor",
       "a single decision tree"),
    _f("naive_bayes", "sklearn.naive_bayes:GaussianNB", None, "Gaussian naive Bayes"),
    _f("random_forest", "sklearn.ensemble:RandomForestClassifier",
       "sklearn.ensemble:RandomForestRegressor", "random forest"),
    _f("extra_trees", "sklearn.ensemble:ExtraTreesClassifier", "sklearn.ensemble:ExtraTreesRegressor",
       "extremely randomised trees"),
    _f("hist_gradient_boosting", "sklearn.ensemble:HistGradientBoostingClassifier",
       "sklearn.ensemble:HistGradientBoostingRegressor", "histogram gradient boosting"),
    _f("mlp", "automl.models:mlp_classifier", "automl.models:mlp_regressor",
       "multi-layer perceptron (sgd with momentum/Nesterov, or adam)"),
    _f("gd", "automl.estimators:GDClassifier", "automl.estimators:GDRegressor",
       "automl's NumPy gradient-descent models: gd, sgd, minibatch, momentum, nesterov, adagrad, "
       "rmsprop, adam"),
)}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}") from None


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
    estimator = factory(**kwargs)
    if task == "regression" and family in SCALE_TARGET:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        return TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    return estimator
