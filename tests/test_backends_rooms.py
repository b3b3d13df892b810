"""Every room on every backend: the key public functions and a short training of each model.

Each case runs with tiny sizes on the backend of the ``backend_name`` fixture. Every array it
returns must be an array of that backend in its float dtype: a host NumPy array leaking out of a
room (or into it: the stand-in and CuPy refuse to mix them) fails the test. On the stand-in the
random streams are NumPy's, so the numbers must also equal the NumPy backend's (the oracle).
"""
import math

import numpy as np
import pytest

from conftest import DEFAULT_BACKEND, assert_close, assert_on_backend, host
from minigen import backend, distributions, metrics, nn
from minigen.backend import xp
from minigen.diffusion import ornstein_uhlenbeck as ou
from minigen.diffusion import reverse, tweedie
from minigen.flows import coupling, hamiltonian
from minigen.gans import gan, wgan
from minigen.mcmc import annealed_langevin, langevin, mala, metropolis_hastings, replica_exchange


def _blobs(n, seed=0):
    return distributions.polygon_blobs(8, 2.0, 0.3).sample(n, backend.rng(seed))


def case_distributions():
    target = distributions.polygon_blobs(8, 2.0, 0.2)
    x = target.sample(50, backend.rng(0))
    gibbs = distributions.Gibbs(distributions.double_well, beta=2.0)
    return {"x": x, "log_prob": target.log_prob(x), "score": target.score(x),
            "resp": target.responsibilities(x), "ou": target.ou_marginal(0.3).score(x),
            "posterior_mean": target.posterior_mean(x, 0.5), "gibbs_score": gibbs.score(x),
            "gibbs_log_prob": gibbs.log_prob(x)}


def case_metrics():
    x, y = _blobs(60, 1), _blobs(60, 2)
    means = distributions.polygon_blobs(8, 2.0, 0.3).means
    chain = xp.cumsum(backend.rng(3).standard_normal((200, 2)), axis=0) * 0.1
    return {"sw": metrics.sliced_wasserstein(x, y, backend.rng(4), 16),
            "mmd": metrics.mmd_rbf(x, y),
            "fd": metrics.frechet_distance(x, y), "occupancy": metrics.mode_occupancy(x, means),
            "coverage": metrics.mode_coverage(x, means, 0.3),
            "hq": metrics.high_quality_fraction(x, means, 0.3),
            "rkl": metrics.reverse_kl_modes(x, means), "ess": metrics.effective_sample_size(chain),
            "acf": metrics.autocorrelation(chain, 10)}


def case_mcmc():
    target = distributions.polygon_blobs(4, 2.0, 0.5)
    x0 = backend.rng(0).standard_normal((16, 2))
    r = backend.rng(1)
    return {"mh": metropolis_hastings(target.log_prob, x0, 20, 0.5, r),
            "rex": replica_exchange(target.log_prob, x0, [1.0, 0.5, 0.25], 10, 0.5, r),
            "ula": langevin(target.score, x0, 20, 0.05, r),
            "mala": mala(target.log_prob, target.score, x0, 20, 0.05, r),
            "annealed": annealed_langevin(target.score, x0, [0.2, 0.5, 1.0], 0.05, r)}


def case_diffusion():
    target = distributions.polygon_blobs(8, 2.0, 0.3)
    x0, r = target.sample(40, backend.rng(0)), backend.rng(1)
    exact_score = lambda x, t: target.ou_marginal(t).score(x)  # noqa: E731
    times = reverse.time_grid(10, T=3.0)
    x_T = r.standard_normal((40, 2))
    denoiser = tweedie.train_denoiser(x0, backend.rng(2), n_steps=3, batch_size=16, hidden=(8,))
    return {"ou_sample": ou.ou_sample(x0, 0.5, r), "ou_paths": ou.ou_paths(x0, [0.0, 0.1, 0.3], r),
            "sde": reverse.reverse_sde(exact_score, x_T, times, r),
            "ode_heun": reverse.reverse_sde(exact_score, x_T, times, None, alpha=0.0,
                                            method="heun"),
            "tweedie": tweedie.tweedie_denoise(target.score, x0, 0.3),
            "denoised": denoiser(x0, 0.5), "learned": reverse.reverse_sde(
                tweedie.score_from_denoiser(denoiser), x_T, times[:4], r, return_path=True),
            "history": denoiser.history}


def case_coupling_flow():
    data, r = _blobs(128), backend.rng(1)
    flow = coupling.train_coupling_flow(data, r, n_blocks=2, hidden=(8,), n_steps=3, batch_size=32)
    z, log_det = flow.forward(data[:10])
    return {"log_prob": flow.log_prob(data[:10]), "z": z, "log_det": log_det,
            "x": flow.inverse(z)[0],
            "sample": flow.sample(10, r), "history": flow.history}


