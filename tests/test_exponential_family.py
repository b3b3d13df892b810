"""Exponential families U = theta . Phi (Eq. 25) and their maximum likelihood (Eq. 31-35).

Oracles, written here without the code under test: a midpoint quadrature on a 2D grid for log Z,
E Phi and Cov Phi (numpy meshgrid); the Gaussian closed form log Z = log 2 pi + log det S / 2;
autograd Jacobians and Hessian traces of the features; a damped Newton method on that quadrature
for the convex MLE theta*; and, for Phi = (x, x x^T), the sample mean and covariance.
PCD is a Monte-Carlo estimate: its error is judged by the MCSE of its own iterates (5 SE).
"""
import importlib.util
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from conftest import host
from minigen import backend
from minigen.distributions import GaussianMixture
from minigen.energy.exponential_family import ExponentialFamily, fit_max_likelihood
from minigen.energy.features import GaussianFeatures, RadialBasis
from minigen.energy.quadrature import grid_log_partition, grid_moments, grid_points
from minigen.metrics.chains import mcse

BOX = ((-5.0, 5.0), (-5.0, 5.0))
MEAN, COV = np.array([0.7, -0.4]), np.array([[1.0, 0.5], [0.5, 1.5]])


def quad(U, n=240, box=BOX):
    """The test's own midpoint rule: grid points (m, 2), log Z, normalized weights (m,)."""
    (a, b), (c, d) = box
    gx = a + (b - a) / n * (np.arange(n) + 0.5)
    gy = c + (d - c) / n * (np.arange(n) + 0.5)
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    lw = -host(U(pts))
    m = lw.max()
    w = np.exp(lw - m)
    return pts, m + np.log(w.sum() * (b - a) * (d - c) / n ** 2), w / w.sum()


def quad_moments(family, theta, n=240, box=BOX):
    pts, log_Z, w = quad(lambda x: family.energy(theta, x), n, box)
    F = host(family.features(pts))
    mean = w @ F
    return log_Z, mean, (F - mean).T @ ((F - mean) * w[:, None])


def newton_mle(family, data, theta, n=160, box=BOX, iters=60):
    """theta* = argmin E_data theta . Phi + log Z(theta) by damped Newton on the quadrature."""
    target = host(family.features(data)).mean(0)

    def ell(t):
        return target @ t + quad_moments(family, t, n, box)[0]
    for _ in range(iters):
        _, mean, cov = quad_moments(family, theta, n, box)
        g = target - mean
        if np.abs(g).max() < 1e-11:
            break
        step = np.linalg.solve(cov, g)
        a = 1.0
        while (ell(theta - a * step) > ell(theta) - 0.25 * a * g @ step and a > 1e-6
               and np.abs(g).max() > 1e-6):                   # near theta*: full Newton steps
            a /= 2
        theta = theta - a * step
    return theta


def mixture_data(n=3000, seed=0):
    gm = GaussianMixture([[-1.0, 0.0], [1.0, 0.5]], [0.6, 0.5], [0.7, 0.3])
    return host(gm.sample(n, backend.rng(seed)))


def rbf():
    """Nine radial basis functions and the envelope, built on the active backend."""
    return RadialBasis.grid(((-2.0, 2.0), (-2.0, 2.0)), 3, width=1.2)


FEATURES = {"gaussian2": lambda: GaussianFeatures(2), "gaussian3": lambda: GaussianFeatures(3),
            "rbf": rbf,
            "bumps": lambda: RadialBasis([[0.0, 1.0], [1.0, -1.0]], 0.7, envelope=False)}


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_jacobian_and_laplacian_match_autograd(name, on_numpy):
    features = FEATURES[name]()
    x = np.random.default_rng(1).standard_normal((6, features.dim))
    F = host(features(x))
    assert F.shape == (6, features.n_features)
    for k in range(features.n_features):
        phi_k = autograd.elementwise_grad(lambda y: features(y)[:, k])
        np.testing.assert_allclose(host(features.jacobian(x))[:, k], phi_k(x), atol=1e-12)
        lap = sum(autograd.elementwise_grad(lambda y, i=i: phi_k(y)[:, i])(x)[:, i]
                  for i in range(features.dim))
        np.testing.assert_allclose(host(features.laplacian(x))[:, k], lap, atol=1e-12)
    # the wrong variant: the Laplacian of x_i^2 taken as 1 instead of 2
    if isinstance(features, GaussianFeatures):
        assert host(features.laplacian(x)).max() == 2.0


def test_gaussian_parameters_round_trip_and_energy_is_the_quadratic_form(on_numpy):
    f = GaussianFeatures(2)
    theta = host(f.theta_from_gaussian(MEAN, COV))
    m, S = f.gaussian_from_theta(theta)
    np.testing.assert_allclose(m, MEAN, atol=1e-12)
    np.testing.assert_allclose(S, COV, atol=1e-12)
    x = np.random.default_rng(2).standard_normal((5, 2))
    P = np.linalg.inv(COV)
    U = host(ExponentialFamily(f).energy(theta, x))
    q = 0.5 * np.einsum("ni,ij,nj->n", x - MEAN, P, x - MEAN)
    np.testing.assert_allclose(U - U[0], q - q[0], atol=1e-12)           # equal up to a constant


