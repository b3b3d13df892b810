"""Langevin samplers (Eq. 117-122) against closed forms of the discretized chain, and the scores they use.

ULA on N(0, s^2): x' = (1 - h/s^2) x + sigma sqrt(h) z is a Gaussian AR(1) chain whose stationary variance
solves v = (1 - h/s^2)^2 v + sigma^2 h, i.e. v = sigma^2 s^2 / (2 (1 - h / (2 s^2)))
(= s^2 / (1 - h/(2 s^2)) for sigma = sqrt(2)).  Statistical checks read one state per independent chain:
SE of a variance v is v sqrt(2 / m) (Gaussian law); tolerances are 5 SE.
"""
import math

import autograd
import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.distributions import Gibbs, GaussianMixture, double_well, polygon_blobs
from minigen.mcmc.langevin import annealed_langevin, langevin, mala

S2 = 2.0                                                       # target N(0, S2 I)
M = 20000


def log_gauss(x):
    return -0.5 * xp.sum(x ** 2, axis=1) / S2


def score_gauss(x):
    return -x / S2


def ula_variance(h, s2=S2, sigma=math.sqrt(2.0)):
    return sigma ** 2 * s2 / (2.0 * (1.0 - h / (2.0 * s2)))


def final_var(res):
    return float(np.var(backend.to_numpy(res.final)))         # pooled over chains and coordinates


def test_ula_stationary_variance_has_the_closed_form_bias():
    h = 1.0                                                     # large step: v = 2 / (1 - 1/4) = 8/3
    res = langevin(score_gauss, np.zeros((M, 1)), 60, h, backend.rng(0), thin=60)
    v = ula_variance(h)
    assert abs(final_var(res) - v) < 5 * v * math.sqrt(2 / M)
    assert abs(v - S2) > 10 * v * math.sqrt(2 / M)              # the bias is resolved by this test


def test_mala_removes_the_bias():
    h = 1.0
    res = mala(log_gauss, score_gauss, np.zeros((M, 1)), 150, h, backend.rng(1), thin=150)
    assert abs(final_var(res) - S2) < 5 * S2 * math.sqrt(2 / M)
    a = backend.to_numpy(res.accept_rate)
    assert a.shape == (M,) and 0.5 < a.mean() < 1.0


@pytest.mark.parametrize("beta, sigma", [(0.25, None), (1.0, 1.0), (1.0, 3.0)])
def test_noise_level_sets_the_temperature(beta, sigma):
    # Eq. (118): sigma = sqrt(2/beta) samples pi^beta = N(0, S2 / beta); any other sigma samples 2/sigma^2 instead
    h = 0.05
    res = langevin(score_gauss, np.zeros((M, 1)), 200, h, backend.rng(2), beta=beta, sigma=sigma, thin=200)
    sig = math.sqrt(2.0 / beta) if sigma is None else sigma
    v = ula_variance(h, S2, sig)
    assert abs(final_var(res) - v) < 5 * v * math.sqrt(2 / M)
    if sigma is not None:
        v_wanted = ula_variance(h, S2 / beta)                   # what the temperature beta would give
        assert abs(v - v_wanted) > 10 * v * math.sqrt(2 / M)


def test_annealed_langevin_follows_the_exact_variance_recursion():
    # Eq. (121)-(122) on N(0, S2): v_{k+1} = (1 - h/S2)^2 v_k + 2 h / beta_k, from v_0 = 0 (exact for this chain).
    betas = np.concatenate([np.geomspace(0.01, 1.0, 50), np.ones(150)])
    h = 0.05
    res = annealed_langevin(score_gauss, np.zeros((M, 1)), betas, h, backend.rng(3), thin=50)
    assert res.samples.shape == (4, M, 1)
    v, exact = 0.0, []
    for b in betas:
        v = (1 - h / S2) ** 2 * v + 2 * h / b
        exact.append(v)
    for j in range(4):
        v = exact[50 * (j + 1) - 1]
        got = float(np.var(backend.to_numpy(res.samples[j])))
        assert abs(got - v) < 5 * v * math.sqrt(2 / M), (j, got, v)
    assert exact[49] > 5 * S2 and abs(exact[-1] - ula_variance(h)) < 0.01   # hot after 50 steps, cooled at the end