def case_hamiltonian_flow():
    data, r = _blobs(128), backend.rng(1)
    flow = hamiltonian.train_hamiltonian_flow(data, r, n_blocks=2, n_leapfrog=2, hidden=(8,),
                                              n_steps=3, batch_size=32)
    return {"elbo": flow.elbo(data[:10], backend.rng(2)), "sample": flow.sample(10, backend.rng(3)),
            "trajectory": flow.trajectory(backend.rng(4).standard_normal((5, 4))),
            "history": flow.history}


def case_gan():
    data = _blobs(128)
    model = gan.train_gan(data, backend.rng(1), n_steps=3, hidden=(8,), batch_size=32,
                          n_snapshots=2)
    return {"sample": model.sample(10, backend.rng(2)), "d": model.discriminator(data[:10]),
            "value": model.history["value"]}


def case_wgan(lipschitz="gp"):
    data = _blobs(128)
    model = wgan.train_wgan(data, backend.rng(1), lipschitz=lipschitz, n_steps=2, n_critic=2,
                            hidden=(8,), batch_size=32, n_snapshots=2)
    return {"sample": model.sample(10, backend.rng(2)), "critic": model.critic(data[:10]),
            "w1": model.history["w1"]}


def case_wgan_clip():
    return case_wgan("clip")


def case_nn_regression():
    r = backend.rng(0)
    x = r.standard_normal((32, 2))
    y = xp.sin(x[:, :1]) * x[:, 1:]
    params, history = nn.train(lambda p, step: xp.mean((nn.mlp(p, x, "silu") - y) ** 2),
                               nn.init_mlp([2, 8, 1], r), 5, lr=1e-2)
    return {"params": params, "history": history}


CASES = {name[5:]: f for name, f in sorted(globals().items()) if name.startswith("case_")}
_numpy_results = {}


def _leaves(tree, path="out"):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, f"{path}[{k!r}]")
    elif isinstance(tree, (list, tuple)):
        names = getattr(tree, "_fields", range(len(tree)))
        for k, v in zip(names, tree):
            yield from _leaves(v, f"{path}.{k}" if hasattr(tree, "_fields") else f"{path}[{k}]")
    elif tree is not None:
        yield path, tree


def _on_numpy(name):
    if name not in _numpy_results:
        backend.set_backend("numpy")
        try:
            _numpy_results[name] = [(p, host(v)) for p, v in _leaves(CASES[name]())]
        finally:
            backend.set_backend(DEFAULT_BACKEND)
    return _numpy_results[name]


@pytest.mark.parametrize("name", sorted(CASES))
def test_room_runs_on_the_backend_without_host_arrays(name, backend_name):
    leaves = list(_leaves(CASES[name]()))
    for path, value in leaves:
        if isinstance(value, (bool, int, float, str)):
            assert not isinstance(value, float) or math.isfinite(value) or "rkl" in path, path
            continue
        assert_on_backend(value, f"{name}: {path}")
        assert bool(xp.all(xp.isfinite(value))) or "rkl" in path, f"{name}: {path} is not finite"
    if backend_name == "fakecupy":                   # same random streams as NumPy: same numbers
        expected = _on_numpy(name)
        assert [p for p, _ in leaves] == [p for p, _ in expected]
        for (path, value), (_, want) in zip(leaves, expected):
            assert_close(host(value), want, rtol=1e-6, atol=1e-9)


# known float64 promotions in rooms (none at present); the case passes once they are fixed
FLOAT32_LEAKS = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=FLOAT32_LEAKS[n]))
                                  if n in FLOAT32_LEAKS else n
                                  for n in sorted(CASES)])
def test_room_keeps_float32_on_the_device(name):
    backend.set_backend("fakecupy", dtype="float32")
    try:
        for path, value in _leaves(CASES[name]()):
            if not isinstance(value, (bool, int, float, str)):
                assert_on_backend(value, f"{name}: {path}")
    finally:
        backend.set_backend(DEFAULT_BACKEND)


def test_stand_in_catches_a_host_array_leaking_into_a_room():
    """The check works: a host array where a device array belongs fails on the stand-in."""
    backend.set_backend("fakecupy")
    try:
        target = distributions.polygon_blobs(4, 2.0, 0.5)
        with pytest.raises(TypeError):
            metropolis_hastings(lambda x: target.log_prob(x) + np.zeros(x.shape[0]),
                                xp.zeros((4, 2)), 3, 0.5, backend.rng(0))
    finally:
        backend.set_backend(DEFAULT_BACKEND)
