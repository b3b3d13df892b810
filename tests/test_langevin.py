"""Langevin samplers (Eq. 117-122) against closed forms of the discretized chain, and their scores.

ULA on N(0, s^2): x' = (1 - h/s^2) x + sigma sqrt(h) z is a Gaussian AR(1) chain whose stationary
variance solves v = (1 - h/s^2)^2 v + sigma^2 h, i.e. v = sigma^2 s^2 / (2 (1 - h / (2 s^2)))
(= s^2 / (1 - h/(2 s^2)) for sigma = sqrt(2)); it is stable only for h < 2 s^2 (= 2 / L).
Statistical checks read one state per independent chain: SE of a variance v is v sqrt(2 / m)
(Gaussian law); tolerances are 5 SE.
"""
import importlib
import math

import autograd
import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.distributions import Gibbs, GaussianMixture, double_well, polygon_blobs
from minigen.mcmc.langevin import annealed_langevin, langevin, mala

# the module (minigen.check binds the name langevin to the exercise's checker)
check_langevin = importlib.import_module("minigen.check.langevin")

S2 = 2.0                                                       # target N(0, S2 I)
M = 20000


def log_gauss(x):
    return -0.5 * xp.sum(x ** 2, axis=1) / S2


def score_gauss(x):
    return -x / S2


def ula_variance(h, s2=S2, sigma=math.sqrt(2.0)):
    """ULA's stationary variance on N(0, s2), the oracle of minigen.check.langevin."""
    return check_langevin.ula_variance(h, s2, sigma)


def final_var(res):
    return float(np.var(backend.to_numpy(res.final)))         # pooled over chains and coordinates


def test_ula_stationary_variance_has_the_closed_form_bias():
    h = 1.0                                             # large step: v = 2 / (1 - 1/4) = 8/3
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
    # Eq. (118): sigma = sqrt(2/beta) samples pi^beta = N(0, S2 / beta); any other sigma samples
    # pi^(2 / sigma^2) instead
    h = 0.05
    res = langevin(score_gauss, np.zeros((M, 1)), 200, h, backend.rng(2), beta=beta, sigma=sigma,
                   thin=200)
    sig = math.sqrt(2.0 / beta) if sigma is None else sigma
    v = ula_variance(h, S2, sig)
    assert abs(final_var(res) - v) < 5 * v * math.sqrt(2 / M)
    if sigma is not None:
        # what the temperature beta would give
        v_wanted = ula_variance(h, S2 / beta)
        assert abs(v - v_wanted) > 10 * v * math.sqrt(2 / M)


def test_annealed_langevin_follows_the_exact_variance_recursion():
    # Eq. (121)-(122) on N(0, S2): v_{k+1} = (1 - h/S2)^2 v_k + 2 h / beta_k, from v_0 = 0
    # (exact for this chain).
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
    # hot after 50 steps, cooled at the end
    assert exact[49] > 5 * S2 and abs(exact[-1] - ula_variance(h)) < 0.01


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
    grad_u = np.concatenate([4 * barrier * xn[:, :1] * (xn[:, :1] ** 2 - 1) + tilt, xn[:, 1:]],
                            axis=1)
    np.testing.assert_allclose(backend.to_numpy(g.score(x)), -beta * grad_u, rtol=1e-12,
                               atol=1e-12)


def test_mixture_score_equals_autograd_gradient_of_log_prob():
    gm = GaussianMixture([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]], [0.3, 0.7, 1.1], [0.2, 0.5, 0.3])
    x = backend.rng(5).standard_normal((40, 2)) * 2
    auto = autograd.grad(lambda z: xp.sum(gm.log_prob(z)))(x)
    np.testing.assert_allclose(backend.to_numpy(gm.score(x)), backend.to_numpy(auto), rtol=1e-9,
                               atol=1e-12)
    blobs = polygon_blobs(8)
    auto = autograd.grad(lambda z: xp.sum(blobs.log_prob(z)))(x)
    np.testing.assert_allclose(backend.to_numpy(blobs.score(x)), backend.to_numpy(auto),
                               rtol=1e-9, atol=1e-9)


