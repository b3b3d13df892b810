"""A CPU stand-in for CuPy, used only by the tests (CI has no GPU).

It mimics the behaviours of ``cupy`` that break code written for NumPy:
  - ``ndarray`` is not a ``numpy.ndarray``; it holds a private NumPy array (the "device memory");
  - NumPy functions and ufuncs called on it dispatch through ``__array_function__`` and
    ``__array_ufunc__`` and return stand-in arrays (reductions give 0-d arrays, not scalars);
  - implicit conversion to the host is refused: ``numpy.asarray(a)`` raises ``TypeError``,
    only ``a.get()`` / ``asnumpy(a)`` copy to the host;
  - mixing with a host ``numpy.ndarray`` (other than 0-d) in one operation raises ``TypeError``;
  - ufunc methods other than ``__call__`` (``reduce``, ``at``, ...) are not dispatched;
  - ``reshape``/``ravel`` refuse ``order=None`` (CuPy reads the order as a string).
The module functions used by ``minigen._cupy_autograd`` (creation, ``random.default_rng``,
``add.at``, ``asnumpy``) are provided; any other NumPy function is reachable as ``fakecupy.name``.
"""
import sys
import types

import numpy as np

_SCALARS = (int, float, complex, bool, np.generic)


def _host_error(where):
    return TypeError(f"Unsupported type <class 'numpy.ndarray'> in {where}: implicit "
                     "host-to-device conversion is not allowed (fakecupy, like CuPy)")


def _unwrap(x, where):
    """The private arrays of stand-in arrays inside x; host arrays (ndim > 0) are refused."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, np.ndarray):
        if x.ndim > 0:
            raise _host_error(where)
        return x
    if type(x) in (list, tuple):
        return type(x)(_unwrap(v, where) for v in x)
    if hasattr(type(x), "__array_ufunc__") and not isinstance(x, np.generic):
        raise TypeError(f"Unsupported type {type(x)} in {where}")
    return x


def _wrap(r):
    """Stand-in arrays for NumPy results: arrays and NumPy scalars become device arrays."""
    if isinstance(r, (np.ndarray, np.generic)):
        return ndarray(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if type(r) is list:
        return [_wrap(v) for v in r]
    return r


def _call(f, args, kwargs, where):
    return _wrap(f(*_unwrap(args, where), **{k: _unwrap(v, where) for k, v in kwargs.items()}))


def _index(idx):
    """An index into the private array: stand-in index arrays are fine, host ones are not."""
    return _unwrap(idx, "indexing")


class ndarray:
    """A device array of the stand-in: holds ``self._a``, a NumPy array nobody else sees."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    def __init__(self, a):
        self._a = a

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: ndarray(self._a.T))

    # -- no implicit transfer to the host
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def get(self):
        return self._a.copy()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return "fakecupy." + repr(self._a)

    __str__ = lambda self: str(self._a)  # noqa: E731
    __format__ = lambda self, spec: format(self._a, spec)  # noqa: E731

    # -- indexing: views share memory, as on the device
    def __getitem__(self, idx):
        return ndarray(np.asarray(self._a[_index(idx)]))

    def __setitem__(self, idx, value):
        self._a[_index(idx)] = _unwrap(value, "__setitem__")

    # -- the NumPy protocols, the way CuPy implements them
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        for x in inputs:
            if not (type(x) is ndarray or isinstance(x, _SCALARS) or isinstance(x, np.ndarray)):
                return NotImplemented
        out = kwargs.pop("out", None)
        result = _call(ufunc, inputs, kwargs, f"numpy.{ufunc.__name__}")
        if out is not None:
            out[0]._a[...] = result._a
            return out[0]
        return result

    def __array_function__(self, func, types, args, kwargs):
        if any(t not in (ndarray, np.ndarray) for t in types):
            return NotImplemented
        if func in (np.reshape, np.ravel) and "order" in kwargs and kwargs["order"] is None:
            # CuPy parses order as a string
            raise TypeError("object of type 'NoneType' has no len()")
        return _call(func, args, kwargs, f"{func.__module__}.{func.__name__}")

    # -- in-place arithmetic writes into the private array
    def _inplace(self, op, other):
        op(self._a, _unwrap(other, op.__name__), out=self._a)
        return self

    __iadd__ = lambda self, o: self._inplace(np.add, o)  # noqa: E731
    __isub__ = lambda self, o: self._inplace(np.subtract, o)  # noqa: E731
    __imul__ = lambda self, o: self._inplace(np.multiply, o)  # noqa: E731
    __itruediv__ = lambda self, o: self._inplace(np.true_divide, o)  # noqa: E731

    def astype(self, dtype, copy=True):
        return ndarray(self._a.astype(dtype, copy=copy))

    def reshape(self, *shape, order="C"):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return ndarray(self._a.reshape(shape, order=order))

    def view(self, dtype=None):
        if dtype is not None and np.dtype(dtype) == np.dtype(object):
            raise ValueError("Unsupported dtype object")
        return ndarray(self._a.view() if dtype is None else self._a.view(dtype))

    def copy(self):
        return ndarray(self._a.copy())

    def fill(self, value):
        self._a.fill(_unwrap(value, "fill"))


