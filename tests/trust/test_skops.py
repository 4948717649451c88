"""No code runs from a skops file: a node outside what automl's own models are made of is refused
before skops imports or calls anything, whatever package it names; automl's own models load."""

from __future__ import annotations

import importlib.util
import os
import warnings

import numpy as np
import pytest
import skops.io

from automl._trust import ALLOWED, load_skops_model
from automl.errors import ModelLoadError
from tests.trust.planted import SHAPES, evil_pickle, plant, skops_file, write_model_folder
from tests.trust.saved_types import saved_pairs, table

# A callable from every package the old trust accepted by prefix (and two it never did), with
# arguments that make its call visible: it unpickles the marker pickle or writes a file.
TARGETS = {
    "pandas.read_pickle": lambda d, evil: [str(evil)],
    "pandas.compat.pickle_compat.loads": lambda d, evil: [str(evil)],
    "numpy.load": lambda d, evil: [str(evil), None, True],
    "scipy.io.savemat": lambda d, evil: [str(d / "written.mat"), {}],
    "sklearn.datasets.get_data_home": lambda d, evil: [str(d / "made")],
    "lightgbm.basic.Booster": lambda d, evil: [{}, None, str(evil)],
    "catboost.utils.create_cd": lambda d, evil: [],
    "joblib.load": lambda d, evil: [str(evil)],
    "automl._trust.sign": lambda d, evil: [str(evil)],
    "builtins.exec": lambda d, evil: [f"open({str(d / 'pwned')!r}, 'w')"],
    "posix.system": lambda d, evil: [f"touch {d / 'pwned'}"],
}


@pytest.fixture(scope="module")
def small_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X = np.arange(40, dtype=float).reshape(20, 2)
    return Pipeline([("model", LogisticRegression())]).fit(X, np.arange(20) % 2)


def test_an_untouched_model_loads(workdir, small_model):
    folder = write_model_folder(workdir / "m", skops.io.dumps(small_model))
    X = np.arange(8, dtype=float).reshape(4, 2)
    assert (load_skops_model(folder).predict(X) == small_model.predict(X)).all()


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("shape", SHAPES)
def test_a_planted_name_is_refused_and_nothing_runs(workdir, small_model, shape, target):
    if importlib.util.find_spec(target.split(".")[0]) is None:
        pytest.skip(f"{target.split('.')[0]} is not installed")
    evil, marker = evil_pickle(workdir)
    files: dict[str, bytes] = {}
    node = plant(shape, target, TARGETS[target](workdir, evil), files)
    if (node["__loader__"], target) in ALLOWED:
        pytest.skip("a part of automl's models, built from its saved state as when automl saved it")
    folder = write_model_folder(workdir / "model", skops_file(small_model, node, files))
    before = sorted(os.listdir(workdir))
    with pytest.raises(ModelLoadError, match=r"refused: the model holds what automl's models never do") as err:
        load_skops_model(folder)
    assert target in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()
    assert sorted(os.listdir(workdir)) == before  # nothing written: no .sig, no .mat, no folder


@pytest.mark.parametrize("schema", [b"[]", b'{"__loader__": 1}', b"{" * 100_000, b"\xff\xfe"])
def test_a_malformed_schema_is_one_line(workdir, schema):
    import zipfile

    with zipfile.ZipFile(workdir / "bad.skops", "w") as archive:
        archive.writestr("schema.json", schema)
    folder = write_model_folder(workdir / "m", (workdir / "bad.skops").read_bytes())
    with pytest.raises(ModelLoadError) as err:
        load_skops_model(folder)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_not_a_zip_is_refused(workdir):
    folder = write_model_folder(workdir / "m", b"PK\x03\x04 not really")
    with pytest.raises(ModelLoadError, match="refused: not a skops file"):
        load_skops_model(folder)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_family_saves_only_what_automl_loads(workdir, task):
    """Each family at its defaults, and every preprocessing choice: what it saves is allowed, and
    it loads back predicting the same. (``python tests/trust/saved_types.py`` derives the full
    list, every enumerable parameter value included.)"""
    from automl.data import prepare
    from automl.families import FAMILIES, build_estimator
    from automl.preprocess import build_pipeline
    from automl.preprocess._columns import PREP_CHOICES
    from tests.trust.saved_types import SMALL

    data = prepare(table(task), "y", task, "t")
    configs = [(name, {}) for name, fam in FAMILIES.items() if fam.available() and fam.supports(task)]
    base = "linear" if task == "regression" else "logistic"
    configs += [(base, {name: value}) for name, values in PREP_CHOICES.items() for value in values or ()]
    for family, prep in configs:
        names = FAMILIES[family].param_names(task)
        params = {k: v for k, v in SMALL.items() if k in names}
        model = build_pipeline(data.columns_by_kind, prep, build_estimator(family, task, params, 0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small models on a small table do not converge
            model.fit(data.X, data.y)
        missing = saved_pairs(model) - ALLOWED - {p for p in saved_pairs(model) if p[0] in ("JsonNode", "CachedNode")}
        assert not missing, f"{family} {prep}: add to automl/_trust/_types.py: {sorted(missing)}"
        folder = write_model_folder(workdir / f"{family}-{len(prep)}", skops.io.dumps(model))
        loaded = load_skops_model(folder)
        assert (np.asarray(loaded.predict(data.X)) == np.asarray(model.predict(data.X))).all(), family
