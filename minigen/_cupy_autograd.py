"""autograd on device arrays: what the CuPy backend adds to autograd.

autograd traces calls to NumPy's functions; a CuPy array passes through them by NumPy's
``__array_function__`` and ``__array_ufunc__`` protocols (NEP 18, NEP 13), so a forward pass
written with ``autograd.numpy`` already runs on the GPU. Two things are missing
(HIPS/autograd issue #46):
  1. autograd must know the device array type: a box (``ArrayBox``) to trace it and a vector
     space (zeros, ones, inner products on the device) for its gradients;
  2. a few VJPs build host arrays (``numpy.zeros`` in sum/mean/where, ``numpy.asarray`` in dot,
     ``numpy.ones`` in einsum, ``ufunc.at`` in indexing, ``ndarray.view`` in concatenate).
This module registers (1) and, for device arrays only, swaps the VJPs of (2) for ones written
with device arrays; host arrays keep autograd's own. It works for any module shaped like
``cupy`` (``ndarray``, creation functions, ``add.at``, ``random.default_rng``, ``asnumpy``):
the tests prove it with a CPU stand-in for CuPy.
"""
import math
import operator

import autograd.numpy as anp
import autograd.numpy.numpy_vjps as host_vjps
import autograd.numpy.numpy_wrapper as wrapper
import numpy as onp
from autograd.core import primitive_jvps, primitive_vjps
from autograd.extend import SparseObject, VSpace, defvjp, defvjp_argnum, primitive, vspace
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import getval
from autograd.util import func

from minigen._namespaces import DtypeGenerator, device_namespace
from minigen.backend import Backend

_MODULE_OF = {}     # device array type -> its array module (cupy, or the tests' stand-in)


def make_backend(module, dtype="float64", name=None):
    """A minigen ``Backend`` on ``module``'s device arrays, differentiable by autograd."""
    name = name or module.__name__
    types = tuple(t for t in module.ndarray.__mro__ if t is not object)
    if not _MODULE_OF:
        _patch_autograd()
    for t in types:
        if t not in _MODULE_OF:
            _MODULE_OF[t] = module
            ArrayBox.register(t)
            type(f"{name}VSpace", (_DeviceVSpace,), {"module": module}).register(t)
    return Backend(name, device_namespace(module, dtype, name),
                   lambda seed=None: DtypeGenerator(module.random.default_rng(seed), dtype),
                   module.asnumpy, types, dtype)


class _DeviceVSpace(VSpace):
    """Vector space of device arrays of one shape and dtype; ``module`` is set per array module."""

    module = None

    def __init__(self, value):
        self.shape, self.dtype = value.shape, value.dtype

    size = property(lambda self: math.prod(self.shape))
    ndim = property(lambda self: len(self.shape))

    def zeros(self):
        return self.module.zeros(self.shape, dtype=self.dtype)

    def ones(self):
        return self.module.ones(self.shape, dtype=self.dtype)

    def standard_basis(self):
        for idx in onp.ndindex(*self.shape):
            v = self.zeros()
            v[idx] = 1
            yield v

    def _inner_prod(self, x, y):
        return (x * y).sum()


# ----- VJPs that stay on the device --------------------------------------------------------------

def _on_device(fun, *vjp_makers, argnum_form=False, **kwargs):
    """Use ``vjp_makers`` for ``fun`` when its output is a device array, else autograd's own."""
    host = primitive_vjps[fun]
    (defvjp_argnum if argnum_form else defvjp)(fun, *vjp_makers, **kwargs)
    device = primitive_vjps[fun]

    def route(argnums, ans, args, kw):
        return (device if type(getval(ans)) in _MODULE_OF else host)(argnums, ans, args, kw)
    primitive_vjps[fun] = route


