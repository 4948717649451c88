"""Check a parsed search-space document; report every problem with its YAML path."""

from __future__ import annotations

from typing import Any

from automl.errors import first_line, named, shown
from automl.families import FAMILIES
from automl.preprocess import PREP_CHOICES, PREP_NUMBERS

from ._param import Param
from ._portfolio import check_portfolio

TOP_KEYS = ("description", "preprocessing", "models", "classification", "regression", "portfolio")
TASK_BLOCKS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}
SPEC_KEYS = {"float": {"low", "high", "log", "step"}, "int": {"low", "high", "log", "step"},
             "categorical": {"choices"}}
SCALARS = (str, int, float, bool, type(None))
LIMIT = 1e15  # the ends of a numeric range: finite, and exact as floats


def validate(doc: Any) -> tuple[list[str], dict]:
    """Check a parsed space document; return (problems, parsed blocks)."""
    problems: list[str] = []
    parsed: dict[str, Any] = {"models": {}, "preprocessing": []}
    if not isinstance(doc, dict):
        return [f"file: must be a mapping with keys {', '.join(TOP_KEYS[1:])}"], parsed
    for key in doc:
        if key not in TOP_KEYS:
            problems.append(f"{named(key)}: unknown key; allowed: {', '.join(TOP_KEYS)}")
    parsed["models"] = _models(doc.get("models"), "models", tuple(TASK_BLOCKS), problems)
    parsed["preprocessing"] = _prep(doc.get("preprocessing"), "preprocessing", problems)
    for block in TASK_BLOCKS:
        parsed[block] = _task_block(doc.get(block), block, problems)
    parsed["portfolio"] = check_portfolio(doc.get("portfolio"), parsed, TASK_BLOCKS, problems)
    if not problems and not (parsed["models"] or any(parsed[b]["models"] for b in TASK_BLOCKS)):
        problems.append("models: the space declares no model family")
    return problems, parsed


def _task_block(block: Any, path: str, problems: list[str]) -> dict:
    if block is None:
        return {"models": {}, "preprocessing": []}
    if not isinstance(block, dict):
        problems.append(f"{path}: must be a mapping with keys models, preprocessing")
        return {"models": {}, "preprocessing": []}
    for key in block:
        if key not in ("models", "preprocessing"):
            problems.append(f"{path}.{named(key)}: unknown key; allowed: models, preprocessing")
    return {"models": _models(block.get("models"), f"{path}.models", (path,), problems),
            "preprocessing": _prep(block.get("preprocessing"), f"{path}.preprocessing", problems)}


def _models(block: Any, path: str, blocks: tuple[str, ...], problems: list[str]) -> dict:
    if block is None:
        return {}
    if not isinstance(block, dict):
        problems.append(f"{path}: must be a mapping of model family -> parameters")
        return {}
    out = {}
    for family, params in block.items():
        where = f"{path}.{named(family)}"
        fam = FAMILIES.get(family)
        if fam is None:
            problems.append(f"{where}: unknown model family; choose one of {', '.join(FAMILIES)}")
            continue
        if not fam.available():
            problems.append(f"{where}: model family {shown(family)} needs the {fam.requires} package: "
                            f"pip install 'automl[{fam.requires}]', or remove it from the space")
            continue
        tasks = [t for b in blocks for t in TASK_BLOCKS[b] if fam.supports(t)]
        if not tasks:
            problems.append(f"{where}: model family {shown(family)} does not support {'/'.join(blocks)}")
            continue
        kinds = {t if t == "regression" else "binary" for t in tasks}
        allowed = set.intersection(*(fam.param_names(t) for t in kinds))
        out[family] = _params(params, where, allowed, problems)
        _check_values(family, sorted(kinds), out[family], where, problems)
    return out


def _check_values(family: str, tasks: list[str], params: list[Param], path: str, problems: list[str]) -> None:
    """Every value the space can give a parameter (fixed value, each choice, both ends of a range)
    is one the estimator accepts for some task in ``tasks``, so a bad value is named here, before
    the search, rather than failing every trial that draws it. A shared block may hold a value only
    one task takes (a classifier's ``criterion``): :func:`check_for_task` refuses it for the other.
    One problem per parameter."""
    for p in params:
        values = {"categorical": p.choices, "fixed": (p.value,)}.get(p.type, (p.low, p.high))
        for value in dict.fromkeys(values):
            reasons = [_refused(family, task, p.name, value) for task in tasks]
            if all(reasons):
                problems.append(f"{path}.{p.name}: {shown(value)} is not allowed ({reasons[0]})")
                break


def check_for_task(parsed: dict, task: str) -> list[str]:
    """Problems of the shared block's values a run on ``task`` would use (see
    :func:`_check_values`); a task block's values were checked for its task by :func:`validate`."""
    block = "regression" if task == "regression" else "classification"
    kind = "regression" if task == "regression" else "binary"
    problems: list[str] = []
    for family, params in parsed["models"].items():
        if FAMILIES[family].supports(task) and family not in parsed[block]["models"]:
            _check_values(family, [kind], params, f"models.{family}", problems)
    return problems


def _refused(family: str, task: str, name: str, value: Any) -> str | None:
    from automl.families import build_estimator

    try:
        estimator = build_estimator(family, task, {name: value}, seed=0)
        # scikit-learn checks parameters against the class's declared constraints at fit time;
        # ask it now (libraries without declared constraints are left to the trial).
        declared = getattr(type(estimator), "_parameter_constraints", None)
        if declared and hasattr(estimator, "_validate_params"):
            estimator._validate_params()
    except (ValueError, TypeError) as exc:
        return first_line(exc) or type(exc).__name__
    return None


