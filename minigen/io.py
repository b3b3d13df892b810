"""Saving and loading trained models: one ``.npz`` file, parameters and configuration, no pickle.

    minigen.io.save(model, "flow.npz")     # or model.save("flow.npz")
    model = minigen.io.load("flow.npz")    # the same model: same log_prob, same samples per rng

The file is a NumPy ``.npz`` archive: the model's arrays as ``leaf_0, leaf_1, ...`` and one entry
``minigen`` holding UTF-8 JSON: the format name, its version, the model's class, its
configuration (numbers, strings, lists) and the nesting of its parameter pytree. ``load`` opens it
with ``allow_pickle=False``: reading a file never runs code. Arrays are stored on the host in
their dtype; ``load`` puts floating ones on the active backend in its dtype (a float64 file loaded
under ``set_backend(..., dtype="float32")`` is rounded to float32), so a model trained on CuPy
loads on NumPy and back.

A model class joins with ``@minigen.io.register`` and two methods:
``state() -> (config, params)`` (a JSON-able dict and a pytree of arrays) and the classmethod
``from_state(config, params) -> model``.
"""
import importlib
import json
import zipfile

import numpy as np

from minigen import backend

FORMAT = "minigen.model"
VERSION = 1
_META = "minigen"
_KINDS = {}


def register(cls):
    """Class decorator: ``cls`` can be saved and loaded, and gains ``cls.save(path)``."""
    _KINDS[cls.__name__] = cls
    cls.save = lambda self, path: save(self, path)
    cls.save.__doc__ = "Write this model to ``path`` (an .npz file); minigen.io.load reads it back."
    return cls


def save(model, path):
    """Write ``model`` (a registered minigen model) to ``path``; returns ``path``."""
    kind = type(model).__name__
    if _KINDS.get(kind) is not type(model):
        raise TypeError(f"save: model={kind} is not a minigen model that can be saved; "
                        f"known: {sorted(_KINDS)}")
    config, params = model.state()
    leaves = []
    meta = {"format": FORMAT, "version": VERSION, "kind": kind, "module": type(model).__module__,
            "config": config, "params": _encode(params, leaves)}
    text = json.dumps(meta, default=_json_number)
    arrays = {f"leaf_{i}": backend.to_numpy(a) for i, a in enumerate(leaves)}
    with open(path, "wb") as f:                 # a file object: np.savez adds no ".npz" suffix
        np.savez(f, **{_META: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}, **arrays)
    return path


def load(path):
    """The model saved in ``path``, on the active backend; a file that is not one is refused."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise ValueError("it has no minigen metadata")
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            arrays = {k: archive[k] for k in archive.files if k != _META}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise ValueError(f"load: {path!r} is not a readable minigen model file ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"load: {path!r} is not a minigen model file "
                         f"(format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise ValueError(f"load: {path!r} has format version {meta.get('version')!r}, written by a "
                         f"newer minigen; this one reads versions up to {VERSION}")
    module = meta.get("module")
    if meta.get("kind") not in _KINDS and isinstance(module, str) and module.startswith("minigen."):
        try:                                    # a minigen room not imported yet (never others)
            importlib.import_module(module)
        except ImportError:
            pass
    if meta.get("kind") not in _KINDS:
        raise ValueError(f"load: {path!r} holds a {meta.get('kind')!r}, not a model this minigen "
                         f"knows ({sorted(_KINDS)})")
    params = _decode(meta["params"], arrays, path)
    return _KINDS[meta["kind"]].from_state(meta["config"], params)


def _encode(tree, leaves):
    """The JSON nesting of a pytree; its arrays are appended to ``leaves`` and named by index."""
    if isinstance(tree, dict):
        if not all(isinstance(k, str) for k in tree):
            raise TypeError(f"save: parameter dict keys must be strings; got {list(tree)}")
        return {"dict": {k: _encode(v, leaves) for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return {"list": [_encode(v, leaves) for v in tree]}
    leaves.append(tree)
    return {"leaf": len(leaves) - 1}


def _decode(node, arrays, path):
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"load: {path!r} has a malformed parameter tree")
    (tag, value), = node.items()
    if tag == "dict":
        return {k: _decode(v, arrays, path) for k, v in value.items()}
    if tag == "list":
        return [_decode(v, arrays, path) for v in value]
    name = f"leaf_{value}"
    if tag != "leaf" or name not in arrays:
        raise ValueError(f"load: {path!r} lacks the array {name} (a truncated file?)")
    a = arrays[name]
    if a.dtype.kind == "f":
        return backend.asarray(a)
    return backend.xp.asarray(a, dtype=a.dtype)


def _json_number(value):
    """JSON for NumPy scalars in a configuration; anything else is refused by name."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"save: configuration value {value!r} ({type(value).__name__}) is not JSON")