# --- no silent NaN: the stability limit h < 2 / L of Eq. (122) ----------------------------------

DIVERGES = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                                      "ignore:invalid value encountered:RuntimeWarning")


@DIVERGES
@pytest.mark.parametrize("s2", [1.0, 4.0])
def test_ula_is_stable_below_2_over_L_and_raises_past_it(s2):
    # On N(0, s2): x' = (1 - h / s2) x + sqrt(2 h) z, L = 1 / s2. At h = 1.9 s2 the factor is -0.9:
    # stable, with the closed-form variance; at h = 2.5 s2 it is -1.5: |x| ~ 1.5^k overflows
    # (1.5^k = 1e308 at k ~ 1750), and the error names the step, the chains and the limit.
    def score(x):
        return -x / s2
    m = 4000
    res = langevin(score, np.zeros((m, 1)), 300, 1.9 * s2, backend.rng(6), thin=300)
    v = ula_variance(1.9 * s2, s2)                                               # = 20 s2
    assert abs(final_var(res) - v) < 5 * v * math.sqrt(2 / m)
    with pytest.raises(FloatingPointError, match=r"langevin: at step (\d+), \d of 5 chains became "
                       r"NaN or inf after growing .* stability limit ~2/L .*step_size=" +
                       f"{2.5 * s2:g}") as err:
        langevin(score, np.ones((5, 1)), 5000, 2.5 * s2, backend.rng(7))
    step = int(err.value.args[0].split("at step ")[1].split(",")[0])
    assert 1600 < step < 1800, step


@DIVERGES
def test_ula_step_10_on_a_standard_gaussian_names_the_step():
    # the example of the issue: |1 - h| = 9, 9^k = 1e308 at k ~ 323
    with pytest.raises(FloatingPointError, match=r"at step 3[0-3]\d, \d of 5 chains") as err:
        langevin(lambda x: -x, np.ones((5, 2)), 1000, 10.0, backend.rng(0))
    assert "step_size=10" in str(err.value)
    with pytest.raises(FloatingPointError, match=r"annealed_langevin: at step 3[0-3]\d"):
        annealed_langevin(lambda x: -x, np.ones((5, 2)), np.ones(1000), 10.0, backend.rng(0))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_huge_but_finite_states_are_not_an_error():
    # the guard is a sum, which overflows here while every state is finite: the exact count of
    # non-finite chains (zero) lets the run go on
    x0 = np.full((100, 1), 1e307)
    res = langevin(lambda x: 0.0 * x, x0, 3, 0.1, backend.rng(0))
    assert np.all(np.isfinite(backend.to_numpy(res.samples)))


def test_a_nan_score_at_ordinary_points_is_named_as_such():
    calls = [0]

    def score(x):                              # NaN at chain 1 on the 4th call (step 3)
        calls[0] += 1
        return xp.where((xp.arange(x.shape[0]) == 1)[:, None] & (calls[0] == 4), math.nan, -x)
    with pytest.raises(FloatingPointError, match=r"at step 3, 1 of 4 chains .* score returned"):
        langevin(score, np.zeros((4, 2)), 10, 0.1, backend.rng(0))


def nan_at(f, call, chain=0):
    """f, except that its call-th call returns NaN at one chain (call 1 is x0, j + 1 step j)."""
    calls = [0]

    def g(x):
        calls[0] += 1
        out = f(x)
        if calls[0] != call:
            return out
        row = xp.arange(x.shape[0]) == chain
        return xp.where(row if out.ndim == 1 else row[:, None], math.nan, out)
    return g


