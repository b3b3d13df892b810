"""Ornstein-Uhlenbeck forward noising against Th. 8 (Eq. 124, 126) and the mixture marginal of Eq. (130)."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.distributions import GaussianMixture
from minigen.diffusion.ornstein_uhlenbeck import ou_paths, ou_sample


def _moments(x):
    x = backend.to_numpy(x)
    return x.mean(axis=0), x.var(axis=0, ddof=1), len(x)


def _assert_gaussian_moments(x, mean, var, extra_tol=0.0):
    """Mean within 5 SE (SE = sqrt(var / n)); variance within 5 SE (SE of s^2 for Gaussian data: var sqrt(2 / (n - 1)))."""
    m, v, n = _moments(x)
    assert np.all(np.abs(m - mean) < 5 * np.sqrt(var / n) + extra_tol), (m, mean)
    assert np.all(np.abs(v - var) < 5 * var * math.sqrt(2 / (n - 1)) + extra_tol), (v, var)


@pytest.mark.parametrize("kappa,sigma,t", [(1.0, math.sqrt(2.0), 0.3), (0.1, 0.2, 5.0), (2.5, 0.7, 0.05)])
def test_ou_sample_has_the_moments_of_eq_124(kappa, sigma, t):
    x0 = np.tile([[1.5, -2.0]], (100_000, 1))
    x = ou_sample(x0, t, backend.rng(0), kappa, sigma)
    _assert_gaussian_moments(x, math.exp(-kappa * t) * x0[0], sigma ** 2 * (1 - math.exp(-2 * kappa * t)) / (2 * kappa))


def test_ou_sample_forgets_the_initial_condition():
    # stationary law N(0, sigma^2 / (2 kappa)): two very different starts give the same moments at large t
    kappa, sigma = 0.5, 1.2
    for start in ([[8.0, -8.0]], [[0.0, 0.0]]):
        x = ou_sample(np.tile(start, (100_000, 1)), 40.0, backend.rng(1), kappa, sigma)
        _assert_gaussian_moments(x, np.zeros(2), sigma ** 2 / (2 * kappa))


def test_ou_paths_reproduce_the_exact_moments_on_a_nonuniform_grid():
    # Euler-Maruyama with the noise sigma sqrt(h): compared with the continuous law of Eq. (124) at every
    # time; the O(h) bias of the scheme (h <= 0.01) is below 1% of the variance, hence extra_tol.
    kappa, sigma, n = 1.0, math.sqrt(2.0), 20_000
    times = np.concatenate([np.linspace(0.0, 0.5, 101), np.linspace(0.51, 1.5, 100)])
    x0 = np.tile([[2.0, -1.0]], (n, 1))
    paths = ou_paths(x0, times, backend.rng(2), kappa, sigma)
    assert paths.shape == (len(times), n, 2)
    np.testing.assert_array_equal(backend.to_numpy(paths[0]), x0)
    for k in (50, 120, len(times) - 1):
        t = times[k]
        var = sigma ** 2 * (1 - math.exp(-2 * kappa * t)) / (2 * kappa)
        _assert_gaussian_moments(paths[k], math.exp(-kappa * t) * x0[0], var, extra_tol=0.01 * var + 0.01)


def test_ou_paths_stationary_variance():
    # a long run started at 0: the time average over the second half is N(0, sigma^2 / (2 kappa)).
    # The last slice alone (independent chains) gives the 5-SE tolerance; EM bias with h = 0.02 is ~ kappa h / 2 = 1%.
    kappa, sigma = 2.0, 0.5
    paths = ou_paths(np.zeros((20_000, 1)), np.linspace(0, 10, 501), backend.rng(3), kappa, sigma)
    var = sigma ** 2 / (2 * kappa)
    _assert_gaussian_moments(paths[-1], np.zeros(1), var, extra_tol=0.02 * var)


def test_ou_marginal_matches_monte_carlo_of_the_forward_process():
    means = np.array([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]])
    weights = np.array([0.2, 0.5, 0.3])
    mix = GaussianMixture(means, np.array([0.3, 0.5, 0.2]), weights)
    n = 100_000
    for t in (0.2, 1.0):
        x_t = backend.to_numpy(ou_sample(mix.sample(n, backend.rng(4)), t, backend.rng(5)))
        marg = mix.ou_marginal(t)
        mu, s = backend.to_numpy(marg.means), backend.to_numpy(marg.stds)
        # closed-form mixture moments: E x = sum w mu, E x^2 = sum w (mu^2 + s^2); SE from the sample std
        ex = weights @ mu
        ex2 = weights @ (mu ** 2 + s[:, None] ** 2)
        se1 = x_t.std(axis=0) / math.sqrt(n)
        se2 = (x_t ** 2).std(axis=0) / math.sqrt(n)
        assert np.all(np.abs(x_t.mean(axis=0) - ex) < 5 * se1)
        assert np.all(np.abs((x_t ** 2).mean(axis=0) - ex2) < 5 * se2)
        # mode occupancy: if x_t follows the marginal, E[P(k | x_t)] = w_k exactly; SE = std(r_k) / sqrt(n)
        r = backend.to_numpy(marg.responsibilities(x_t))
        assert np.all(np.abs(r.mean(axis=0) - weights) < 5 * r.std(axis=0) / math.sqrt(n))
        # and the wrong time fails: the law at t / 2 is visibly different (sanity of the test's power)
        r_wrong = backend.to_numpy(mix.ou_marginal(t / 2).log_prob(x_t)).mean()
        assert r_wrong < backend.to_numpy(marg.log_prob(x_t)).mean() - 0.01


def test_bad_inputs_raise():
    x0 = np.zeros((3, 2))
    with pytest.raises(ValueError, match="times"):
        ou_paths(x0, [0.0, 0.5, 0.3], backend.rng(0))
    with pytest.raises(ValueError, match="times"):
        ou_paths(x0, [-1.0, 0.5], backend.rng(0))
    with pytest.raises(ValueError, match="sigma"):
        ou_paths(x0, [0.0, 0.5], backend.rng(0), sigma=0.0)
    with pytest.raises(ValueError, match="kappa"):
        ou_sample(x0, 1.0, backend.rng(0), kappa=-1.0)
    with pytest.raises(ValueError, match="t must"):
        ou_sample(x0, -0.1, backend.rng(0))
    with pytest.raises(ValueError, match="x0"):
        ou_sample(np.zeros(3), 1.0, backend.rng(0))
