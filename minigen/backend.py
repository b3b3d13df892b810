"""The array backend: one name, ``xp``, for NumPy on the CPU or CuPy on a GPU.

Every room writes its array math as ``xp.exp(...)``, ``xp.zeros(...)``; ``xp`` forwards to
the active namespace, so ``set_backend("cupy")`` moves all of minigen to the GPU without a
change in the rooms. On the NumPy backend the namespace is ``autograd.numpy``: the same
functions as NumPy, and differentiable by ``autograd.grad`` (the neural nets need that).

The backend is chosen at import from the environment variable ``MINIGEN_BACKEND``
(``numpy`` by default) and can be changed with ``set_backend(name)``;
``set_backend(name, dtype="float32")`` makes new floating arrays and random draws float32.
Random numbers always come from ``rng(seed)``, a generator of the active backend.
``minigen._namespaces`` builds the namespaces (dtype-aware creators, the device guard);
on CuPy, ``minigen._cupy_autograd`` teaches autograd about device arrays.
"""
import os

import autograd.numpy as anp
import numpy as np
from autograd.tracer import Box

from minigen import host
from minigen._namespaces import DtypeGenerator, Namespace, float_creators
from minigen.validate import (check_adam_betas, check_callable, check_choice,  # noqa: F401
                              check_flag, check_int, check_lr, check_number, check_optional,
                              check_positive, check_probability, check_progress, check_rng,
                              check_widths)

_INSTALL_HINT = ('install it with  pip install "minigen[gpu]"  (the cupy-cuda12x wheel) '
                 'on a machine with an NVIDIA GPU')


class Backend:
    """What a backend provides: an array namespace, a random generator factory, host transfer."""

    def __init__(self, name, namespace, make_rng, to_host, array_type, dtype=np.float64):
        self.name = name
        self.namespace = namespace      # module-like: exp, zeros, linalg, ...
        self.make_rng = make_rng        # seed -> generator with standard_normal/random/integers
        self.to_host = to_host          # backend array -> numpy.ndarray
        self.array_type = array_type    # the backend's array class(es), for isinstance checks
        self.dtype = np.dtype(dtype)


def _numpy_backend(dtype="float64"):
    if np.dtype(dtype) == np.float64:
        return Backend("numpy", anp, np.random.default_rng, np.asarray, np.ndarray, dtype)
    namespace = Namespace(anp, float_creators(np, dtype))

    def make_rng(seed=None):
        return DtypeGenerator(np.random.default_rng(seed), dtype)
    return Backend("numpy", namespace, make_rng, np.asarray, np.ndarray, dtype)


def _cupy_backend(dtype="float64"):
    try:
        import cupy
    except ImportError as err:
        raise ImportError(f"set_backend('cupy'): CuPy is not installed; {_INSTALL_HINT}") from err
    try:
        n_gpu = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver, no device
        raise RuntimeError(f"set_backend('cupy'): CuPy found no usable GPU ({err}); "
                           f"{_INSTALL_HINT}") from err
    if n_gpu < 1:
        raise RuntimeError(f"set_backend('cupy'): CuPy sees no GPU; {_INSTALL_HINT}")
    from minigen import _cupy_autograd
    return _cupy_autograd.make_backend(cupy, dtype, "cupy")


_LOADERS = {"numpy": _numpy_backend, "cupy": _cupy_backend}
_active = {"backend": None}


def register_backend(name, loader):
    """Add a backend: ``loader(dtype) -> Backend``.

    Used by the tests for the CPU stand-in of CuPy.
    """
    _LOADERS[name] = loader


def set_backend(name, dtype="float64"):
    """Select the array backend by name ("numpy" or "cupy") and the float dtype of new arrays."""
    if name not in _LOADERS:
        raise ValueError(f"set_backend: unknown backend name={name!r}; known: {sorted(_LOADERS)}")
    if np.dtype(dtype) not in (np.dtype("float32"), np.dtype("float64")):
        raise ValueError(f"set_backend: dtype={dtype!r} must be float32 or float64")
    _active["backend"] = _LOADERS[name](dtype)
    return _active["backend"]


def get_backend():
    """Name of the active backend."""
    return _active["backend"].name


def active():
    """The active ``Backend`` object (namespace, dtype, array type)."""
    return _active["backend"]


class _ArrayNamespace:
    """``xp``: forwards every attribute to the active backend's namespace."""

    def __getattr__(self, attr):
        return getattr(_active["backend"].namespace, attr)

    def __repr__(self):
        return f"<minigen xp -> {get_backend()}>"


xp = _ArrayNamespace()


def rng(seed=None):
    """A random generator of the active backend: ``standard_normal``, ``random``, ``integers``."""
    return _active["backend"].make_rng(seed)


def float_dtype():
    """The dtype of floating-point arrays that minigen creates."""
    return _active["backend"].dtype


def asarray(a, name="array"):
    """``a`` as a floating array of the active backend (host arrays are moved to the device)."""
    be = _active["backend"]
    if isinstance(a, Box):              # traced by autograd: leave it to the trace
        return a
    if isinstance(a, be.array_type):
        return a if a.dtype == be.dtype else a.astype(be.dtype)
    if not isinstance(a, (np.ndarray, list, tuple, float, int, np.floating, np.integer)):
        raise TypeError(f"{name}: expected an array of the {be.name} backend or a NumPy array, "
                        f"got {type(a).__name__}")
    return be.namespace.asarray(np.asarray(a, dtype=be.dtype))


def as_points(x, name="x", d=None, finite=True):
    """Check and convert a point cloud: ``x`` must be 2-D, shape ``(n, d)`` with n, d >= 1.

    Unless ``finite=False`` it must also be free of NaN and inf; returns a backend array.
    """
    x = asarray(x, name)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"{name} must have shape (n, d) with n, d >= 1; "
                         f"got shape {tuple(x.shape)}")
    if d is not None and x.shape[1] != d:
        raise ValueError(f"{name} must have {d} columns (dimension); got shape {tuple(x.shape)}")
    return check_finite(x, name) if finite else x


def check_finite(a, name):
    """``a`` if all its entries are finite; else a ValueError saying how many are NaN or inf."""
    if isinstance(a, Box) or bool(_active["backend"].namespace.all(
            _active["backend"].namespace.isfinite(a))):
        return a
    bad = int(to_numpy(~_active["backend"].namespace.isfinite(a)).sum())
    raise ValueError(f"{name} contains NaN or inf "
                     f"({bad} of {a.size} entries, shape {tuple(a.shape)})")


def count_bad_rows(*arrays):
    """The number of rows (points) holding a NaN or inf in any of the (n, k) ``arrays``."""
    ns = _active["backend"].namespace
    ok = ns.all(ns.isfinite(arrays[0]), axis=1)
    for a in arrays[1:]:
        ok = ok & ns.all(ns.isfinite(a), axis=1)
    return int(to_numpy(~ok).sum())


def to_numpy(a):
    """A host ``numpy.ndarray`` copy of a backend array (NumPy arrays are returned as they are)."""
    if isinstance(a, np.ndarray) or np.isscalar(a):
        return np.asarray(a)
    return _active["backend"].to_host(a)


host.keep_freed_memory()
set_backend(os.environ.get("MINIGEN_BACKEND", "numpy"))