def _spread(g, x, axis):
    """g, the cotangent of a reduction of x over axis, broadcast to x's shape; and the count."""
    shape = anp.shape(x)
    axes = range(len(shape)) if axis is None else onp.atleast_1d(axis).tolist()
    axes = {a % len(shape) for a in axes}
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    zeros = _MODULE_OF[type(getval(x))].zeros(shape, dtype=anp.result_type(x))
    return anp.reshape(g, kept) + zeros, math.prod(shape[i] for i in axes)


def _sum_vjp(ans, x, axis=None, **kw):
    return lambda g: _spread(g, x, axis)[0]


def _mean_vjp(ans, x, axis=None, **kw):
    return lambda g: operator.truediv(*_spread(g, x, axis))


def _var_vjp(ans, x, axis=None, ddof=0, **kw):
    def vjp(g):
        g, n = _spread(g, x, axis)
        return 2.0 * g * (x - anp.mean(x, axis=axis, keepdims=True)) / (n - ddof)
    return vjp


def _std_vjp(ans, x, axis=None, ddof=0, **kw):
    return lambda g: _var_vjp(ans ** 2, x, axis, ddof)(g / (2.0 * ans))


def _prod_vjp(ans, x, axis=None, **kw):
    return lambda g: _spread(g * ans, x, axis)[0] / x


def _chooser_vjp(ans, x, axis=None, **kw):
    """max and min: the cotangent goes to the maximisers, shared equally between ties."""
    def vjp(g):
        hit = x == _spread(ans, x, axis)[0]
        return _spread(g, x, axis)[0] * hit / anp.sum(hit, axis=axis, keepdims=True)
    return vjp


def _where_vjp(branch):
    def maker(ans, c, x=None, y=None):
        target = (x, y)[branch]
        keep = (lambda g: anp.where(c, g, anp.zeros_like(g))) if branch == 0 else \
            (lambda g: anp.where(c, anp.zeros_like(g), g))
        return host_vjps.unbroadcast_f(target, keep)
    return maker


def _dot_vjp(argnum):
    """dot(A, B) for A, B of ndim <= 2 (and A of any ndim when B is 1-D or 2-D), as matmuls."""
    def maker(ans, A, B):
        na, nb = anp.ndim(A), anp.ndim(B)
        if nb > 2:
            raise NotImplementedError("gradient of xp.dot with a second operand of ndim > 2 on a "
                                      "device backend: use xp.matmul (a @ b)")

        def vjp_A(g):
            if na == 0 or nb == 0:
                return anp.sum(g * B) if na == 0 else g * B
            if nb == 1:
                return anp.expand_dims(g, -1) * B
            return anp.dot(B, g) if na == 1 else anp.dot(g, anp.transpose(B))

        def vjp_B(g):
            if na == 0 or nb == 0:
                return anp.sum(g * A) if nb == 0 else g * A
            if na == 1:
                return g * A if nb == 1 else anp.expand_dims(A, -1) * g
            A2 = anp.reshape(A, (-1, anp.shape(A)[-1]))
            if nb == 1:
                return anp.dot(anp.ravel(g), A2)
            return anp.dot(anp.transpose(A2), anp.reshape(g, (-1, anp.shape(B)[-1])))
        return (vjp_A, vjp_B)[argnum]
    return maker


def _einsum_vjp(argnum, ans, operands, kwargs):
    """einsum("subscripts", *arrays): contract the cotangent with the other operands."""
    if not isinstance(operands[0], str):
        raise NotImplementedError("gradient of xp.einsum on a device backend needs the "
                                  "subscripts-string form")
    # host stand-ins of the operands' shapes only: no transfer
    shapes_only = [onp.broadcast_to(onp.zeros(()), anp.shape(a)) for a in operands[1:]]
    in_subs, out_subs, _ = anp.parse_einsum_input(operands[0], *shapes_only)
    subs, arrays = in_subs.split(","), operands[1:]
    k = argnum - 1
    wrt, x = subs[k], arrays[k]
    other_subs, others = subs[:k] + subs[k + 1:], arrays[:k] + arrays[k + 1:]
    summed_alone = [i for i, s in enumerate(wrt) if s not in set(out_subs + "".join(other_subs))]
    meta = anp.metadata(x)

    def vjp(g):
        ins, ops = [out_subs] + other_subs, [g] + list(others)
        if summed_alone:
            # indices summed in x only: contract against ones, on the device
            shape = tuple(anp.shape(x)[i] for i in summed_alone)
            ones = _MODULE_OF[type(getval(ans))].ones(shape, ans.dtype)
            ins.append("".join(wrt[i] for i in summed_alone))
            ops.append(ones)
        return host_vjps.unbroadcast(anp.einsum(",".join(ins) + "->" + wrt, *ops), meta)
    return vjp