def test_quadrature_log_partition_and_moments_of_a_gaussian(on_numpy):
    fam = ExponentialFamily(GaussianFeatures(2))
    theta = fam.features.theta_from_gaussian(MEAN, COV)
    const = 0.5 * MEAN @ np.linalg.inv(COV) @ MEAN                        # U(x) - quadratic form
    log_Z = grid_log_partition(lambda x: fam.energy(theta, x) + const, (-9.0, 9.0), 300)
    assert abs(log_Z - (math.log(2 * math.pi) + 0.5 * math.log(np.linalg.det(COV)))) < 1e-9
    _, mean, cov = grid_moments(lambda x: fam.energy(theta, x), fam.features, (-9.0, 9.0), 300)
    second = COV + np.outer(MEAN, MEAN)
    np.testing.assert_allclose(host(mean), [*MEAN, second[0, 0], second[0, 1],
                                                  second[1, 1]], atol=1e-9)
    pts, area = grid_points(((0.0, 1.0), (0.0, 2.0)), 4)
    assert pts.shape == (16, 2) and abs(area - 0.125) < 1e-15


def test_hessian_of_log_partition_is_the_covariance_of_phi_eq34(on_numpy):
    fam = ExponentialFamily(rbf())
    theta = np.array([0.3, -0.5, 0.2, 0.1, -0.8, 0.4, 0.0, 0.3, -0.2, 0.6])
    _, mean, cov = fam.moments(theta, BOX, 200)
    _, mean_t, cov_t = quad_moments(fam, theta, 200)
    np.testing.assert_allclose(host(cov), cov_t, atol=1e-12)
    eps, K = 1e-3, len(theta)
    H = np.zeros((K, K))
    for k in range(K):                           # d/dtheta log Z = -E Phi; Hessian by differences
        e = eps * np.eye(K)[k]
        H[k] = -(quad_moments(fam, theta + e, 200)[1] - quad_moments(fam, theta - e, 200)[1]) / (
            2 * eps)
        np.testing.assert_allclose(host(mean)[k], -(
            quad(lambda x: fam.energy(theta + e, x), 200)[1]
            - quad(lambda x: fam.energy(theta - e, x), 200)[1]) / (2 * eps), atol=1e-5)
    np.testing.assert_allclose(host(cov), H, atol=1e-5)
    assert np.linalg.eigvalsh(host(cov)).min() > 0                    # convexity
    uncentered = cov_t + np.outer(mean_t, mean_t)                           # wrong: E Phi Phi^T
    assert np.abs(uncentered - H).max() > 100 * 1e-5


def test_gaussian_mle_is_the_sample_mean_and_covariance_and_its_gradient_vanishes(on_numpy):
    x = np.random.default_rng(3).multivariate_normal(MEAN, COV, 50)
    fam = ExponentialFamily(GaussianFeatures(2))
    theta = newton_mle(fam, x, host(fam.features.initial_theta(x)), n=300,
                       box=((-12.0, 12.0), (-12.0, 12.0)))
    m, S = fam.features.gaussian_from_theta(theta)
    np.testing.assert_allclose(m, x.mean(0), atol=1e-8)
    np.testing.assert_allclose(S, np.cov(x.T, bias=True), atol=1e-8)
    assert np.abs(S - np.cov(x.T)).max() > 1e-3                     # wrong: the 1/(n-1) estimate
    g = host(fam.features(x)).mean(0) - host(fam.moments(theta, (-12, 12), 300)[1])
    assert np.abs(g).max() < 1e-9                                    # Eq. (32) vanishes at theta*


def iterate_se(thetas):
    """Mean of the iterates and its Monte-Carlo standard error (minigen.metrics.mcse: the
    variance times the integrated autocorrelation time of the iterates), per coordinate."""
    return thetas.mean(0), host(mcse(thetas[:, None, :]))


