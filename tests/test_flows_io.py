"""Saving and loading the trained flows (minigen.io): a CouplingFlow and a HamiltonianFlow come
back exactly from a file (same log_prob, same ELBO and samples for the same seeded rng), on every
backend and from the CuPy stand-in to NumPy; a different model is told apart by the same check."""
import numpy as np
import pytest

from minigen import backend, io
from minigen.distributions import polygon_blobs
from minigen.flows.coupling import CouplingFlow, make_coupling_flow, train_coupling_flow
from minigen.flows.hamiltonian import HamiltonianFlow, train_hamiltonian_flow


def _data():
    return polygon_blobs(4, 2.0, 0.3).sample(300, backend.rng(0)) * 1.5 + 0.7   # std, mean != 1, 0


def _train(kind, seed=1):
    if kind == "coupling":
        return train_coupling_flow(_data(), backend.rng(seed), n_blocks=2, hidden=(8, 6),
                                   n_steps=10, batch_size=64, scale_bound=2.0,
                                   activation="silu", progress=False)
    return train_hamiltonian_flow(_data(), backend.rng(seed), n_blocks=2, n_leapfrog=3,
                                  step_size=0.4, hidden=(8,), r_hidden=(6,), n_steps=10,
                                  batch_size=64, block_scale=True, progress=False)


def _outputs(model):
    """What a student gets from the model, on the host: densities (or bounds) at fixed points,
    samples from a seeded generator, and for the coupling flow the latent path."""
    x = backend.asarray(_data()[:40])
    out = {"sample": model.sample(50, backend.rng(3))}
    if isinstance(model, CouplingFlow):
        out["log_prob"] = model.log_prob(x)
        out["z"] = model.forward(x)[0]
        out["path"] = model.interpolate(x[0], x[1], n_points=5)[0]
    else:
        out["elbo"] = model.elbo(x, backend.rng(4))
        out["iwae"] = model.elbo(x, backend.rng(5), n_samples=4)
        out["trajectory"] = model.trajectory(backend.rng(6).standard_normal((7, 4)))
    return {k: backend.to_numpy(v) for k, v in out.items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("kind", ["coupling", "hamiltonian"])
def test_flow_round_trip_is_exact(backend_name, kind, tmp_path):
    model = _train(kind)
    path = model.save(tmp_path / f"{kind}.npz")
    loaded = io.load(path)
    assert type(loaded) is type(model) and loaded is not model
    assert loaded.history == model.history and len(loaded.history) == 10
    assert loaded.state()[0] == model.state()[0]
    _assert_same(_outputs(loaded), _outputs(model))


@pytest.mark.parametrize("kind", ["coupling", "hamiltonian"])
def test_flow_saved_on_the_cupy_stand_in_loads_on_numpy(kind, tmp_path):
    backend.set_backend("fakecupy")
    try:
        model = _train(kind)
        io.save(model, tmp_path / f"{kind}.npz")
        before = _outputs(model)
    finally:
        backend.set_backend("numpy")
    loaded = io.load(tmp_path / f"{kind}.npz")
    assert isinstance(loaded.sample(2, backend.rng(0)), np.ndarray)
    _assert_same(_outputs(loaded), before)


def test_untrained_flows_round_trip(tmp_path):
    """Models made by hand (no history, block_scale off, no quadratic kinetic energy) too."""
    rng = backend.rng(7)
    flows = [make_coupling_flow(3, rng, n_blocks=2, hidden=(), init_data=rng.standard_normal(
                 (50, 3))),
             HamiltonianFlow(3, rng, n_blocks=2, hidden=(4,), block_scale=False,
                             quadratic_kinetic=False, init_scale=0.3,
                             mean=np.array([1.0, 2.0, 3.0]), std=np.array([0.5, 1.0, 2.0]))]
    for i, model in enumerate(flows):
        loaded = io.load(model.save(tmp_path / f"{i}.npz"))
        x = backend.rng(8).standard_normal((5, 3))
        a = model.sample(9, backend.rng(9))
        np.testing.assert_array_equal(loaded.sample(9, backend.rng(9)), a)
        if i == 0:
            np.testing.assert_array_equal(loaded.log_prob(x), model.log_prob(x))
        else:
            np.testing.assert_array_equal(loaded.elbo(x, backend.rng(1)),
                                          model.elbo(x, backend.rng(1)))


@pytest.mark.parametrize("kind", ["coupling", "hamiltonian"])
def test_a_different_flow_gives_different_outputs(kind):
    # the power of the checks above: another training run is told apart
    with pytest.raises(AssertionError):
        _assert_same(_outputs(_train(kind, seed=9)), _outputs(_train(kind)))
