"""Test fixtures shared by the suite: running a test on every array backend.

A test that takes the ``backend_name`` fixture (or ``xpb``, the ``xp`` namespace) runs once per
available backend: "numpy" always, "fakecupy" (the CPU stand-in for CuPy in ``fakecupy.py``,
which refuses host arrays the way CuPy does) always, and "cupy" when CuPy imports and sees a GPU.
Outside those tests the backend is the one ``MINIGEN_BACKEND`` names ("numpy" by default;
``MINIGEN_BACKEND=fakecupy pytest`` runs the whole suite on the stand-in).
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BACKEND = os.environ.get("MINIGEN_BACKEND", "numpy")
# fakecupy is registered below, after minigen.backend is imported
if DEFAULT_BACKEND == "fakecupy":
    os.environ["MINIGEN_BACKEND"] = "numpy"

import fakecupy  # noqa: E402
from minigen import backend  # noqa: E402


def _load_fakecupy(dtype="float64"):
    from minigen import _cupy_autograd
    return _cupy_autograd.make_backend(fakecupy, dtype, "fakecupy")


backend.register_backend("fakecupy", _load_fakecupy)


def _cupy_usable():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


BACKENDS = ["numpy", "fakecupy"] + (["cupy"] if _cupy_usable() else [])
backend.set_backend(DEFAULT_BACKEND)


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    """The name of the active backend, set for this test and restored afterwards."""
    backend.set_backend(request.param)
    yield request.param
    backend.set_backend(DEFAULT_BACKEND)


@pytest.fixture
def on_numpy():
    """Student-style code is plain NumPy: run it on the numpy backend, whatever MINIGEN_BACKEND."""
    previous = backend.get_backend()
    backend.set_backend("numpy")
    yield
    backend.set_backend(previous)


def assert_fails_exactly(report, fails, named, where="first"):
    """A minigen.check report on a planted mistake: exactly the properties ``fails`` fail, each at
    >= MISTAKE_SE standard errors (10) or >= 2 tolerances, every other one passes or is skipped,
    and the named mistake ``named`` is reported on the first failing property (where="first"), on
    some failing one ("any") or on every one ("every"); named="" asks for no name."""
    from minigen.check.exercise import MISTAKE_SE
    failed = [r for r in report if r.status == "fail"]
    assert {r.name for r in failed} == set(fails), str(report)
    assert all(r.status in ("pass", "skipped") for r in report if r.name not in fails), str(report)
    for r in failed:
        assert r.deviation >= (2 if r.unit == "tol" else MISTAKE_SE), str(report)
    if named:
        hits = [named in r.mistake for r in failed]
        found = {"first": hits[:1] == [True], "any": any(hits), "every": all(hits)}[where]
        assert found, str(report)


@pytest.fixture
def small_budget(monkeypatch):
    """minigen.check's time budget cut from 10 s to 1 s: a loop over chains is then refused by a
    margin of 10x or more on any machine (the test reads no clock of its own)."""
    from minigen.check import exercise
    monkeypatch.setattr(exercise, "TIME_BUDGET", 1.0)


@pytest.fixture
def xpb(backend_name):
    """The ``xp`` namespace, on each available backend in turn."""
    return backend.xp


def tolerance(dtype=None):
    """Relative tolerance of a computation in ``dtype`` (the active backend's by default)."""
    dtype = np.dtype(dtype or backend.float_dtype())
    return 1e-9 if dtype == np.float64 else 2e-4


def assert_close(actual, expected, rtol=None, atol=None):
    """Compare backend arrays (host arrays, pytrees of them) with the backend dtype's tolerance."""
    if isinstance(expected, dict):
        for k in expected:
            assert_close(actual[k], expected[k], rtol, atol)
        return
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol)
        return
    rtol = tolerance() if rtol is None else rtol
    atol = rtol if atol is None else atol
    np.testing.assert_allclose(host(actual), host(expected), rtol=rtol, atol=atol)


def host(a):
    """A host copy of a backend array of any backend (numpy, the stand-in, cupy)."""
    if isinstance(a, fakecupy.ndarray):
        return a.get()
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def assert_on_backend(a, name="array"):
    """Fail unless ``a`` is an array of the active backend in its float dtype (a leak check)."""
    be = backend.active()
    assert isinstance(a, be.array_type), f"{name} is a {type(a).__module__}.{type(a).__name__}, " \
                                         f"not an array of the {be.name} backend"
    if a.dtype.kind == "f":
        assert a.dtype == be.dtype, f"{name} has dtype {a.dtype}, the backend's is {be.dtype}"
