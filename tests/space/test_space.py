"""automl.space: YAML search spaces, their validation with paths, and define-by-run sampling."""

from __future__ import annotations

import optuna
import pytest
import yaml

from automl.errors import ConfigError, SpaceError
from automl.space import SPACES_DIR, load_space, validate, validate_file

BUNDLED = sorted(p.name for p in SPACES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_spaces_are_valid(name):
    assert validate_file(name) == []


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_bundled_spaces_load_for_every_task(name, task):
    space = load_space(name, task)
    assert space.models and space.task == task and len(space.digest) == 12


def test_task_blocks_pick_families():
    classification, regression = load_space("fast.yaml", "binary"), load_space("fast.yaml", "regression")
    assert set(classification.models) == {"knn", "decision_tree", "logistic", "naive_bayes"}
    assert set(regression.models) == {"knn", "decision_tree", "linear"}


def test_task_block_overrides_shared_family(workdir):
    (workdir / "s.yaml").write_text(
        "models:\n  knn: {n_neighbors: 3}\nregression:\n  models:\n    knn: {n_neighbors: 9}\n")
    assert load_space("./s.yaml", "binary").models["knn"][0].value == 3
    assert load_space("./s.yaml", "regression").models["knn"][0].value == 9


def _problems(text: str) -> list[str]:
    return validate(yaml.safe_load(text))[0]


@pytest.mark.parametrize(("text", "problem"), [
    ("models:\n  svm:\n    C: {type: float, low: 0, high: 1, log: true}\n",
     "models.svm.C.low: must be > 0 when log is true, got 0"),
    ("models:\n  knn:\n    n_neighbors: {type: int, low: 9, high: 2}\n",
     "models.knn.n_neighbors.low: must be <= high (2), got 9"),
    ("models:\n  knn:\n    n_neighbors: {type: int, low: 1.5, high: 2}\n",
     "models.knn.n_neighbors.low: must be an integer for an int parameter, got 1.5"),
    ("models:\n  knn:\n    n_neighbors: {type: int, high: 2}\n",
     "models.knn.n_neighbors.low: required for a int parameter"),
    ("models:\n  knn:\n    n_neighbors: {type: int, low: one, high: 2}\n",
     "models.knn.n_neighbors.low: must be a number, got 'one'"),
    ("models:\n  knn:\n    n_neighbors: {type: int, low: 1, high: 9, step: 0}\n",
     "models.knn.n_neighbors.step: must be > 0, got 0"),
    ("models:\n  svm:\n    C: {type: float, low: 1, high: 9, step: 1, log: true}\n",
     "models.svm.C.step: cannot be combined with log: true"),
    ("models:\n  svm:\n    C: {type: float, low: 1, high: 9, log: yes-please}\n",
     "models.svm.C.log: must be true or false, got 'yes-please'"),
    ("models:\n  svm:\n    C: {type: float, low: 1, high: 9, choices: [1]}\n",
     "models.svm.C.choices: unknown key for a float parameter; allowed: high, log, low, step, type, when"),
    ("models:\n  svm:\n    C: {type: number}\n",
     "models.svm.C.type: must be one of float, int, categorical, got 'number'"),
    ("models:\n  svm:\n    kernel: {type: categorical, choices: []}\n",
     "models.svm.kernel.choices: must be a non-empty list, got []"),
    ("models:\n  svm:\n    kernel: {type: categorical, choices: [[1]]}\n",
     "models.svm.kernel.choices: each choice must be a string, number, boolean or null"),
    ("models:\n  svm:\n    kernel: [rbf]\n", "models.svm.kernel: must be a fixed value or a mapping with 'type'"),
    ("models:\n  svm:\n    random_state: 3\n", "models.svm.random_state: unknown parameter; allowed: "),
    ("models:\n  svm: 3\n", "models.svm: must be a mapping of parameter -> spec or fixed value"),
    ("models:\n  xgboost: {}\n", "models.xgboost: unknown model family; choose one of logistic, "),
    ("models: [knn]\n", "models: must be a mapping of model family -> parameters"),
    ("models:\n  logistic: {}\n", None),  # shared models may hold a classification-only family
    ("regression:\n  models:\n    logistic: {}\n",
     "regression.models.logistic: model family 'logistic' does not support regression"),
    ("classification:\n  extra: 1\n  models: {knn: {}}\n",
     "classification.extra: unknown key; allowed: models, preprocessing"),
    ("regression: 3\nmodels: {knn: {}}\n", "regression: must be a mapping with keys models, preprocessing"),
    ("model: {}\nmodels: {knn: {}}\n", "model: unknown key; allowed: description, preprocessing, models"),
    ("description: x\n", "models: the space declares no model family"),
    ("- knn\n", "file: must be a mapping with keys preprocessing, models, classification, regression"),
    ("models: {knn: {}}\npreprocessing:\n  scaler: {type: categorical, choices: [standard, fancy]}\n",
     "preprocessing.scaler: 'fancy' is not allowed; choose from "),
    ("models: {knn: {}}\npreprocessing:\n  colour: red\n", "preprocessing.colour: unknown parameter"),
    ("models: {knn: {}}\npreprocessing:\n  text_components: 0\n",
     "preprocessing.text_components: 0 is not allowed; it must be an integer >= 1"),
    ("models: {knn: {}}\npreprocessing:\n  text_max_features: {type: int, low: -5, high: 100}\n",
     "preprocessing.text_max_features: -5 is not allowed; it must be an integer >= 1"),
    ("models: {knn: {}}\npreprocessing:\n  text_components: {type: float, low: 2.0, high: 8.0}\n",
     "preprocessing.text_components: 2.0 is not allowed; it must be an integer >= 1"),
    ("models: {knn: {}}\npreprocessing:\n  rare_min_frequency: {type: categorical, choices: [0.01, 1.5]}\n",
     "preprocessing.rare_min_frequency: 1.5 is not allowed; it must be a share between 0 and 1"),
    ("models: {knn: {}}\npreprocessing:\n  rare_min_frequency: 5\n", None),  # a row count
    ("models: {knn: {}}\npreprocessing:\n  max_categories: {type: int, low: 5, high: 60}\n", None),
    ("models:\n  svm:\n    gamma: {type: categorical, choices: [scale], when: {kernel: rbf}}\n",
     "models.svm.gamma.when.kernel: must name a parameter declared above it"),
    ("models:\n  svm:\n    C: {type: float, low: 1, high: 2}\n"
     "    gamma: {type: categorical, choices: [scale], when: {C: 1}}\n",
     "models.svm.gamma.when.C: conditions need a categorical or fixed parameter"),
    ("models:\n  svm:\n    kernel: {type: categorical, choices: [rbf]}\n"
     "    gamma: {type: categorical, choices: [scale], when: {kernel: [poly]}}\n",
     "models.svm.gamma.when.kernel: ['poly'] not among kernel's choices ['rbf']"),
    ("models:\n  svm:\n    kernel: {type: categorical, choices: [rbf], when: 3}\n",
     "models.svm.kernel.when: must map a sibling parameter to a value or list of values"),
])
def test_validation_problem_paths(text, problem):
    problems = _problems(text)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_every_problem_is_reported():
    problems = _problems("models:\n  svm:\n    C: {type: float, low: 0, high: -1, log: true}\n"
                         "  nope: {}\nbad: 1\n")
    assert len(problems) == 4


def test_values_the_estimator_refuses_are_named_before_the_search(workdir):
    problems = _problems("models:\n  decision_tree:\n    max_depth: {type: int, low: 0, high: 5}\n"
                         "  knn:\n    weights: {type: categorical, choices: [uniform, closest]}\n")
    assert problems[0].startswith("models.decision_tree.max_depth: 0 is not allowed (")
    assert "range [1, inf)" in problems[0]
    assert problems[1].startswith("models.knn.weights: 'closest' is not allowed (")
    assert "'distance'" in problems[1] and len(problems) == 2
    # A shared block may hold a value only one task takes; a run on the other task refuses it.
    (workdir / "trees.yaml").write_text("models:\n  decision_tree:\n    criterion: gini\n")
    assert validate_file("./trees.yaml") == []
    assert load_space("./trees.yaml", "binary").models["decision_tree"][0].value == "gini"
    with pytest.raises(SpaceError, match=r"models\.decision_tree\.criterion: 'gini' is not allowed"):
        load_space("./trees.yaml", "regression")


def test_exponent_without_dot_is_read_as_number():
    text = "models:\n  svm:\n    C: {type: float, low: 1e-4, high: 1e+2, log: true}\n"
    assert _problems(text) == []


def test_load_space_errors(workdir):
    (workdir / "bad.yaml").write_text("models:\n  svm:\n    C: {type: float, low: 0, high: 1, log: true}\n")
    with pytest.raises(SpaceError, match=r"bad\.yaml: models\.svm\.C\.low: must be > 0") as info:
        load_space("./bad.yaml", "binary")
    assert info.value.problems == ["models.svm.C.low: must be > 0 when log is true, got 0"]
    (workdir / "broken.yaml").write_text("models: {knn: [\n")
    with pytest.raises(SpaceError, match=r"line \d+: not valid YAML"):
        load_space("./broken.yaml", "binary")
    with pytest.raises(ConfigError, match="search-space file not found; bundled spaces: "):
        load_space("nope.yaml", "binary")


def _sample(space, seed: int, n: int):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append((space.suggest(trial), trial.params))
        study.tell(trial, 0.0)
    return out


def test_suggest_respects_conditions_and_fixed_values(workdir):
    (workdir / "s.yaml").write_text(
        "preprocessing:\n  scaler: {type: categorical, choices: [standard, none]}\n"
        "models:\n  svm:\n    kernel: {type: categorical, choices: [rbf, linear]}\n"
        "    gamma: {type: categorical, choices: [scale, auto], when: {kernel: rbf}}\n"
        "    C: {type: float, low: 0.1, high: 10, log: true}\n    max_iter: 500\n")
    space = load_space("./s.yaml", "binary")
    kernels = set()
    for (family, params, prep), optuna_params in _sample(space, 0, 20):
        kernels.add(params["kernel"])
        assert family == "svm" and params["max_iter"] == 500 and 0.1 <= params["C"] <= 10
        assert ("gamma" in params) == (params["kernel"] == "rbf")
        assert prep["scaler"] in ("standard", "none")
        assert set(optuna_params) >= {"model", "svm.kernel", "svm.C", "prep.scaler"}
        assert "svm.max_iter" not in optuna_params  # fixed values are not searched
    assert kernels == {"rbf", "linear"}


def test_int_step_is_respected(workdir):
    (workdir / "s.yaml").write_text("models:\n  knn:\n    n_neighbors: {type: int, low: 1, high: 21, step: 5}\n")
    values = {params["n_neighbors"] for (_, params, _), _ in _sample(load_space("./s.yaml", "binary"), 1, 15)}
    assert values <= {1, 6, 11, 16, 21} and len(values) > 1
