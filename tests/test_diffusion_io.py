"""Saving and loading a trained Denoiser (minigen.io): the round trip through a file is exact, on
every backend and from the CuPy stand-in to NumPy."""
import numpy as np
import pytest

from minigen import backend, io
from minigen.distributions import polygon_blobs
from minigen.diffusion.tweedie import Denoiser, train_denoiser


def _train():
    data = polygon_blobs(4, 2.0, 0.3).sample(300, backend.rng(0)) + 1.5   # mean and scale != 0, 1
    return train_denoiser(data, backend.rng(1), n_steps=30, batch_size=32, hidden=(16, 16),
                          activation="silu", sigma_min=0.05, sigma_max=8.0)


def _outputs(D):
    """What a student gets from the model: denoised points at three noise levels, and samples
    from a seeded generator by the SDE (Euler) and the ODE (Heun), on the host."""
    y = backend.rng(2).standard_normal((50, 2)) * 2.0
    out = {f"D(y, {s})": D(y, s) for s in (0.01, 0.4, 30.0)}
    out["sde"] = D.sample(40, backend.rng(3), n_steps=12)
    out["ode"] = D.sample(40, backend.rng(3), n_steps=12, alpha=0.0)
    return {k: backend.to_numpy(v) for k, v in out.items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_denoiser_round_trip_is_exact(backend_name, tmp_path):
    D = _train()
    path = D.save(tmp_path / "denoiser.npz")
    E = io.load(path)
    assert isinstance(E, Denoiser) and E is not D
    assert (E.scale, E.sigma_range, E.activation) == (D.scale, D.sigma_range, D.activation)
    assert E.history == D.history and len(E.history) == 30
    _assert_same(_outputs(E), _outputs(D))


def test_denoiser_saved_on_the_cupy_stand_in_loads_on_numpy(tmp_path):
    backend.set_backend("fakecupy")
    try:
        D = _train()
        io.save(D, tmp_path / "denoiser.npz")
        before = _outputs(D)
    finally:
        backend.set_backend("numpy")
    E = io.load(tmp_path / "denoiser.npz")
    assert isinstance(E.mean, np.ndarray)
    _assert_same(_outputs(E), before)


def test_a_different_denoiser_gives_different_outputs(tmp_path):
    # the power of the checks above: another training run is told apart
    D = _train()
    other = train_denoiser(polygon_blobs(4, 2.0, 0.3).sample(300, backend.rng(0)) + 1.5,
                           backend.rng(9), n_steps=30, batch_size=32, hidden=(16, 16),
                           activation="silu", sigma_min=0.05, sigma_max=8.0)
    with pytest.raises(AssertionError):
        _assert_same(_outputs(other), _outputs(D))