def _basic_index(idx):
    basic = (int, onp.integer, slice, type(None), type(Ellipsis))
    return isinstance(idx, basic) or (type(idx) is tuple and all(isinstance(i, basic) for i in idx))


@primitive
def _untake(g, idx, vs):
    """The cotangent of A[idx]: g scattered into zeros of A's shape (repeated indices add up)."""
    def add_into(A):
        if _basic_index(idx):
            A[idx] += g
        else:
            _MODULE_OF[type(A)].add.at(A, idx, g)
        return A
    return SparseObject(vs, add_into)


defvjp(_untake, lambda ans, g, idx, vs: lambda h: h[idx])


def _install_vjps():
    _on_device(anp.sum, _sum_vjp)
    _on_device(wrapper._primitive_mean, _mean_vjp)
    _on_device(wrapper._primitive_var, _var_vjp)
    _on_device(wrapper._primitive_std, _std_vjp)
    _on_device(anp.prod, _prod_vjp)
    for fun in (anp.max, anp.min, anp.amax, anp.amin):
        _on_device(fun, _chooser_vjp)
    _on_device(anp._original_where, None, _where_vjp(0), _where_vjp(1))
    _on_device(anp.dot, _dot_vjp(0), _dot_vjp(1))
    _on_device(anp.einsum, _einsum_vjp, argnum_form=True)
    # CuPy reads reshape's order as a string, and autograd's VJPs pass order=None
    _on_device(anp.reshape, lambda ans, x, *a, **k: lambda g: anp.reshape(g, anp.shape(x)))
    _on_device(anp.ravel, lambda ans, x, *a, **k: lambda g: anp.reshape(g, anp.shape(x)))
    _on_device(func(ArrayBox.__getitem__),
               lambda ans, A, idx: lambda g: _untake(g, idx, vspace(A)))


# ----- array construction inside autograd ---------------------------------------------------------

def _device_module(values):
    return next((_MODULE_OF[type(v)] for v in values if type(v) in _MODULE_OF), None)


@primitive
def _concatenate_args(axis, *args):
    out = onp.concatenate(args, axis)           # dispatched to the device module for device arrays
    return out.view(onp.ndarray) if isinstance(out, onp.ndarray) else out


@primitive
def _array_from_scalar_or_array(array_args, array_kwargs, scalar):
    module = _device_module([scalar])
    return (module or onp).array(scalar, *array_args, **array_kwargs)


@primitive
def _array_from_args(array_args, array_kwargs, *args):
    module = _device_module(args)
    if module is None:
        return onp.array(args, *array_args, **array_kwargs)
    out = module.stack([module.asarray(a) for a in args])
    dtype = array_kwargs.get("dtype", array_args[0] if array_args else None)
    return out if dtype is None else out.astype(dtype)


def _patch_autograd():
    """Once: device-aware array construction inside autograd.numpy, and the device VJPs."""
    for new, old in [(_concatenate_args, wrapper.concatenate_args),
                     (_array_from_scalar_or_array, wrapper._array_from_scalar_or_array),
                     (_array_from_args, wrapper.array_from_args)]:
        primitive_vjps[new], primitive_jvps[new] = primitive_vjps[old], primitive_jvps[old]
        setattr(wrapper, old.__name__, new)
    _install_vjps()

