"""Loading a skops file only when every node in it is one automl's own models are made of.

A skops file is a zip holding ``schema.json``: a tree of nodes, each naming a loader (how to
build it) and a ``module.name`` (what to build it from). Several loaders call that name with
arguments from the file (``ConstructorFromReduceNode``, ``ReduceNode``, a typed ``NdArrayNode``,
the key types of a ``DictNode``), others only import it; importing a module can itself run code.
So the pair is what is checked, before skops sees the file: ``numpy.ndarray`` as an array is
automl's, ``numpy.load`` as a constructor is not, though both come from a trusted package.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

from automl.errors import ModelLoadError, first_line

from ._types import ALLOWED

# Loaders that build nothing from a name: a JSON value, and a reference to a node already read
# (and checked) elsewhere in the same file.
NAMELESS = frozenset({"JsonNode", "CachedNode"})
MAX_SCHEMA_BYTES = 256 * 2**20  # uncompressed; a large forest's schema is a few MB
SHOWN = 5


def node_pair(node: dict) -> tuple[str, str]:
    """``(loader, module.name)`` of one schema node; a bound method adds its method's name."""
    loader, module, name = (node.get(k) for k in ("__loader__", "__module__", "__class__"))
    if not all(isinstance(v, str) for v in (loader, module, name)):
        return (str(loader)[:40], "<malformed node>")
    if loader == "MethodNode":
        content = node.get("content")
        func = content.get("func") if isinstance(content, dict) else None
        name = f"{name}.{func}"
    return loader, f"{module}.{name}"


def schema_nodes(schema: Any) -> Iterator[dict]:
    """Every node of the tree: any dict with a loader, wherever it sits (skops reads nodes from
    several keys depending on the loader; visiting all of them is the superset)."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def refused_types(schema: Any) -> list[str]:
    """The nodes of ``schema`` that are no part of an automl model, as ``name (loader)``."""
    refused = set()
    for node in schema_nodes(schema):
        loader, name = node_pair(node)
        if loader not in NAMELESS and (loader, name) not in ALLOWED:
            refused.add(f"{name} ({loader})")
    return sorted(refused)


def named_types(schema: Any) -> list[str]:
    """The ``module.name`` of every node of ``schema`` that builds something from a name: what
    skops must be told to trust."""
    return sorted({node_pair(n)[1] for n in schema_nodes(schema) if n["__loader__"] not in NAMELESS})


def read_schema(data: bytes, source: str) -> dict:
    """The node tree of a skops file's bytes (read, never run)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > MAX_SCHEMA_BYTES:
                raise ModelLoadError(f"{source}: refused: its schema is {info.file_size} bytes, "
                                     f"over the {MAX_SCHEMA_BYTES} automl reads")
            schema = json.loads(archive.read(info))
    except ModelLoadError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError) as exc:
        raise ModelLoadError(f"{source}: refused: not a skops file ({type(exc).__name__}: "
                             f"{first_line(exc, 120)})") from None
    if not isinstance(schema, dict):
        raise ModelLoadError(f"{source}: refused: not a skops file (its schema is not an object)")
    return schema


def load_skops_bytes(data: bytes, source: str):
    """The model in ``data`` (a skops file's bytes), if every node is automl's; else refuse."""
    schema = read_schema(data, source)
    refused = refused_types(schema)
    if refused:
        shown = ", ".join(refused[:SHOWN]) + (f" and {len(refused) - SHOWN} more" if len(refused) > SHOWN else "")
        raise ModelLoadError(f"{source}: refused: the model holds what automl's models never do "
                             f"({shown}); pass --trust-model only for a file you trust")
    import skops.io

    # skops audits again, against exactly the names just checked: a node kind it reads that the
    # walk above did not see would be refused by skops rather than trusted.
    try:
        return skops.io.loads(data, trusted=named_types(schema))
    except Exception as exc:
        raise ModelLoadError(f"{source}: cannot load model ({type(exc).__name__}: "
                             f"{first_line(exc, 200)})") from None


def load_skops_model(folder: Path):
    """An MLflow model folder's skops file, loaded by :func:`load_skops_bytes` whatever the
    model's own MLmodel file trusts; any other format is refused. For ``automl predict``, the
    retrain gate and a model server (``automl._serving``)."""
    import yaml

    try:
        flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
        form = flavor.get("serialization_format")
    except (OSError, KeyError, TypeError, AttributeError, UnicodeDecodeError, yaml.YAMLError):
        raise ModelLoadError("refused: not a scikit-learn model as automl logs them (no sklearn "
                             "flavour in MLmodel)") from None
    if form != "skops":
        raise ModelLoadError(f"refused: saved as {str(form)[:40]!r}, which runs code when loaded; "
                             "automl loads skops models only (--trust-model to override)")
    path = folder / str(flavor.get("pickled_model", "model.skops"))[:200]
    if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        raise ModelLoadError("refused: the MLmodel file names a model file outside the model")
    return load_skops_bytes(path.read_bytes(), path.name)