def _prep(block: Any, path: str, problems: list[str]) -> list[Param]:
    params = _params(block, path, set(PREP_CHOICES), problems)
    for p in params:
        allowed = PREP_CHOICES.get(p.name)
        values = p.choices if p.type == "categorical" else (p.value,) if p.type == "fixed" else ()
        bad = [v for v in values if allowed is not None and v not in allowed]
        if bad:
            problems.append(f"{path}.{p.name}: {shown(bad[0])} is not allowed; choose from {list(allowed)}")
        if p.name in PREP_NUMBERS:
            ok, rule = PREP_NUMBERS[p.name]
            bad = [v for v in (*values, p.low, p.high) if v is not None and not ok(v)]
            if bad:
                problems.append(f"{path}.{p.name}: {shown(bad[0])} is not allowed; it must be {rule}")
    return params


def _params(block: Any, path: str, allowed: set[str], problems: list[str]) -> list[Param]:
    if block is None:
        return []
    if not isinstance(block, dict):
        problems.append(f"{path}: must be a mapping of parameter -> spec or fixed value")
        return []
    params = []
    for name, spec in block.items():
        if name not in allowed:
            problems.append(f"{path}.{named(name)}: unknown parameter; allowed: {', '.join(sorted(allowed))}")
            continue
        param = _param(named(name, 200), spec, f"{path}.{named(name)}", problems)
        if param is not None:
            params.append(param)
    _check_conditions(params, path, problems)
    return params


def _param(name: str, spec: Any, path: str, problems: list[str]) -> Param | None:
    if isinstance(spec, SCALARS):
        return Param(name, "fixed", value=spec)
    if not isinstance(spec, dict):
        problems.append(f"{path}: must be a fixed value or a mapping with 'type'")
        return None
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in SPEC_KEYS:  # a list is not even a lookup key
        problems.append(f"{path}.type: must be one of float, int, categorical, got {shown(kind)}")
        return None
    before = len(problems)
    for key in spec:
        if key not in SPEC_KEYS[kind] | {"type", "when"}:
            problems.append(f"{path}.{named(key)}: unknown key for a {kind} parameter; allowed: "
                            f"{', '.join(sorted(SPEC_KEYS[kind] | {'type', 'when'}))}")
    when = _when(spec.get("when"), f"{path}.when", problems)
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            problems.append(f"{path}.choices: must be a non-empty list, got {shown(choices)}")
        elif not all(isinstance(c, SCALARS) for c in choices):
            problems.append(f"{path}.choices: each choice must be a string, number, boolean or null")
        return Param(name, kind, choices=tuple(choices or ()), when=when) if len(problems) == before else None
    return _numeric(name, kind, spec, path, when, problems, before)


def _numeric(name, kind, spec, path, when, problems, before) -> Param | None:
    low, high = (_number(spec.get(k), kind, f"{path}.{k}", problems) for k in ("low", "high"))
    log = spec.get("log", False)
    step = _number(spec["step"], kind, f"{path}.step", problems) if "step" in spec else None
    if not isinstance(log, bool):
        problems.append(f"{path}.log: must be true or false, got {shown(log)}")
    if low is not None and high is not None and low > high:
        problems.append(f"{path}.low: must be <= high ({high:g}), got {low:g}")
    if log is True and low is not None and low <= 0:
        problems.append(f"{path}.low: must be > 0 when log is true, got {low:g}")
    if step is not None and step <= 0:
        problems.append(f"{path}.step: must be > 0, got {step:g}")
    if step is not None and log is True and (kind == "float" or step != 1):
        problems.append(f"{path}.step: cannot be combined with log: true")
    if len(problems) > before:
        return None
    return Param(name, kind, low=low, high=high, log=log, step=step, when=when)


def _number(value: Any, kind: str, path: str, problems: list[str]):
    if value is None:
        problems.append(f"{path}: required for a {kind} parameter")
        return None
    if isinstance(value, str):  # PyYAML reads 1e-4 (no dot) as a string; accept it as a number
        try:
            value = float(value)
        except ValueError:
            problems.append(f"{path}: must be a number, got {shown(value)}")
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"{path}: must be a number, got {shown(value)}")
        return None
    if not -LIMIT <= value <= LIMIT:  # also nan; float() of a larger int, int() of inf would raise
        problems.append(f"{path}: must be a finite number between -1e15 and 1e15, got {shown(value)}")
        return None
    if kind == "int":
        if float(value) != int(value):
            problems.append(f"{path}: must be an integer for an int parameter, got {shown(value)}")
            return None
        return int(value)
    return float(value)


def _when(when: Any, path: str, problems: list[str]) -> dict[str, tuple]:
    if when is None:
        return {}
    if not isinstance(when, dict) or not when:
        problems.append(f"{path}: must map a sibling parameter to a value or list of values")
        return {}
    return {named(k, 200): tuple(v) if isinstance(v, list) else (v,) for k, v in when.items()}


def _check_conditions(params: list[Param], path: str, problems: list[str]) -> None:
    seen: dict[str, Param] = {}
    for p in params:
        for ref, values in p.when.items():
            other = seen.get(ref)
            if other is None:
                problems.append(f"{path}.{p.name}.when.{ref}: must name a parameter declared above it")
                continue
            domain = other.choices if other.type == "categorical" else (other.value,) if other.type == "fixed" else None
            if domain is None:
                problems.append(f"{path}.{p.name}.when.{ref}: conditions need a categorical or fixed parameter")
            elif any(v not in domain for v in values):
                problems.append(f"{path}.{p.name}.when.{ref}: {shown([v for v in values if v not in domain])} "
                                f"not among {ref}'s choices {shown(list(domain))}")
        seen[p.name] = p
