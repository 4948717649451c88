"""Hostile skops files: a real model's file with one node planted in it, in each of the shapes in
which skops imports or calls a name written in the file.

A planted node names a callable (``module``, ``name``) and arguments; with automl's old trust
(any type of a trusted package) several of these ran ``pandas.read_pickle`` or ``numpy.load`` on
a pickle that writes a marker file.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np


class Marker:
    """Unpickling this creates a file: the stand-in for any code an attacker wants run."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def _json(value) -> dict:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _tuple(values) -> dict:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": [_json(v) for v in values]}


def _named(loader: str, target: str, **rest) -> dict:
    module, _, name = target.rpartition(".")
    return {"__class__": name, "__module__": module, "__loader__": loader, **rest}


def plant(shape: str, target: str, args: list, files: dict[str, bytes]) -> dict:
    """The node that makes skops import or call ``target`` (``module.name``) with ``args``."""
    if shape == "constructor":  # ConstructorFromReduceNode: target(*args)
        return _named("ConstructorFromReduceNode", target, content=_tuple(args))
    if shape == "loss":  # LossNode (a ReduceNode): target(*args), then __setstate__
        return _named("LossNode", target, __reduce__={"args": _tuple(args)},
                      content={**_named("DictNode", "builtins.dict"), "content": {},
                               "key_types": {**_named("ListNode", "builtins.list"), "content": []}})
    if shape == "dict_key":  # a dict's key type is called with the key: target(args[0])
        return {**_named("DictNode", "builtins.dict"), "content": {str(args[0]) if args else "x": _json(1)},
                "key_types": {**_named("ListNode", "builtins.list"),
                              "content": [_named("TypeNode", target)]}}
    if shape == "list":  # ListNode: target([items])
        return _named("ListNode", target, content=[_json(a) for a in args])
    if shape == "dict":  # DictNode: target()
        return {**_named("DictNode", target), "content": {},
                "key_types": {**_named("ListNode", "builtins.list"), "content": []}}
    if shape == "array":  # a typed array: target(np.load(file))
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(str(args[0]) if args else "x"), allow_pickle=False)
        files["planted.npy"] = buffer.getvalue()
        return _named("NdArrayNode", target, type="numpy", file="planted.npy")
    if shape == "partial":  # functools.partial(target, *args): called by whatever uses it
        return {**_named("PartialNode", "functools.partial"),
                "content": {"func": _named("FunctionNode", target), "args": _tuple(args),
                            "kwds": {**_named("DictNode", "builtins.dict"), "content": {},
                                     "key_types": {**_named("ListNode", "builtins.list"), "content": []}},
                            "namespace": _json(None)}}
    loader = {"function": "FunctionNode", "type": "TypeNode", "object": "ObjectNode"}[shape]
    return _named(loader, target)


SHAPES = ("constructor", "loss", "dict_key", "list", "dict", "array", "partial", "function", "type", "object")


def skops_file(model, planted: dict, extra_files: dict[str, bytes]) -> bytes:
    """``model``'s skops file with ``planted`` as one more attribute of its outermost object."""
    import skops.io

    source = zipfile.ZipFile(io.BytesIO(skops.io.dumps(model)))
    schema = json.loads(source.read("schema.json"))
    schema["content"]["content"]["planted"] = planted
    # skops pairs a dict's keys with its key types in order: one more key needs one more type.
    schema["content"]["key_types"]["content"].append(_named("TypeNode", "builtins.str"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            if name != "schema.json":
                archive.writestr(name, source.read(name))
        for name, data in extra_files.items():
            archive.writestr(name, data)
        archive.writestr("schema.json", json.dumps(schema))
    return out.getvalue()


def write_model_folder(folder: Path, data: bytes) -> Path:
    """An MLflow model folder as MLflow's sklearn flavour writes it, holding skops ``data``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.skops").write_bytes(data)
    (folder / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: model.skops\n"
                                    "    serialization_format: skops\n    skops_trusted_types: []\n")
    return folder


def evil_pickle(folder: Path) -> tuple[Path, Path]:
    """A pickle that creates ``folder/pwned`` when loaded, and that marker's path."""
    marker = folder / "pwned"
    path = folder / "evil.pkl"
    path.write_bytes(pickle.dumps(Marker(marker)))
    return path, marker
