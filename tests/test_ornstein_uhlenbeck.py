"""Ornstein-Uhlenbeck forward noising against Th. 8 (Eq. 124, 126), the exact law of the
Euler-Maruyama chain, and the mixture marginal of Eq. (130), each at several (kappa, sigma)."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.check.ornstein_uhlenbeck import ou_law, sample_moments
from minigen.distributions import GaussianMixture
from minigen.diffusion.ornstein_uhlenbeck import ou_mean_std, ou_paths, ou_sample

R = backend.rng
# (kappa, sigma): the normalized defaults of Eq. (128) and two others, so that a formula that
# ignores kappa or sigma (or uses the defaults) fails
COEFFS = [(1.0, math.sqrt(2.0)), (0.4, 0.7), (2.5, 1.6)]


def _assert_gaussian_moments(x, mean, var):
    """x (n, d) against N(mean, var Id), with the moments and SEs of the check's sample_moments:
    mean within 5 SE, SE = sqrt(var / n) (the true var, not the check's max(var, s^2)); variance
    within 5 SE, the SE of s^2 being var sqrt(2 / (n - 1)) for Gaussian data; for d >= 2 the
    correlation of coordinates 1 and 2 within 5 SE = 5 / sqrt(n) of 0."""
    x = backend.to_numpy(x)
    n = len(x)
    (m, _), (log_s2, se_log_s2), (corr, se_corr) = sample_moments(x, var)
    v = np.exp(log_s2)
    assert np.all(np.abs(m - mean) < 5 * np.sqrt(var / n)), (m, mean)
    assert np.all(np.abs(v - var) < 5 * var * se_log_s2), (v, var)
    assert np.all(np.abs(corr) < 5 * se_corr), corr


@pytest.mark.parametrize("kappa,sigma,t", [(1.0, math.sqrt(2.0), 0.3), (0.1, 0.2, 5.0),
                                           (2.5, 0.7, 0.05), (0.5, 3.0, 1.0)])
def test_ou_sample_has_the_moments_of_eq_124(kappa, sigma, t):
    x0 = np.tile([[1.5, -2.0]], (100_000, 1))
    x = ou_sample(x0, t, R(0), kappa=kappa, sigma=sigma)
    decay, var = ou_law(t, kappa, sigma)
    _assert_gaussian_moments(x, decay * x0[0], var)
    assert ou_mean_std(t, kappa=kappa, sigma=sigma) == pytest.approx((decay, math.sqrt(var)),
                                                                      rel=1e-12)


def test_ou_sample_forgets_the_initial_condition():
    # stationary law N(0, sigma^2 / (2 kappa)): very different starts, the same moments at large t
    kappa, sigma = 0.5, 1.2
    for start in ([[8.0, -8.0]], [[0.0, 0.0]]):
        x = ou_sample(np.tile(start, (100_000, 1)), 40.0, R(1), kappa=kappa, sigma=sigma)
        _assert_gaussian_moments(x, np.zeros(2), sigma ** 2 / (2 * kappa))


def _euler_law(times, x0, kappa, sigma):
    """The exact law of the Euler-Maruyama chain, by its moment recursion (not by the code):
    m <- (1 - kappa h) m, v <- (1 - kappa h)^2 v + sigma^2 h. Returns [(m_k, v_k)]."""
    m, v, law = np.asarray(x0, float), 0.0, []
    for k in range(len(times)):
        law.append((m, v))
        if k + 1 < len(times):
            a = 1 - kappa * (times[k + 1] - times[k])
            m, v = a * m, a * a * v + sigma ** 2 * (times[k + 1] - times[k])
    return law


@pytest.mark.parametrize("kappa,sigma", COEFFS)
def test_ou_paths_have_the_law_of_the_euler_chain_on_a_nonuniform_grid(kappa, sigma):
    # against the Euler chain's exact moments (5 SE, no bias term), and that law against the
    # continuous one of Eq. (124): relative gap O(kappa^2 h t), below 6% for h <= 0.02
    n = 20_000
    times = np.concatenate([np.linspace(0.0, 0.5, 51), np.linspace(0.51, 1.5, 100)])
    x0 = np.tile([[2.0, -1.0]], (n, 1))
    paths = ou_paths(x0, times, R(2), kappa=kappa, sigma=sigma)
    assert paths.shape == (len(times), n, 2)
    np.testing.assert_array_equal(backend.to_numpy(paths[0]), x0)
    law = _euler_law(times, x0[0], kappa, sigma)
    for k in (1, 50, 120, len(times) - 1):
        _assert_gaussian_moments(paths[k], *law[k])
        decay, var = ou_law(times[k], kappa, sigma)
        np.testing.assert_allclose(law[k][0], decay * x0[0], rtol=0.06)
        assert law[k][1] == pytest.approx(var, rel=0.06)


@pytest.mark.parametrize("kappa,sigma", [(2.0, 0.5), (0.5, 1.5)])
def test_ou_paths_stationary_variance(kappa, sigma):
    # a long run started at 0 reaches the chain's stationary variance
    # sigma^2 / (kappa (2 - kappa h)) (the fixed point of the recursion above): 5 SE on
    # independent chains, no bias term
    times = np.linspace(0, 20 / kappa, 401)
    h = times[1]
    paths = ou_paths(np.zeros((20_000, 1)), times, R(3), kappa=kappa, sigma=sigma)
    _assert_gaussian_moments(paths[-1], np.zeros(1), sigma ** 2 / (kappa * (2 - kappa * h)))


def test_ou_paths_refuse_a_grid_past_the_stability_limit():
    x0 = np.ones((4, 1))
    assert np.isfinite(backend.to_numpy(ou_paths(x0, np.arange(0, 40.0, 0.95), R(0),
                                                 kappa=2.0))).all()         # kappa h = 1.9 < 2
    with pytest.raises(ValueError, match="times.*stability limit 2 / kappa = 1"):
        ou_paths(x0, np.arange(0, 40.0, 1.0), R(0), kappa=2.0)


MEANS = np.array([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]])
WEIGHTS = np.array([0.2, 0.5, 0.3])
STDS = np.array([0.3, 0.5, 0.2])
MIX = GaussianMixture(MEANS, STDS, WEIGHTS)


@pytest.mark.parametrize("kappa,sigma", COEFFS)
def test_ou_marginal_is_the_closed_form_mixture_of_eq_130(kappa, sigma):
    for t in (0.0, 0.2, 1.0):
        marg = MIX.ou_marginal(t, kappa=kappa, sigma=sigma)
        decay, var = ou_law(t, kappa, sigma)
        np.testing.assert_allclose(backend.to_numpy(marg.means), decay * MEANS, rtol=1e-12)
        stds = np.sqrt(decay ** 2 * STDS ** 2 + var)
        np.testing.assert_allclose(backend.to_numpy(marg.stds), stds, rtol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(marg.weights), WEIGHTS, rtol=1e-12)


def _follows(x_t, marg, weights):
    """Is x_t (n, d) a sample of the mixture marg? First two moments and the mode occupancy
    E[P(k | x_t)] = w_k, each within 5 SE (SE from the sample std of the quantity)."""
    n = len(x_t)
    mu, s = backend.to_numpy(marg.means), backend.to_numpy(marg.stds)
    r = backend.to_numpy(marg.responsibilities(x_t))
    checks = [(x_t, weights @ mu), (x_t ** 2, weights @ (mu ** 2 + s[:, None] ** 2)),
              (r, weights)]
    return all(np.all(np.abs(q.mean(axis=0) - e) < 5 * q.std(axis=0) / math.sqrt(n))
               for q, e in checks)


@pytest.mark.parametrize("kappa,sigma", COEFFS)
def test_ou_marginal_matches_monte_carlo_of_the_forward_process(kappa, sigma):
    # measured: the true law is within 1.5 SE on every statistic; the wrong ones >= 8.6 SE off
    n = 50_000
    x_0 = MIX.sample(n, R(4))
    for t in (0.2, 1.0):
        x_t = backend.to_numpy(ou_sample(x_0, t, R(5), kappa=kappa, sigma=sigma))
        assert _follows(x_t, MIX.ou_marginal(t, kappa=kappa, sigma=sigma), WEIGHTS)
        # the power of the check: the law at another time or other coefficients fails it
        for wt, wk, ws in ((t / 2, kappa, sigma), (t, 1.3 * kappa, sigma), (t, kappa, 1.3 * sigma)):
            assert not _follows(x_t, MIX.ou_marginal(wt, kappa=wk, sigma=ws), WEIGHTS), (wt, wk, ws)


X0 = np.zeros((3, 2))
BAD_CALLS = [
    (lambda: ou_sample(X0, -0.1, R(0)), ValueError, "t must"),
    (lambda: ou_sample(X0, math.nan, R(0)), ValueError, "t must"),
    (lambda: ou_sample(X0, math.inf, R(0)), ValueError, "t must"),
    (lambda: ou_sample(X0, "1", R(0)), ValueError, "t must"),
    (lambda: ou_sample(X0, np.array([1.0, 2.0]), R(0)), ValueError, "t must"),
    (lambda: ou_sample(X0, 1.0, R(0), kappa=-1.0), ValueError, "kappa"),
    (lambda: ou_sample(X0, 1.0, R(0), kappa=math.nan), ValueError, "kappa"),
    (lambda: ou_sample(X0, 1.0, R(0), kappa=math.inf), ValueError, "kappa"),
    (lambda: ou_sample(X0, 1.0, R(0), sigma=0.0), ValueError, "sigma"),
    (lambda: ou_sample(X0, 1.0, R(0), sigma=math.inf), ValueError, "sigma"),
    (lambda: ou_sample(X0, 1.0, 0), TypeError, r"rng.*minigen.backend.rng\(0\)"),
    (lambda: ou_sample(X0, 1.0, R(0), 2.0), TypeError, "positional"),
    (lambda: ou_sample(np.zeros(3), 1.0, R(0)), ValueError, "x0"),
    (lambda: ou_sample(np.full((2, 2), np.nan), 1.0, R(0)), ValueError, "x0"),
    (lambda: ou_mean_std(-1.0), ValueError, "t must"),
    (lambda: ou_paths(X0, [0.0, 0.5, 0.3], R(0)), ValueError, "times must be strictly incr"),
    (lambda: ou_paths(X0, [0.0, 0.5, 0.5], R(0)), ValueError, "times must be strictly incr"),
    (lambda: ou_paths(X0, [-1.0, 0.5], R(0)), ValueError, "times must be >= 0"),
    (lambda: ou_paths(X0, [0.0, math.nan], R(0)), ValueError, "times must be finite"),
    (lambda: ou_paths(X0, [0.0, math.inf], R(0)), ValueError, "times must be finite"),
    (lambda: ou_paths(X0, [0.5], R(0)), ValueError, "times must be a 1-D grid"),
    (lambda: ou_paths(X0, 1.0, R(0)), ValueError, "times must be a 1-D grid"),
    (lambda: ou_paths(X0, [[0.0, 1.0]], R(0)), ValueError, "times must be a 1-D grid"),
    (lambda: ou_paths(X0, "abc", R(0)), TypeError, "times"),
    (lambda: ou_paths(X0, [0.0, 0.5], 0), TypeError, "rng"),
    (lambda: ou_paths(X0, [0.0, 0.5], R(0), sigma=0.0), ValueError, "sigma"),
    (lambda: ou_paths(X0, [0.0, 0.5], R(0), kappa=math.nan), ValueError, "kappa"),
    (lambda: ou_paths(X0, [0.0, 0.5], R(0), kappa=1e308), ValueError, "times.*stability"),
    (lambda: ou_paths(np.zeros((0, 2)), [0.0, 0.5], R(0)), ValueError, "x0"),
]


@pytest.mark.parametrize("call,error,message", BAD_CALLS)
def test_bad_inputs_raise_errors_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()
