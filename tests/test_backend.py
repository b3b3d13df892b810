"""The array backends: selection errors, the CuPy stand-in's strictness, autograd on device arrays.

The oracle for gradients on a device backend is autograd on NumPy (itself checked here against
central finite differences); the stand-in must give the same numbers, in its own array type.
"""
import sys
import types

import autograd
import numpy as np
import pytest

import fakecupy
from conftest import BACKENDS, DEFAULT_BACKEND, assert_close, assert_on_backend, host
from minigen import backend
from minigen import host as host_settings
from minigen.backend import xp


@pytest.fixture
def fake(request):
    """The stand-in backend in float64, or the dtype given by indirect parametrization."""
    backend.set_backend("fakecupy", dtype=getattr(request, "param", "float64"))
    yield backend.xp
    backend.set_backend(DEFAULT_BACKEND)


# ----- choosing a backend ------------------------------------------------------------------------

def test_unknown_backend_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="torch"):
        backend.set_backend("torch")


def test_bad_dtype_is_a_value_error():
    with pytest.raises(ValueError, match="float16"):
        backend.set_backend("numpy", dtype="float16")


def test_cupy_not_installed_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)          # makes `import cupy` fail
    before = backend.get_backend()
    with pytest.raises(ImportError, match='pip install "minigen\\[gpu\\]"'):
        backend.set_backend("cupy")
    assert backend.get_backend() == before


@pytest.mark.parametrize("count", [0, RuntimeError("cudaErrorNoDevice: no CUDA-capable device")])
def test_cupy_without_a_gpu_gives_the_install_hint(monkeypatch, count):
    def get_device_count():
        if isinstance(count, Exception):
            raise count
        return count
    cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count)))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    with pytest.raises(RuntimeError, match='GPU.*pip install "minigen\\[gpu\\]"'):
        backend.set_backend("cupy")


def test_fixture_runs_on_every_available_backend(backend_name):
    assert backend.get_backend() == backend_name
    assert_on_backend(xp.zeros((2, 3)), "xp.zeros")
    assert_on_backend(backend.rng(0).standard_normal((2, 3)), "rng.standard_normal")
    assert "numpy" in BACKENDS and "fakecupy" in BACKENDS


# ----- the stand-in behaves like CuPy where ported code breaks -----------------------------------

def test_stand_in_is_not_a_numpy_array_and_refuses_implicit_host_conversion():
    a = fakecupy.asarray([1.0, 2.0])
    assert not isinstance(a, np.ndarray)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.array([a, a])
    np.testing.assert_array_equal(a.get(), [1.0, 2.0])
    assert float(a.sum()) == 3.0 and bool(a[1] > a[0]) and len(a) == 2


def test_stand_in_dispatches_numpy_calls_and_returns_device_arrays():
    a = fakecupy.asarray(np.arange(6.0).reshape(2, 3))
    for out in [np.exp(a), np.sum(a, axis=0), np.sum(a), a @ a.T, np.concatenate([a, a]), a[:, 1],
                2.0 * a]:
        assert isinstance(out, fakecupy.ndarray)
    assert np.sum(a).shape == ()                            # reductions give 0-d device arrays
    assert np.shape(a) == (2, 3) and np.result_type(a) == np.float64


def test_stand_in_refuses_mixing_with_host_arrays():
    a, h = fakecupy.asarray(np.ones(3)), np.ones(3)
    for mix in [lambda: a + h, lambda: h * a, lambda: np.concatenate([a, h]), lambda: np.dot(a, h),
                lambda: a[np.array([0, 1])], lambda: np.add.at(a, [0], 1.0)]:
        with pytest.raises(TypeError):
            mix()
    assert float((a + np.float64(2.0)).sum()) == 9.0        # host scalars are fine, as on CuPy


def test_xp_names_the_function_when_a_host_array_meets_the_device(fake):
    with pytest.raises(TypeError, match="xp.exp: argument 0 is a host numpy.ndarray"):
        xp.exp(np.ones(3))
    with pytest.raises(TypeError, match="xp.concatenate"):
        xp.concatenate([xp.ones(3), np.ones(3)])
    with pytest.raises(TypeError, match="xp.linalg.slogdet"):
        xp.linalg.slogdet(np.eye(2))
    with pytest.raises(AttributeError, match="backend.rng"):
        xp.random.normal(size=3)


