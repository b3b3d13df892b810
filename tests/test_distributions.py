"""Closed-form targets against independent computations (direct formulas, quadrature, moments)."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.distributions import GaussianMixture, Gibbs, double_well, polygon_blobs


def _direct_log_prob(x, means, stds, weights):
    """Mixture density by the textbook formula, looping over components (no shared code)."""
    d = x.shape[1]
    total = np.zeros(len(x))
    for mu, s, w in zip(means, stds, weights):
        total += w * np.exp(-np.sum((x - mu) ** 2, axis=1) / (2 * s * s)) / (2 * np.pi * s * s) ** (d / 2)
    return np.log(total)


@pytest.fixture
def mixture():
    means = np.array([[0.0, 0.0], [2.0, 1.0], [-1.5, 2.5]])
    return GaussianMixture(means, np.array([0.5, 0.3, 0.8]), np.array([0.2, 0.5, 0.3]))


def test_log_prob_matches_direct_formula(mixture):
    x = np.random.default_rng(0).normal(size=(50, 2)) * 2
    direct = _direct_log_prob(x, backend.to_numpy(mixture.means), [0.5, 0.3, 0.8], [0.2, 0.5, 0.3])
    np.testing.assert_allclose(backend.to_numpy(mixture.log_prob(x)), direct, rtol=1e-12, atol=1e-12)


def test_log_prob_is_stable_far_from_the_modes(mixture):
    lp = backend.to_numpy(mixture.log_prob(np.array([[60.0, -80.0]])))
    assert np.isfinite(lp).all() and lp[0] < -1e3


def test_density_integrates_to_one(mixture):
    # Riemann sum on a fine grid covering all components by > 8 std
    g = np.linspace(-10, 10, 801)
    X, Y = np.meshgrid(g, g)
    p = np.exp(backend.to_numpy(mixture.log_prob(np.stack([X.ravel(), Y.ravel()], 1))))
    assert abs(p.sum() * (g[1] - g[0]) ** 2 - 1.0) < 1e-6


def test_score_matches_finite_differences(mixture):
    x = np.random.default_rng(1).normal(size=(20, 2))
    eps = 1e-6
    fd = np.stack([(backend.to_numpy(mixture.log_prob(x + eps * e)) - backend.to_numpy(mixture.log_prob(x - eps * e)))
                   / (2 * eps) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(backend.to_numpy(mixture.score(x)), fd, rtol=1e-6, atol=1e-6)


def test_sample_moments_and_weights(mixture):
    n = 200_000
    x = backend.to_numpy(mixture.sample(n, backend.rng(2)))
    w, mu, s = np.array([0.2, 0.5, 0.3]), backend.to_numpy(mixture.means), np.array([0.5, 0.3, 0.8])
    mean = w @ mu
    second = sum(wk * (np.outer(m, m) + sk ** 2 * np.eye(2)) for wk, m, sk in zip(w, mu, s))
    cov = second - np.outer(mean, mean)
    # 5 standard errors of a sample mean: 5 sqrt(var / n)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(np.diag(cov) / n))
    # sample covariance: SE of a variance ~ sqrt(2/n) var for near-Gaussian marginals; 4th moments of a
    # mixture are larger, so allow 5 * sqrt(3/n) * var
    assert np.all(np.abs(np.cov(x.T) - cov) < 5 * np.sqrt(3.0 / n) * np.sqrt(np.outer(np.diag(cov), np.diag(cov))))


def test_polygon_blobs_geometry():
    g = polygon_blobs(8, 2.0, 0.2)
    means = backend.to_numpy(g.means)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 2.0)
    np.testing.assert_allclose(means[0], [2.0, 0.0], atol=1e-15)
    sides = np.linalg.norm(np.roll(means, 1, axis=0) - means, axis=1)
    np.testing.assert_allclose(sides, 2 * 2.0 * np.sin(np.pi / 8))       # chord of angle 2 pi / 8
    np.testing.assert_allclose(backend.to_numpy(g.weights), 1 / 8)


def test_ou_marginal_closed_form_for_a_point_mass():
    # a component of std s evolves with variance e^{-2t} s^2 + 1 - e^{-2t} (kappa=1, sigma=sqrt 2)
    g = GaussianMixture(np.array([[3.0, -1.0]]), 0.5).ou_marginal(0.7)
    np.testing.assert_allclose(backend.to_numpy(g.means), [[3.0 * math.exp(-0.7), -math.exp(-0.7)]])
    np.testing.assert_allclose(backend.to_numpy(g.stds) ** 2, math.exp(-1.4) * 0.25 + 1 - math.exp(-1.4))


def test_posterior_mean_matches_quadrature():
    # E[x | y] = int x p(x) N(y; x, sigma^2) dx / int p(x) N(y; x, sigma^2) dx on a grid (1D mixture)
    g = GaussianMixture(np.array([[-1.0], [1.5]]), np.array([0.3, 0.6]), np.array([0.4, 0.6]))
    sigma, ys = 0.5, np.array([[-2.0], [0.1], [0.9], [3.0]])
    grid = np.linspace(-8, 8, 20001)
    px = np.exp(backend.to_numpy(g.log_prob(grid[:, None])))
    expected = [np.sum(grid * px * np.exp(-(y - grid) ** 2 / (2 * sigma ** 2))) /
                np.sum(px * np.exp(-(y - grid) ** 2 / (2 * sigma ** 2))) for y in ys[:, 0]]
    np.testing.assert_allclose(backend.to_numpy(g.posterior_mean(ys, sigma))[:, 0], expected, rtol=1e-8, atol=1e-8)


def test_entropy_of_a_single_gaussian():
    # H[N(0, s^2 I_2)] = log(2 pi e s^2); the estimate comes with its SE
    h, se = GaussianMixture(np.zeros((1, 2)), 0.7).entropy(backend.rng(3), 100_000)
    assert abs(h - math.log(2 * math.pi * math.e * 0.49)) < 5 * se


def test_gibbs_double_well():
    x = np.array([[-1.0, 0.3], [0.0, 0.0], [0.8, -2.0]])
    p = Gibbs(double_well, beta=2.0)
    u = 1.0 * (x[:, 0] ** 2 - 1) ** 2 + 0.3 * x[:, 0] + 0.5 * x[:, 1] ** 2
    np.testing.assert_allclose(backend.to_numpy(p.log_prob(x)), -2.0 * u)
    grad_u = np.stack([4 * x[:, 0] * (x[:, 0] ** 2 - 1) + 0.3, x[:, 1]], axis=1)
    np.testing.assert_allclose(backend.to_numpy(p.score(x)), -2.0 * grad_u, rtol=1e-12, atol=1e-12)
    # the left well is the deeper one
    assert float(double_well(np.array([[-1.0]]))[0]) < float(double_well(np.array([[1.0]]))[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(means=np.zeros(3), stds=1.0), "means"),
    (dict(means=np.zeros((2, 2)), stds=-1.0), "stds"),
    (dict(means=np.zeros((2, 2)), stds=np.ones(3)), "stds"),
    (dict(means=np.zeros((2, 2)), stds=1.0, weights=[0.7, 0.7]), "weights"),
])
def test_bad_mixture_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs)


def test_bad_points_and_parameters():
    g = polygon_blobs()
    with pytest.raises(ValueError, match="x"):
        g.log_prob(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="sigma"):
        g.posterior_mean(np.zeros((4, 2)), 0.0)
    with pytest.raises(ValueError, match="beta"):
        Gibbs(double_well, beta=0.0)
    with pytest.raises(ValueError, match="n_modes"):
        polygon_blobs(0)
