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
        sq = np.sum((x - mu) ** 2, axis=1)
        total += w * np.exp(-sq / (2 * s * s)) / (2 * np.pi * s * s) ** (d / 2)
    return np.log(total)


@pytest.fixture
def mixture():
    means = np.array([[0.0, 0.0], [2.0, 1.0], [-1.5, 2.5]])
    return GaussianMixture(means, np.array([0.5, 0.3, 0.8]), np.array([0.2, 0.5, 0.3]))


def test_log_prob_matches_direct_formula(mixture):
    x = np.random.default_rng(0).normal(size=(50, 2)) * 2
    direct = _direct_log_prob(x, backend.to_numpy(mixture.means), [0.5, 0.3, 0.8],
                              [0.2, 0.5, 0.3])
    np.testing.assert_allclose(backend.to_numpy(mixture.log_prob(x)), direct, rtol=1e-12,
                               atol=1e-12)


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
    def lp(z):
        return backend.to_numpy(mixture.log_prob(z))
    fd = np.stack([(lp(x + eps * e) - lp(x - eps * e)) / (2 * eps) for e in np.eye(2)], axis=1)
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
    # sample covariance: SE of a variance ~ sqrt(2/n) var for near-Gaussian marginals; 4th
    # moments of a mixture are larger, so allow 5 * sqrt(3/n) * var
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(np.cov(x.T) - cov) < 5 * np.sqrt(3.0 / n) * scale)


@pytest.mark.parametrize("n_modes, radius, std", [(8, 2.0, 0.2), (3, 0.5, 0.7), (1, 0.0, 1.3)])
def test_polygon_blobs_geometry(n_modes, radius, std):
    g = polygon_blobs(n_modes, radius, std)
    means = backend.to_numpy(g.means)
    assert means.shape == (n_modes, 2)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), radius, atol=1e-15)
    np.testing.assert_allclose(means[0], [radius, 0.0], atol=1e-15)
    if n_modes > 1:                                      # chord of angle 2 pi / n_modes
        sides = np.linalg.norm(np.roll(means, 1, axis=0) - means, axis=1)
        np.testing.assert_allclose(sides, 2 * radius * np.sin(np.pi / n_modes))
    np.testing.assert_allclose(backend.to_numpy(g.weights), 1 / n_modes)
    np.testing.assert_allclose(backend.to_numpy(g.stds), std)


def _ou_moments(mean, var, t, kappa, sigma, n=1000):
    """The moment ODEs of dX = -kappa X dt + sigma dW, dm/dt = -kappa m, dv/dt = -2 kappa v +
    sigma^2, integrated by RK4 (an oracle that does not use the closed form)."""
    def f(m, v):
        return -kappa * m, -2 * kappa * v + sigma ** 2
    h = t / n
    for _ in range(n):
        k1 = f(mean, var)
        k2 = f(mean + h / 2 * k1[0], var + h / 2 * k1[1])
        k3 = f(mean + h / 2 * k2[0], var + h / 2 * k2[1])
        k4 = f(mean + h * k3[0], var + h * k3[1])
        mean = mean + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        var = var + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return mean, var


@pytest.mark.parametrize("t, kappa, sigma", [(0.7, 1.0, math.sqrt(2)), (0.7, 2.5, 0.4),
                                             (1.3, 0.3, 1.7), (0.0, 2.0, 3.0)])
def test_ou_marginal_solves_the_moment_equations(t, kappa, sigma):
    means, stds = np.array([[3.0, -1.0], [0.5, 2.0]]), np.array([0.5, 1.2])
    g = GaussianMixture(means, stds, np.array([0.3, 0.7]))
    g_t = g.ou_marginal(t) if kappa == 1.0 else g.ou_marginal(t, kappa=kappa, sigma=sigma)
    m_t, v_t = _ou_moments(means, stds ** 2, t, kappa, sigma)
    np.testing.assert_allclose(backend.to_numpy(g_t.means), m_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(g_t.stds) ** 2, v_t, rtol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(g_t.weights), [0.3, 0.7])