@pytest.mark.parametrize("lp, sc, message", [
    (nan_at(log_gauss, 3), score_gauss, r"mala: at step 2, 1 of 4 chains .* returned NaN at 1"),
    (log_gauss, nan_at(score_gauss, 3), r"mala: at step 2, 1 of 4 chains .* score is NaN .* 1"),
])
def test_mala_raises_on_a_nan_acceptance_ratio(lp, sc, message):
    with pytest.raises(FloatingPointError, match=message):
        mala(lp, sc, np.zeros((4, 2)), 10, 0.1, backend.rng(0))


# --- bad input ----------------------------------------------------------------------------------

GM = polygon_blobs(4, 2.0, 0.5)
BAD = [
    (dict(x0=np.zeros(3)), ValueError, "x0"),
    (dict(x0=np.full((3, 2), math.inf)), ValueError, "x0"),
    (dict(step_size=0.0), ValueError, "step_size"),
    (dict(step_size=-0.1), ValueError, "step_size"),
    (dict(step_size=math.nan), ValueError, "step_size"),
    (dict(step_size="0.1"), ValueError, "step_size"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(n_steps=2.5), ValueError, "n_steps"),
    (dict(thin=11), ValueError, "thin"),
    (dict(thin=0.5), ValueError, "thin"),
    (dict(rng=0), TypeError, r"rng=minigen.backend.rng\(0\)"),
    (dict(progress="yes"), ValueError, "progress"),
    (dict(score=GM), TypeError, "score=target.score"),
    (dict(score=lambda x: xp.zeros(x.shape[0])), ValueError, "score"),
    (dict(score=lambda x: x * math.nan), ValueError, "score"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD + [
    (dict(beta=0.0), ValueError, "beta"), (dict(beta=math.nan), ValueError, "beta"),
    (dict(sigma=-1.0), ValueError, "sigma"), (dict(sigma=math.inf), ValueError, "sigma")])
def test_bad_input_langevin(kwargs, error, name):
    args = dict(score=score_gauss, x0=np.ones((3, 2)), n_steps=10, step_size=0.1,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        langevin(**args)


@pytest.mark.parametrize("kwargs, error, name", BAD + [
    (dict(log_prob=GM), TypeError, "log_prob=target.log_prob"),
    (dict(log_prob=lambda x: xp.zeros((x.shape[0], 2))), ValueError, "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], -math.inf)), ValueError, "log_prob")])
def test_bad_input_mala(kwargs, error, name):
    args = dict(log_prob=log_gauss, score=score_gauss, x0=np.ones((3, 2)), n_steps=10,
                step_size=0.1, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        mala(**args)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(x0=np.zeros(3)), ValueError, "x0"), (dict(step_size=0.0), ValueError, "step_size"),
    (dict(betas=[]), ValueError, "betas"), (dict(betas=[0.5, 0.0]), ValueError, r"betas\[1\]"),
    (dict(betas=[0.5, 1.5]), ValueError, r"betas\[1\]=1.5"),
    (dict(betas=[0.1, math.nan]), ValueError, r"betas\[1\]=nan"),
    (dict(betas=0.5), ValueError, "scalar betas=0.5"),
    (dict(betas=[[0.1, 1.0]]), ValueError, "betas"), (dict(betas="hot"), TypeError, "betas"),
    (dict(thin=4), ValueError, "thin"), (dict(rng=1), TypeError, "rng"),
    (dict(score=GM), TypeError, "score=target.score"),
    (dict(score=lambda x: x[:, :1]), ValueError, "score")])
def test_bad_input_annealed(kwargs, error, name):
    args = dict(score=score_gauss, x0=np.ones((3, 2)), betas=[0.1, 0.5, 1.0], step_size=0.1,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        annealed_langevin(**args)


def test_hyperparameters_are_keyword_only():
    with pytest.raises(TypeError):
        langevin(score_gauss, np.ones((3, 2)), 10, 0.1, backend.rng(0), 1.0)
    with pytest.raises(TypeError):
        mala(log_gauss, score_gauss, np.ones((3, 2)), 10, 0.1, backend.rng(0), 2)