def test_asarray_and_to_numpy_move_data_between_host_and_device(fake):
    a = backend.asarray(np.arange(3.0))
    assert isinstance(a, fakecupy.ndarray)
    assert isinstance(backend.to_numpy(a), np.ndarray)
    np.testing.assert_array_equal(backend.to_numpy(xp.asarray([[1, 2]]) * 1.5), [[1.5, 3.0]])
    assert xp.arange(3).dtype.kind == "i" and xp.full(2, 7).dtype.kind == "i"
    with pytest.raises(ValueError, match="data"):
        backend.as_points(np.ones(3), "data")


# ----- autograd on device arrays ------------------------------------------------------------------

def _loss(params, x, idx):
    """Touches every overridden VJP and the common elementwise ones."""
    W, b, v = params["W"], params["b"], params["v"]
    h = xp.tanh(x @ W + b)                                   # (n, k), broadcasting b
    z = xp.concatenate([h, xp.exp(-h ** 2)], axis=1)         # (n, 2k)
    s = xp.logaddexp(z, 0.0).sum(axis=1) + xp.log(1.0 + xp.dot(x, v) ** 2)
    s = s + xp.where(s > s.mean(), s, 0.5 * s) + xp.maximum(h[:, 0], 0.1)
    t = xp.stack([s, xp.sqrt(s ** 2 + 1.0)]).reshape(-1)
    u = xp.einsum("nk,k->n", h, b) + xp.einsum("nk->n", h) + xp.dot(W.T, v).sum()
    return (xp.mean(t) + xp.var(s) + xp.std(u) + xp.max(h) - xp.min(z, axis=0).sum()
            + s[idx].sum() + W[1, 2] + xp.sum(xp.abs(W)) + xp.prod(1.0 + 0.1 * b)
            + xp.dot(xp.ravel(W), W.ravel()))


def _problem(seed=0):
    r = np.random.default_rng(seed)
    params = {"W": r.normal(size=(3, 4)), "b": r.normal(size=4), "v": r.normal(size=3)}
    return params, r.normal(size=(6, 3)), np.array([0, 2, 2, 5])


def _gradient_on_active_backend(params, x, idx):
    p = {k: backend.asarray(v) for k, v in params.items()}
    x, idx = backend.asarray(x), xp.asarray(idx)
    value, grads = autograd.value_and_grad(_loss)(p, x, idx)
    return value, grads


@pytest.fixture
def on_numpy():
    backend.set_backend("numpy")
    yield backend.xp
    backend.set_backend(DEFAULT_BACKEND)