def test_ou_marginal_tends_to_the_stationary_law():
    # t -> inf: N(0, sigma^2 / (2 kappa) I) whatever the start
    g = GaussianMixture(np.array([[3.0, -1.0]]), 0.5).ou_marginal(40.0, kappa=0.5, sigma=0.8)
    np.testing.assert_allclose(backend.to_numpy(g.means), 0.0, atol=1e-8)
    np.testing.assert_allclose(backend.to_numpy(g.stds) ** 2, 0.64, rtol=1e-8)


@pytest.mark.parametrize("sigma", [0.2, 0.5, 1.5])
def test_posterior_mean_matches_quadrature(sigma):
    # E[x | y] = int x p(x) N(y; x, sigma^2) dx / int p(x) N(y; x, sigma^2) dx on a grid (1-D)
    g = GaussianMixture(np.array([[-1.0], [1.5]]), np.array([0.3, 0.6]), np.array([0.4, 0.6]))
    ys = np.array([[-2.0], [0.1], [0.9], [3.0]])
    grid = np.linspace(-8, 8, 20001)
    px = np.exp(backend.to_numpy(g.log_prob(grid[:, None])))
    expected = [np.sum(grid * px * np.exp(-(y - grid) ** 2 / (2 * sigma ** 2))) /
                np.sum(px * np.exp(-(y - grid) ** 2 / (2 * sigma ** 2))) for y in ys[:, 0]]
    np.testing.assert_allclose(backend.to_numpy(g.posterior_mean(ys, sigma))[:, 0], expected,
                               rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("d, s, n", [(2, 0.7, 10_000), (3, 1.5, 40_000)])
def test_entropy_of_a_single_gaussian(d, s, n):
    # H[N(0, s^2 I_d)] = d/2 log(2 pi e s^2); log p = c - |z|^2 / 2 has variance d/2, so the
    # estimate's SE is sqrt(d / 2 / n) (the sample std of log p is within 3% of sqrt(d/2) here:
    # its relative SE is ~sqrt(2 / n) <= 1.4%, so 3% is > 2 SE, 10% is > 5 SE)
    h, se = GaussianMixture(np.zeros((1, d)), s).entropy(backend.rng(3), n)
    assert abs(se / math.sqrt(d / 2 / n) - 1) < 0.1
    assert abs(h - d / 2 * math.log(2 * math.pi * math.e * s * s)) < 5 * se


@pytest.mark.parametrize("beta, barrier, tilt", [(2.0, 1.0, 0.3), (0.5, 2.5, -0.7)])
def test_gibbs_double_well(beta, barrier, tilt):
    x = np.array([[-1.0, 0.3], [0.0, 0.0], [0.8, -2.0]])
    def energy(z):
        return double_well(z, barrier=barrier, tilt=tilt)
    p = Gibbs(energy, beta=beta)
    u = barrier * (x[:, 0] ** 2 - 1) ** 2 + tilt * x[:, 0] + 0.5 * x[:, 1] ** 2
    np.testing.assert_allclose(backend.to_numpy(p.log_prob(x)), -beta * u)
    grad_u = np.stack([4 * barrier * x[:, 0] * (x[:, 0] ** 2 - 1) + tilt, x[:, 1]], axis=1)
    np.testing.assert_allclose(backend.to_numpy(p.score(x)), -beta * grad_u, rtol=1e-12,
                               atol=1e-12)
    # U(0) = barrier; U(+1) - U(-1) = 2 tilt (the left well is deeper for tilt > 0)
    ends = backend.to_numpy(energy(np.array([[-1.0], [0.0], [1.0]])))
    np.testing.assert_allclose(ends, [-tilt, barrier, tilt])


def test_defaults_of_the_double_well():
    np.testing.assert_allclose(backend.to_numpy(double_well(np.array([[-1.0], [0.0], [1.0]]))),
                               [-0.3, 1.0, 0.3])


# --- bad input ----------------------------------------------------------------------------------

G = polygon_blobs(4, 2.0, 0.5)
X = np.zeros((4, 2))
BAD = [
    (lambda: GaussianMixture(np.zeros(3), 1.0), ValueError, "^means must have shape"),
    (lambda: GaussianMixture([[0.0, math.nan]], 1.0), ValueError, "means"),
    (lambda: GaussianMixture(np.zeros((2, 2)), -1.0), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), math.inf), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), math.nan), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), [1.0, math.inf]), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), np.ones(3)), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), "wide"), ValueError, "stds"),
    (lambda: GaussianMixture(np.zeros((2, 2)), 1.0, [0.7, 0.7]), ValueError, "weights"),
    (lambda: GaussianMixture(np.zeros((2, 2)), 1.0, [1.5, -0.5]), ValueError, "weights"),
    (lambda: GaussianMixture(np.zeros((2, 2)), 1.0, [math.nan, 0.5]), ValueError, "weights"),
    (lambda: GaussianMixture(np.zeros((2, 2)), 1.0, [1.0]), ValueError, "weights"),
    (lambda: G.log_prob(np.zeros((4, 3))), ValueError, "^x must have 2 columns"),
    (lambda: G.score(np.full((4, 2), math.nan)), ValueError, "^x contains NaN"),
    (lambda: G.sample(2.5, backend.rng(0)), ValueError, "n=2.5"),
    (lambda: G.sample(0, backend.rng(0)), ValueError, "got n=0"),
    (lambda: G.sample(10, 0), TypeError, "rng"),
    (lambda: G.ou_marginal(-1.0), ValueError, "got t=-1.0"),
    (lambda: G.ou_marginal(math.nan), ValueError, "got t=nan"),
    (lambda: G.ou_marginal(1.0, kappa=0.0), ValueError, "kappa"),
    (lambda: G.ou_marginal(1.0, sigma=-1.0), ValueError, "sigma"),
    (lambda: G.ou_marginal(1.0, 2.0), TypeError, "positional"),
    (lambda: G.posterior_mean(X, 0.0), ValueError, "sigma"),
    (lambda: G.posterior_mean(X, math.inf), ValueError, "sigma"),
    (lambda: G.posterior_mean(X, "1"), ValueError, "sigma"),
    (lambda: G.posterior_mean(np.zeros(2), 0.5), ValueError, "^y must have shape"),
    (lambda: G.entropy(0), TypeError, "rng"),
    (lambda: G.entropy(backend.rng(0), 2.5), ValueError, "got n=2.5"),
    (lambda: polygon_blobs(0), ValueError, "n_modes"),
    (lambda: polygon_blobs(2.5), ValueError, "n_modes"),
    (lambda: polygon_blobs(8, -1.0), ValueError, "radius"),
    (lambda: polygon_blobs(8, math.nan), ValueError, "radius"),
    (lambda: polygon_blobs(8, 2.0, math.inf), ValueError, "got std=inf"),
    (lambda: polygon_blobs(8, 2.0, 0.0), ValueError, "got std=0.0"),
    (lambda: Gibbs(double_well, beta=0.0), ValueError, "beta"),
    (lambda: Gibbs(double_well, beta=math.inf), ValueError, "beta"),
    (lambda: Gibbs("U"), TypeError, "energy"),
    (lambda: Gibbs(lambda x: x[:, :1] ** 2).log_prob(X), ValueError, "energy"),
    (lambda: double_well(np.zeros(3)), ValueError, "^x must have shape"),
    (lambda: double_well(X, barrier=math.nan), ValueError, "barrier"),
    (lambda: double_well(X, barrier=0.0), ValueError, "barrier"),
    (lambda: double_well(X, tilt=math.inf), ValueError, "tilt"),
]


@pytest.mark.parametrize("call, error, name", BAD)
def test_bad_input(call, error, name):
    with pytest.raises(error, match=name):
        call()


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:divide by zero encountered:RuntimeWarning")
def test_log_prob_is_minus_inf_not_nan_at_overflowing_points():
    lp = backend.to_numpy(G.log_prob(np.array([[1e200, -1e200], [0.0, 0.0]])))
    assert lp[0] == -math.inf and np.isfinite(lp[1])
