"""The namespaces behind ``xp``: autograd.numpy with the backend's dtype and device.

``float_creators`` makes zeros, ones, asarray, ... return the backend dtype (float32 or float64);
``device_namespace`` builds the ``xp`` of a device backend (CuPy), whose functions refuse host
arrays by name; ``DtypeGenerator`` draws random numbers in the backend dtype. ``minigen.backend``
assembles them into a ``Backend``; nothing here holds state.
"""
import autograd.numpy as anp
import numpy as np
from autograd.tracer import Box


class Namespace:
    """A module-like namespace: the public names of ``base``, some replaced by ``overrides``."""

    def __init__(self, base, overrides=()):
        self.__dict__.update((k, v) for k, v in vars(base).items() if not k.startswith("_"))
        self.__dict__.update(overrides)


def float_creators(module, default):
    """Array-creation functions of ``module`` (numpy, cupy) whose floats default to ``default``."""
    default = np.dtype(default)

    def floats(a, asked):
        """A float result becomes the backend dtype, unless a dtype was asked for."""
        if asked is None and a.dtype.kind == "f" and a.dtype != default:
            return a.astype(default)
        return a

    def asarray(a, dtype=None):
        if isinstance(a, Box):
            return a if dtype is None else a.astype(dtype)
        if isinstance(a, module.ndarray):
            return a if dtype is None else a.astype(dtype, copy=False)
        if type(a) in (list, tuple) and any(isinstance(v, (Box, module.ndarray)) for v in a):
            return anp.stack([asarray(v, dtype) for v in a])
        return floats(module.asarray(a, dtype=dtype), dtype)

    def array(a, dtype=None):
        out = asarray(a, dtype)
        return out.copy() if out is a and not isinstance(a, Box) else out

    def like(create):
        def create_like(a, *args, dtype=None):
            return create(anp.shape(a), *args, dtype=dtype or anp.result_type(a))
        return create_like

    return dict(
        asarray=asarray, array=array,
        zeros=lambda shape, dtype=None: module.zeros(shape, dtype=dtype or default),
        ones=lambda shape, dtype=None: module.ones(shape, dtype=dtype or default),
        empty=lambda shape, dtype=None: module.empty(shape, dtype=dtype or default),
        full=lambda shape, fill_value, dtype=None: floats(
            module.full(shape, fill_value, dtype=dtype), dtype),
        eye=lambda N, M=None, k=0, dtype=None: module.eye(N, M, k, dtype=dtype or default),
        identity=lambda n, dtype=None: module.identity(n, dtype=dtype or default),
        arange=lambda *args, dtype=None: floats(module.arange(*args, dtype=dtype), dtype),
        linspace=lambda start, stop, num=50, endpoint=True, dtype=None: module.linspace(
            start, stop, num, endpoint=endpoint, dtype=dtype or default),
        zeros_like=like(module.zeros), ones_like=like(module.ones), empty_like=like(module.empty),
        full_like=like(module.full),
    )


def device_namespace(module, dtype, name):
    """``xp`` of a device backend: autograd.numpy (which dispatches to ``module``).

    Arrays are created on the device in ``dtype``, and every function refuses host arrays by name
    (arrays of two backends cannot meet in one call; on the device a host array is a leak).
    """
    def guard(fname, f):
        def checked(*args, **kwargs):
            for i, a in [*enumerate(args), *kwargs.items()]:
                if _is_host(a) or (type(a) in (list, tuple) and any(_is_host(v) for v in a)):
                    raise TypeError(f"xp.{fname}: argument {i} is a host numpy.ndarray but the "
                                    f"active backend is {name!r}; move it with "
                                    "minigen.backend.asarray")
            return f(*args, **kwargs)
        checked.__name__, checked.__doc__ = fname, f.__doc__
        return checked

    def guarded(base, prefix):
        return {k: guard(prefix + k, f) for k, f in vars(base).items()
                if callable(f) and not isinstance(f, type) and not k.startswith("_")}
    ns = Namespace(anp, guarded(anp, ""))
    ns.__dict__.update(float_creators(module, dtype))
    # no array argument: NumPy would make them on the host
    for k in ["triu_indices", "tril_indices", "diag_indices", "indices", "tri"]:
        setattr(ns, k, getattr(module, k))
    ns.linalg = Namespace(anp.linalg, guarded(anp.linalg, "linalg."))
    ns.random = _NoGlobalRandom()
    return ns


def _is_host(a):
    return type(a) is np.ndarray and a.ndim > 0


class _NoGlobalRandom:
    def __getattr__(self, attr):
        raise AttributeError(f"xp.random.{attr}: minigen has no global random state; "
                             "draw from rng = minigen.backend.rng(seed)")


class DtypeGenerator:
    """A random generator whose floats have the backend dtype, on the backend's device.

    Wraps ``numpy.random.Generator`` or ``cupy.random.Generator`` (which has no ``normal`` or
    ``permutation``) behind the same small API: standard_normal, normal, random, uniform,
    integers, permutation.
    """

    def __init__(self, generator, dtype):
        self.generator, self.dtype = generator, np.dtype(dtype)

    def standard_normal(self, size=None):
        return self.generator.standard_normal(size, dtype=self.dtype)

    def normal(self, loc=0.0, scale=1.0, size=None):
        size = np.broadcast_shapes(np.shape(loc), np.shape(scale)) if size is None else size
        return loc + scale * self.standard_normal(size)

    def random(self, size=None):
        return self.generator.random(size, dtype=self.dtype)

    def uniform(self, low=0.0, high=1.0, size=None):
        size = np.broadcast_shapes(np.shape(low), np.shape(high)) if size is None else size
        return low + (high - low) * self.random(size)

    def integers(self, low, high=None, size=None):
        return self.generator.integers(low, high, size)

    def permutation(self, n):
        return self.random(int(n)).argsort()
