"""What automl's own models are made of, as skops writes them: ``(loader, type)`` pairs.

Every family is fitted for every task it serves with each value of each of its enumerable
parameters (string options and booleans, read from the estimator's own parameter constraints
and from the bundled default space), one at a time; parameters that change what is saved are
then tried two at a time; every preprocessing choice likewise. The result is what
``automl/_trust/_types.py`` must allow. Run ``python tests/trust/saved_types.py`` to print the
pairs in that module's form after adding a family or upgrading a library.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

# Small models: the types do not depend on how many trees or rounds there are.
SMALL = {"n_estimators": 3, "max_iter": 15, "iterations": 5, "max_epochs": 3, "layer_size": 4,
         "early_stopping_rounds": 2}


# Numeric values that change what is saved (a k-NN's Minkowski power picks its metric's class).
PROBES = {"knn": {"p": [1, 2, 3]}}


def table(task: str, n: int = 80, seed: int = 0) -> pd.DataFrame:
    """Numbers with gaps, booleans, small and large categories, dates, free text; a target of
    strings (binary), integers (multiclass) or values (regression)."""
    rng = np.random.default_rng(seed)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]
    frame = pd.DataFrame({
        "num": rng.normal(size=n), "gaps": np.where(rng.random(n) < .2, np.nan, rng.normal(size=n)),
        "flag": rng.random(n) < .5, "colour": rng.choice(["red", "green", "blue"], n),
        "city": [f"c{i % 40}" for i in range(n)],
        "when": pd.date_range("2021-01-01", periods=n, freq="D").astype(str),
        "note": [" ".join(rng.choice(words, 6)) + f" w{i}" for i in range(n)]})
    frame["y"] = {"binary": lambda: rng.choice(["yes", "no"], n),
                  "multiclass": lambda: np.arange(n) % 3,
                  "regression": lambda: rng.normal(size=n) * 100 + frame["num"] * 50}[task]()
    return frame


def saved_pairs(model) -> set[tuple[str, str]]:
    import skops.io

    from automl._trust._skops import node_pair, read_schema, schema_nodes

    return {node_pair(node) for node in schema_nodes(read_schema(skops.io.dumps(model), "model"))}


def _inner(estimator):
    for name in ("regressor", "estimator"):  # TransformedTargetRegressor, CalibratedClassifierCV
        if hasattr(estimator, name) and getattr(estimator, name) is not None:
            return getattr(estimator, name)
    return estimator


def _choices(family: str, task: str) -> dict[str, list]:
    """Each enumerable parameter of ``family`` a space may set, with the values to try."""
    import yaml

    from automl.families import build_estimator, get_family
    from automl.space import resolve_space_path

    allowed = get_family(family).param_names(task)
    estimator = build_estimator(family, task, {}, 0)
    rules: dict[str, list] = {}
    for obj in (_inner(estimator), estimator):
        for source in ("_parameter_constraints", "_constraints"):
            for name, given in getattr(type(obj), source, {}).items():
                rules.setdefault(name, list(given))
    found: dict[str, list] = {}
    for name in allowed:
        values = []
        for rule in rules.get(name, []):
            options = getattr(rule, "options", None) if not isinstance(rule, type) else None
            options = options or (getattr(rule, "values", None) if not isinstance(rule, type) else None)
            if isinstance(options, (set, frozenset, tuple, list)):
                values += sorted((v for v in options if isinstance(v, str)), key=str)
            if rule == "boolean" or rule is bool:
                values += [True, False]
        found[name] = values
    doc = yaml.safe_load(resolve_space_path("default.yaml").read_text())
    block = "regression" if task == "regression" else "classification"
    for models in (doc.get("models", {}), doc.get(block, {}).get("models", {})):
        for name, spec in (models.get(family) or {}).items():
            if isinstance(spec, dict) and spec.get("type") == "categorical" and name in allowed:
                found[name] = found.get(name, []) + [v for v in spec["choices"] if v not in found.get(name, [])]
    for name, values in PROBES.get(family, {}).items():
        found[name] = found.get(name, []) + values
    return {name: values for name, values in found.items() if values}


def _fit_pairs(family: str, task: str, params: dict, prep: dict, data) -> set[tuple[str, str]]:
    from automl.families import build_estimator, get_family
    from automl.preprocess import build_pipeline

    names = get_family(family).param_names(task)
    small = {k: v for k, v in SMALL.items() if k in names}
    try:
        model = build_pipeline(data.columns_by_kind, prep, build_estimator(family, task, {**small, **params}, 0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data.X, data.y)
    except Exception:  # a combination the estimator refuses is no model automl saves
        return set()
    return saved_pairs(model)


def family_pairs(family: str, task: str, data, pairwise: bool = True) -> set[tuple[str, str]]:
    """One value at a time; with ``pairwise``, each value of a parameter that changed what was
    saved with each value of every other parameter (a k-NN's tree and its metric)."""
    base = _fit_pairs(family, task, {}, {}, data)
    found, changing = set(base), set()
    choices = _choices(family, task)
    for name, values in choices.items():
        for value in values:
            new = _fit_pairs(family, task, {name: value}, {}, data)
            if new - base:
                changing.add(name)
            found |= new
    if not pairwise:
        return found
    for first in sorted(changing):
        for second in sorted(choices):
            if second == first or (second in changing and second < first):
                continue
            for a, b in itertools.product(choices[first], choices[second]):
                found |= _fit_pairs(family, task, {first: a, second: b}, {}, data)
    return found


def prep_pairs(task: str, data) -> set[tuple[str, str]]:
    from automl.preprocess._columns import PREP_CHOICES

    family = "linear" if task == "regression" else "logistic"
    found = set()
    for name, values in PREP_CHOICES.items():
        for value in values or ():
            for few in (3, 30):  # few categories: the large column is one-hot or target-encoded
                found |= _fit_pairs(family, task, {}, {name: value, "max_categories": few}, data)
    return found


def ensemble_pairs(task: str, data) -> set[tuple[str, str]]:
    from automl.evaluate._ensemble import build_ensemble
    from automl.families import build_estimator
    from automl.preprocess import build_pipeline

    family = "linear" if task == "regression" else "logistic"
    members = [(f"m{i}", build_pipeline(data.columns_by_kind, {}, build_estimator(family, task, {}, i)), 1.0)
               for i in range(2)]
    return saved_pairs(build_ensemble(members, task).fit(data.X, data.y))


def all_pairs(families=None) -> set[tuple[str, str]]:
    from automl.data import prepare
    from automl.families import FAMILIES

    found = set()
    for task in ("binary", "multiclass", "regression"):
        data = prepare(table(task), "y", task, "saved_types")
        for family in families or FAMILIES:
            if FAMILIES[family].available() and FAMILIES[family].supports(task):
                found |= family_pairs(family, task, data)
        found |= prep_pairs(task, data) | ensemble_pairs(task, data)
    return found


if __name__ == "__main__":
    for loader, name in sorted(all_pairs()):
        print(f'    ("{loader}", "{name}"),')