def test_numpy_gradient_of_the_loss_matches_finite_differences(on_numpy):
    params, x, idx = _problem()
    _, grads = autograd.value_and_grad(_loss)(params, x, idx)
    eps = 1e-6
    for k, p in params.items():
        for i in [0, p.size // 2, p.size - 1]:
            hi, lo = {**params, k: p.copy()}, {**params, k: p.copy()}
            hi[k].flat[i] += eps
            lo[k].flat[i] -= eps
            fd = (_loss(hi, x, idx) - _loss(lo, x, idx)) / (2 * eps)
            assert abs(grads[k].flat[i] - fd) < 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("fake", ["float64", "float32"], indirect=True)
def test_device_gradient_equals_the_numpy_gradient(fake):
    params, x, idx = _problem()
    value, grads = _gradient_on_active_backend(params, x, idx)
    assert_on_backend(value, "loss")
    for k in grads:
        assert_on_backend(grads[k], f"grad[{k}]")
    backend.set_backend("numpy")
    value_np, grads_np = _gradient_on_active_backend(params, x, idx)
    rtol = 1e-9 if value.dtype == np.float64 else 2e-3
    assert_close(value, value_np, rtol=rtol)
    assert_close(grads, grads_np, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("index", [lambda x: x > 0, lambda x: (xp.asarray([0, 0, 3]), 1),
                                   lambda x: [1, 1, 4], lambda x: (slice(None), slice(1, None)),
                                   lambda x: (Ellipsis, 0)])
def test_indexing_gradient_scatters_on_device(fake, index):
    """The cotangent of x[idx] adds up over repeated indices.

    autograd's untake, by add.at on the device.
    """
    x_host = np.random.default_rng(5).normal(size=(5, 3))

    def f(x):
        return xp.sum(x[index(x)] ** 2)
    g = autograd.grad(f)(backend.asarray(x_host))
    assert isinstance(g, fakecupy.ndarray)
    backend.set_backend("numpy")
    np.testing.assert_allclose(g.get(), autograd.grad(f)(x_host), rtol=1e-12)


def test_jacobian_and_elementwise_grad_on_device(fake):
    x = xp.asarray([0.3, -1.2, 2.0])

    def f(x):
        return xp.tanh(x) * xp.sum(x)
    jac = autograd.jacobian(f)(x)
    assert isinstance(jac, fakecupy.ndarray) and jac.shape == (3, 3)
    xh, th = x.get(), np.tanh(x.get())
    np.testing.assert_allclose(jac.get(), np.diag((1 - th ** 2) * xh.sum()) + th[:, None],
                               rtol=1e-12)
    g = autograd.elementwise_grad(lambda x: xp.exp(x) ** 2)(x)
    np.testing.assert_allclose(host(g), 2 * np.exp(2 * xh), rtol=1e-12)


def test_second_derivative_on_device(fake):
    def f(x):
        return xp.sum(xp.sin(x) ** 2)
    d2 = autograd.elementwise_grad(autograd.elementwise_grad(f))(xp.asarray([0.1, 0.7]))
    np.testing.assert_allclose(host(d2), 2 * np.cos(2 * np.array([0.1, 0.7])), rtol=1e-12)


def test_numpy_backend_unchanged_after_the_adapter_is_loaded(fake):
    backend.set_backend("numpy")
    params, x, idx = _problem(1)
    _, grads = autograd.value_and_grad(_loss)(params, x, idx)
    assert all(type(g) is np.ndarray for g in grads.values())
    assert type(autograd.numpy.concatenate([np.ones(2), np.zeros(1)])) is np.ndarray
    assert type(autograd.numpy.array([1.0, 2.0])) is np.ndarray


# ----- random numbers and the float32 option ------------------------------------------------------

@pytest.mark.parametrize("fake", ["float64", "float32"], indirect=True)
def test_rng_draws_on_the_device_in_the_backend_dtype(fake):
    r = backend.rng(3)
    draws = {"standard_normal": r.standard_normal((400, 2)), "random": r.random(400),
             "normal": r.normal(1.0, 2.0, size=400), "uniform": r.uniform(-1.0, 1.0, size=400)}
    for name, a in draws.items():
        assert_on_backend(a, f"rng.{name}")
    i = r.integers(0, 5, size=100)
    assert isinstance(i, fakecupy.ndarray) and i.dtype.kind == "i"
    assert 0 <= int(i.min()) and int(i.max()) < 5
    assert sorted(host(r.permutation(5)).tolist()) == [0, 1, 2, 3, 4]
    assert abs(float(draws["standard_normal"].mean())) < 5 / np.sqrt(800)   # 5 standard errors
    np.testing.assert_array_equal(host(backend.rng(3).standard_normal((400, 2))),
                                  host(draws["standard_normal"]))


@pytest.mark.parametrize("name", ["numpy", "fakecupy"])
def test_float32_option_gives_float32_arrays(name):
    backend.set_backend(name, dtype="float32")
    try:
        assert backend.float_dtype() == np.float32
        for a in [xp.zeros(3), xp.ones((2, 2)), xp.eye(2), xp.linspace(0, 1, 5),
                  xp.asarray([1.0, 2.0]), xp.full(3, 0.5), xp.zeros_like(xp.ones(2)),
                  xp.arange(3.0), backend.asarray(np.ones(2)), backend.rng(0).standard_normal(4),
                  backend.rng(0).random(4)]:
            assert a.dtype == np.float32
        g = autograd.grad(lambda w: xp.sum(xp.tanh(w) ** 2))(xp.ones(3))
        assert g.dtype == np.float32
    finally:
        backend.set_backend(DEFAULT_BACKEND)


def test_training_runs_blas_on_one_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not any(i["user_api"] == "blas" for i in threadpoolctl.threadpool_info()):
        pytest.skip("no BLAS library that threadpoolctl can see")
    seen = []
    params = {"w": backend.asarray(np.ones(3))}

    def loss(p, step):
        seen.append({i["internal_api"]: i["num_threads"] for i in threadpoolctl.threadpool_info()
                     if i["user_api"] == "blas"})
        return xp.sum(p["w"] ** 2)

    from minigen import nn
    nn.train(loss, params, 2)
    assert len(seen) == 2 and all(s and set(s.values()) == {1} for s in seen)


def test_keep_freed_memory_applies_on_linux_and_can_be_refused(monkeypatch):
    monkeypatch.setenv("MINIGEN_MALLOC", "default")
    assert host_settings.keep_freed_memory() is False
    monkeypatch.delenv("MINIGEN_MALLOC")
    monkeypatch.setattr(host_settings.sys, "platform", "darwin")
    assert host_settings.keep_freed_memory() is False
    monkeypatch.setattr(host_settings.sys, "platform", "linux")
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    assert host_settings.keep_freed_memory() is True