def test_one_score_call_per_step_and_mala_caches():
    calls = {"lp": 0, "s": 0}

    def lp(x):
        calls["lp"] += 1
        return log_gauss(x)

    def sc(x):
        calls["s"] += 1
        return score_gauss(x)
    mala(lp, sc, np.zeros((4, 2)), 9, 0.1, backend.rng(0))
    assert calls == {"lp": 10, "s": 10}
    calls["s"] = 0
    langevin(sc, np.zeros((4, 2)), 9, 0.1, backend.rng(0))
    assert calls["s"] == 10


def test_gibbs_score_is_the_closed_form_gradient_of_the_double_well():
    x = backend.rng(4).standard_normal((50, 3))
    beta, barrier, tilt = 2.5, 1.0, 0.3
    g = Gibbs(double_well, beta)
    xn = backend.to_numpy(x)
    # U = b (x1^2 - 1)^2 + t x1 + |x_rest|^2 / 2  =>  grad U = (4 b x1 (x1^2 - 1) + t, x_rest)
    grad_u = np.concatenate([4 * barrier * xn[:, :1] * (xn[:, :1] ** 2 - 1) + tilt, xn[:, 1:]], axis=1)
    np.testing.assert_allclose(backend.to_numpy(g.score(x)), -beta * grad_u, rtol=1e-12, atol=1e-12)


def test_mixture_score_equals_autograd_gradient_of_log_prob():
    gm = GaussianMixture([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]], [0.3, 0.7, 1.1], [0.2, 0.5, 0.3])
    x = backend.rng(5).standard_normal((40, 2)) * 2
    auto = autograd.grad(lambda z: xp.sum(gm.log_prob(z)))(x)
    np.testing.assert_allclose(backend.to_numpy(gm.score(x)), backend.to_numpy(auto), rtol=1e-9, atol=1e-12)
    blobs = polygon_blobs(8)
    auto = autograd.grad(lambda z: xp.sum(blobs.log_prob(z)))(x)
    np.testing.assert_allclose(backend.to_numpy(blobs.score(x)), backend.to_numpy(auto), rtol=1e-9, atol=1e-9)


BAD = [
    (dict(x0=np.zeros(3)), "x0"),
    (dict(step_size=0.0), "step_size"),
    (dict(step_size=-0.1), "step_size"),
    (dict(n_steps=0), "n_steps"),
    (dict(thin=11), "thin"),
    (dict(score=lambda x: xp.zeros(x.shape[0])), "score"),
    (dict(score=lambda x: x * float("nan")), "score"),
]


@pytest.mark.parametrize("kwargs, name", BAD + [(dict(beta=0.0), "beta"), (dict(sigma=-1.0), "sigma")])
def test_bad_input_langevin(kwargs, name):
    args = dict(score=score_gauss, x0=np.ones((3, 2)), n_steps=10, step_size=0.1, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        langevin(**args)


@pytest.mark.parametrize("kwargs, name", BAD + [(dict(log_prob=lambda x: xp.zeros((x.shape[0], 2))), "log_prob"),
                                                (dict(log_prob=lambda x: xp.full(x.shape[0], -math.inf)), "log_prob")])
def test_bad_input_mala(kwargs, name):
    args = dict(log_prob=log_gauss, score=score_gauss, x0=np.ones((3, 2)), n_steps=10, step_size=0.1,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        mala(**args)


@pytest.mark.parametrize("kwargs, name", [
    (dict(x0=np.zeros(3)), "x0"), (dict(step_size=0.0), "step_size"), (dict(betas=[]), "betas"),
    (dict(betas=[0.5, 0.0]), "betas"), (dict(betas=[0.5, 1.5]), "betas"), (dict(betas=0.5), "betas"),
    (dict(thin=4), "thin"), (dict(score=lambda x: x[:, :1]), "score")])
def test_bad_input_annealed(kwargs, name):
    args = dict(score=score_gauss, x0=np.ones((3, 2)), betas=[0.1, 0.5, 1.0], step_size=0.1, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        annealed_langevin(**args)