@pytest.mark.parametrize("case", ["gaussian", "rbf", "plain_gradient"])
def test_pcd_reaches_the_quadrature_mle_within_its_monte_carlo_error(case, on_numpy):
    if case == "gaussian":
        x = np.random.default_rng(4).multivariate_normal(MEAN, COV, 2000)
        fam, kw = ExponentialFamily(GaussianFeatures(2)), {}
    else:
        x, fam = mixture_data(), ExponentialFamily(rbf())
        kw = {"n_steps": 800, "n_chains": 200, "lr": 0.2, "ridge": 1e-3}  # |z| 2.7, travel 24 SE
    if case == "plain_gradient":
        x = np.random.default_rng(4).multivariate_normal(MEAN, COV, 2000)
        fam = ExponentialFamily(GaussianFeatures(2))
        kw = {"precondition": False, "lr": 0.3, "n_steps": 800}
    theta_star = newton_mle(fam, x, host(fam.features.initial_theta(x)))
    theta, hist = fit_max_likelihood(fam, x, backend.rng(5), **{"n_chains": 300, **kw})
    T = host(hist["theta"])
    assert T.shape == (hist["model_term"].shape[0] + 1, len(theta_star))
    tail = T[len(T) // 2 + 1:]
    mean, se = iterate_se(tail)
    np.testing.assert_allclose(host(theta), mean, atol=1e-12)     # Polyak average
    assert np.all(np.abs(mean - theta_star) < 5 * se + 1e-9), (mean - theta_star) / se
    assert np.abs(T[0] - theta_star).max() > 20 * se.max()               # it did travel
    # the two terms of Eq. (32): the model term meets the data term
    gap = np.abs(host(hist["model_term"])[-100:].mean(0) - host(hist["data_term"]))
    assert gap.max() < 0.05 * np.abs(host(hist["data_term"])).max() + 0.02
    assert 0.3 < host(hist["accept"])[-50:].mean() < 0.9


@pytest.mark.skipif(importlib.util.find_spec("minigen.mcmc.hmc") is None, reason="no hmc")
def test_pcd_with_hmc_chains(on_numpy):
    x = np.random.default_rng(6).multivariate_normal(MEAN, COV, 2000)
    fam = ExponentialFamily(GaussianFeatures(2))
    theta, _ = fit_max_likelihood(fam, x, backend.rng(7), sampler="hmc", n_steps=300,
                                  n_mcmc=2, n_leapfrog=5)
    m, S = fam.features.gaussian_from_theta(theta)
    assert np.abs(m - x.mean(0)).max() < 0.1 and np.abs(S - np.cov(x.T)).max() < 0.2


def test_score_closed_form_and_autograd_fallback(backend_name):
    theta = backend.asarray(np.array([0.3, -0.5, 0.2, 0.1, -0.8, 0.4, 0.0, 0.3, -0.2, 0.6]))
    x = backend.asarray(np.random.default_rng(8).standard_normal((7, 2)))
    rbf = RadialBasis.grid(((-2.0, 2.0), (-2.0, 2.0)), 3, width=1.2)     # on this backend
    fam = ExponentialFamily(rbf)
    s = fam.score(theta, x)
    plain = ExponentialFamily(lambda y: rbf(y))                  # no jacobian: autograd
    np.testing.assert_allclose(backend.to_numpy(plain.score(theta, x)), backend.to_numpy(s),
                               atol=1e-12)
    eps = 1e-6
    U = [backend.to_numpy(fam.energy(theta, x + eps * backend.asarray(np.eye(2)[i])))
         - backend.to_numpy(fam.energy(theta, x - eps * backend.asarray(np.eye(2)[i])))
         for i in range(2)]
    np.testing.assert_allclose(backend.to_numpy(s), -np.stack(U, 1) / (2 * eps), atol=1e-7)
    np.testing.assert_allclose(backend.to_numpy(fam.grad_theta(x)), backend.to_numpy(rbf(x)))
    log_Z, mean, cov = fam.moments(theta, BOX, 60)
    assert math.isfinite(log_Z) and mean.shape == (10,) and cov.shape == (10, 10)


def test_fit_runs_on_each_backend(backend_name):
    x = backend.asarray(np.random.default_rng(9).multivariate_normal(MEAN, COV, 200))
    fam = ExponentialFamily(GaussianFeatures(2))
    theta, hist = fit_max_likelihood(fam, x, backend.rng(0), n_steps=6, n_chains=20)
    assert isinstance(theta, backend.active().array_type) and theta.shape == (5,)
    assert hist["model_term"].shape == (6, 5) and hist["theta"].shape == (7, 5)
    assert np.all(np.isfinite(backend.to_numpy(theta)))


def test_bad_inputs_are_refused():
    fam = ExponentialFamily(GaussianFeatures(2))
    x = np.random.default_rng(0).standard_normal((4, 2))
    with pytest.raises(ValueError, match="theta"):
        fam.energy(np.zeros((5, 1)), x)
    with pytest.raises(TypeError, match="features"):
        ExponentialFamily(3)
    with pytest.raises(TypeError, match="family"):
        fit_max_likelihood("gauss", x, backend.rng(0))
    with pytest.raises(ValueError, match="sampler"):
        fit_max_likelihood(fam, x, backend.rng(0), sampler="gibbs")
    with pytest.raises(ValueError, match="theta0"):
        fit_max_likelihood(ExponentialFamily(lambda y: y ** 2), x, backend.rng(0))
    with pytest.raises(ValueError, match="bounds"):
        grid_log_partition(lambda y: anp.sum(y ** 2, 1), (1.0, -1.0), 10)
    with pytest.raises(ValueError, match="n_chains"):
        fit_max_likelihood(fam, x, backend.rng(0), n_chains=0)
    with pytest.raises(FloatingPointError, match="theta"), np.errstate(over="ignore"):
        fit_max_likelihood(fam, x, backend.rng(0), lr=1e308, n_steps=5)
