"""The package's shape: imports point one way along the flow, no cycles, mlflow and typer each in
one place, small modules and functions, every runtime import declared in pyproject.toml.

Read from the source with ``ast`` (nothing is imported), so a lazy import inside a function counts
like any other.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "automl"

# The flow, top to bottom. A module may import from its own package and from layers above it.
LAYERS = [
    ["automl._version", "automl._compat", "automl.errors", "automl._stop", "automl._terminal"],
    ["automl._files"],  # writing under the work folder without following links
    ["automl._sqlite"],  # the embedded stores' files
    ["automl._trust"],
    ["automl.config"],
    ["automl.plan"],  # time: the clock, the cost model, every "is there time for this"
    ["automl.data"],
    ["automl.metrics"],
    ["automl.split"],  # the test rows locked away, the folds: the data an experiment searches
    ["automl.families"],
    ["automl.preprocess"],
    ["automl.space"],
    ["automl.trial"],  # the trial record: attributes, spec, reads over trials
    ["automl.study"],  # the study's storage and life: open, resume, guard, run, locks, stale trials
    ["automl.search"],  # evaluating a trial: the CV objective, folds, fold runners, out-of-fold store
    ["automl.scaleout"],
    ["automl.tracking"],
    ["automl.evaluate"],
    ["automl.artifacts"],
    ["automl.retrain"],
    ["automl.report"],
    ["automl.finish"],  # after the search: the final model made, tested, explained, saved and logged
    ["automl.predict", "automl._serving"],  # _serving: what a model server loads
    ["automl.run"],
    ["automl.cli"],
    ["automl.__main__", "automl"],
]
MAX_MODULE_LINES = 400
MAX_FUNCTION_CODE_LINES = 50
# Import names whose distribution is called otherwise on PyPI.
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "psycopg": "psycopg"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> list[tuple[str, int]]:
    """Every module imported by ``name`` (absolute names), with the line of the import."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from pkg import module` imports the module
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, node.lineno))
    return found


def _internal_edges() -> dict[str, set[str]]:
    edges = {}
    for name in MODULES:
        targets = {_owning_module(t) for t, _ in _imports(name) if t.split(".")[0] == "automl"}
        edges[name] = {t for t in targets if t and t != name}
    return edges


def _owning_module(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _layer(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(name == top or name.startswith(top + ".") for top in layer if top != "automl"):
            return index
    return len(LAYERS) - 1 if name == "automl" else -1


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer(m) < 0] == []


def test_no_import_cycles():
    edges, cycles = _internal_edges(), []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def _top(name: str) -> str:
    """The package (or top-level module) a module belongs to: ``automl.study._study`` ->
    ``automl.study``."""
    return ".".join(name.split(".")[:2])


def test_imports_point_one_way_along_the_flow():
    wrong = [f"{name} imports {target}" for name, targets in _internal_edges().items()
             for target in sorted(targets)
             if _top(target) != _top(name) and _layer(target) >= _layer(name)]
    assert wrong == []


@pytest.mark.parametrize(("library", "home"), [("mlflow", "automl.tracking."), ("typer", "automl.cli")])
def test_library_imported_in_one_place(library, home):
    users = {name for name in MODULES for target, _ in _imports(name)
             if target.split(".")[0] == library}
    assert users and all(name.startswith(home) or name == home for name in users), sorted(users)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name}: {lines} lines"


def _code_lines(node: ast.AST, source: list[str]) -> int:
    """Lines of a function that hold code: no blank lines, comments or its docstring."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    lines = source[body[0].lineno - 1:node.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_function_size(name):
    source = MODULES[name].read_text()
    lines = source.splitlines()
    long = [f"{fn.name} ({_code_lines(fn, lines)})" for fn in ast.walk(ast.parse(source))
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _code_lines(fn, lines) > MAX_FUNCTION_CODE_LINES]
    assert long == [], f"{name}: functions over {MAX_FUNCTION_CODE_LINES} code lines"


def _declared() -> set[str]:
    """Core dependencies, and the optional extras named after their one package (a family such
    as catboost, refused by name when its package is missing)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [reqs[0] for name, reqs in project["optional-dependencies"].items()
              if len(reqs) == 1 and reqs[0].lower().startswith(name)]
    return {re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].strip().lower()
            for req in project["dependencies"] + extras}


def test_every_runtime_import_is_declared():
    third_party = {target.split(".")[0] for name in MODULES for target, _ in _imports(name)
                   if target.split(".")[0] not in ("automl", "__future__")
                   and target.split(".")[0] not in sys.stdlib_module_names}
    missing = sorted(lib for lib in third_party
                     if DISTRIBUTIONS.get(lib, lib).lower().replace("_", "-") not in _declared())
    assert missing == [], f"imported at runtime but not in pyproject.toml dependencies: {missing}"


def test_the_checks_see_real_imports():
    # Guards against a walker that silently finds nothing (then every check above would pass).
    edges = _internal_edges()
    assert "automl.search" in edges["automl.run._setup"]
    assert "automl.tracking._writer" in edges["automl.tracking._pipe"]
    assert any(t == "mlflow.sklearn" for t, _ in _imports("automl.tracking._flavor"))


def test_test_rows_are_touched_in_known_places_only():
    """``X_test`` is made by the split (``split/``, from a given test file too), given to the final model once (``evaluate/_test_once.py``) and
    to the champion by the retrain gate (which hashes its rows to find those the champion has not
    seen, ``retrain/_compare.py``); after that test, the final steps shuffle its columns for
    permutation importance (``evaluate/_explained.py``), log it as the run's test data set
    (``finish/_steps.py``) and, with ``refit_full``, refit on it
    (``evaluate/_refit.py``): neither can change what was chosen or the test score. A new place
    that reads it is a deliberate change here."""
    users = {name for name, path in MODULES.items() if re.search(r"\bX_test\b", path.read_text())}
    assert users == {"automl.split._split", "automl.split._prepared", "automl.run._setup", "automl.evaluate._test_once",
                     "automl.retrain._gate", "automl.retrain._compare", "automl.finish._steps", "automl.evaluate._explained",
                     "automl.evaluate._refit"}


def test_what_a_served_model_loads_does_not_import_optuna():
    # A model server imports the evaluation code (ensembles, refits) and the pyfunc wrapper, never the search.
    code = ("import sys, automl.evaluate, automl._serving, automl.predict, automl.tracking, automl.trial, automl.plan; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'optuna' or m.startswith(('automl.search', 'automl.study'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