def _binary(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("floordiv", np.floor_divide), ("mod", np.mod),
                      ("pow", np.power), ("matmul", np.matmul), ("and", np.bitwise_and),
                      ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))
    setattr(ndarray, f"__r{_name}__", _binary(_ufunc, reflected=True))
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_ufunc))
ndarray.__neg__ = lambda self: np.negative(self)
ndarray.__pos__ = lambda self: self.copy()
ndarray.__abs__ = lambda self: np.absolute(self)
ndarray.__invert__ = lambda self: np.invert(self)
ndarray.__hash__ = None


def _method(name):
    def method(self, *args, **kwargs):
        return _call(getattr(self._a, name), args, kwargs, f"ndarray.{name}")
    method.__name__ = name
    return method


for _name in ["sum", "mean", "prod", "std", "var", "max", "min", "argmax", "argmin", "all", "any",
              "cumsum", "ravel", "flatten", "squeeze", "transpose", "swapaxes", "clip", "dot",
              "repeat", "take", "diagonal", "nonzero", "argsort", "round", "trace"]:
    setattr(ndarray, _name, _method(_name))


# ----- module functions ------------------------------------------------------------------------

def asarray(a, dtype=None):
    """Host arrays, lists and scalars copied to the device; device arrays kept (cast if asked)."""
    if type(a) is ndarray:
        return a if dtype is None else a.astype(dtype, copy=False)
    if type(a) in (list, tuple) and any(type(v) is ndarray for v in a):
        return stack([asarray(v, dtype) for v in a])
    return ndarray(np.array(a, dtype=dtype))


def array(a, dtype=None, copy=True):
    return asarray(a, dtype).copy() if copy else asarray(a, dtype)


def asnumpy(a):
    return a.get() if type(a) is ndarray else np.asarray(a)


def get_array_module(*args):
    return sys.modules[__name__] if any(type(a) is ndarray for a in args) else np


def _creator(f):
    def create(*args, **kwargs):
        return _call(f, args, kwargs, f.__name__)
    create.__name__ = f.__name__
    return create


zeros, ones, empty, full, eye, identity, arange, linspace = map(
    _creator, [np.zeros, np.ones, np.empty, np.full, np.eye, np.identity, np.arange, np.linspace])


def _like(f):
    def create(a, *args, **kwargs):
        return ndarray(f(np.empty(np.shape(a), dtype=a.dtype), *args, **kwargs))
    return create


zeros_like, ones_like, empty_like, full_like = map(
    _like, [np.zeros_like, np.ones_like, np.empty_like, np.full_like])


def stack(arrays, axis=0):
    return _call(np.stack, (list(arrays),), {"axis": axis}, "stack")


def concatenate(arrays, axis=0):
    return _call(np.concatenate, (list(arrays),), {"axis": axis}, "concatenate")


class _Ufunc:
    """``fakecupy.add``: the ufunc, with ``at`` (CuPy's scatter-add)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs, self._ufunc.__name__)

    def at(self, a, indices, b=None):
        args = (indices,) if b is None else (indices, _unwrap(b, "ufunc.at"))
        self._ufunc.at(a._a, _index(indices), *args[1:])


add = _Ufunc(np.add)


class Generator:
    """``fakecupy.random.default_rng(seed)``: the subset of CuPy's generator API, on the device."""

    def __init__(self, seed=None):
        self._g = np.random.default_rng(seed)

    def standard_normal(self, size=None, dtype=np.float64):
        return ndarray(np.asarray(self._g.standard_normal(size, dtype=dtype)))

    def random(self, size=None, dtype=np.float64):
        return ndarray(np.asarray(self._g.random(size, dtype=dtype)))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        low, high = _unwrap(low, "integers"), _unwrap(high, "integers")
        draws = self._g.integers(low, high, size, dtype=dtype, endpoint=endpoint)
        return ndarray(np.asarray(draws))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        low, high = _unwrap(low, "uniform"), _unwrap(high, "uniform")
        return ndarray(np.asarray(self._g.uniform(low, high, size)).astype(dtype))


random = types.SimpleNamespace(default_rng=Generator)
float32, float64, int64, bool_ = np.float32, np.float64, np.int64, np.bool_
newaxis, pi = None, np.pi


def __getattr__(name):
    """Every other NumPy function, on stand-in arrays only (host arrays are refused)."""
    f = getattr(np, name)
    if not callable(f) or isinstance(f, type):
        return f
    return lambda *args, **kwargs: _call(f, args, kwargs, name)
