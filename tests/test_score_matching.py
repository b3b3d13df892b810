"""Score matching (Eq. 44-46): the implicit, sliced and denoising objectives and the closed form.

Oracles: the Gaussian MLE (sample mean and 1/n covariance, computed here); autograd gradients in
theta of the implicit objective; the integration by parts of Eq. (46), checked point by point
on samples of a known mixture (per-point statistic, 5 SE); the projection identity
E_v v^T J v = tr J; the denoising minimizer, the score of the mixture with stds sqrt(s^2 + sigma^2).
Each identity also rejects its wrong variant (Laplacian sign, missing 1/2, target sign).
"""
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from conftest import host
from minigen import backend
from minigen.distributions import GaussianMixture
from minigen.energy.exponential_family import ExponentialFamily
from minigen.energy.features import GaussianFeatures, RadialBasis
from minigen.energy.score_matching import (denoising_score_matching_loss, fisher_divergence,
                                           implicit_score_matching_loss, score_and_divergence,
                                           score_matching_exponential,
                                           sliced_score_matching_loss)

MEANS, STDS, WEIGHTS = [[-1.0, 0.0], [1.2, 0.4]], [0.5, 0.7], [0.6, 0.4]


def mixture(stds=STDS):
    return GaussianMixture(MEANS, stds, WEIGHTS)


def model_score(x):
    """An arbitrary smooth, row-wise score (not the data's)."""
    return anp.stack([-0.8 * x[:, 0] + anp.sin(x[:, 1]), -x[:, 1] + 0.3 * x[:, 0] ** 2], axis=1)


def model_div(x):
    return -0.8 - 1.0 + 0.0 * x[:, 0]                                   # d s1/dx1 + d s2/dx2


def test_divergence_is_exact_and_the_implicit_objective_is_its_mean(on_numpy):
    x = np.random.default_rng(0).standard_normal((50, 2))
    s, div = score_and_divergence(model_score, x)
    np.testing.assert_allclose(div, model_div(x), atol=1e-12)
    np.testing.assert_allclose(s, model_score(x), atol=1e-15)
    loss = implicit_score_matching_loss(model_score, x)
    assert abs(loss - np.mean(0.5 * (s ** 2).sum(1) + model_div(x))) < 1e-12


def test_gaussian_score_matching_is_the_mle_to_rounding(on_numpy):
    x = np.random.default_rng(1).multivariate_normal([0.5, -1.0], [[1.0, 0.4], [0.4, 0.6]], 400)
    f = GaussianFeatures(2)
    theta = score_matching_exponential(f, x)
    m, S = f.gaussian_from_theta(theta)
    np.testing.assert_allclose(m, x.mean(0), atol=1e-10)
    np.testing.assert_allclose(S, np.cov(x.T, bias=True), atol=1e-10)
    assert np.abs(S - np.cov(x.T)).max() > 1e-4                          # not the 1/(n-1) one
    # the wrong variant: Laplacian with the wrong sign gives a non-positive precision
    J = host(f.jacobian(x))
    A = np.einsum("nkd,nld->kl", J, J) / len(x)
    wrong = np.linalg.solve(A, -host(f.laplacian(x)).mean(0))
    assert np.abs(wrong - host(theta)).max() > 0.5


@pytest.mark.parametrize("ridge", [0.0, 1e-3])
def test_closed_form_minimizes_the_implicit_objective_of_the_family(ridge, on_numpy):
    x = host(mixture().sample(500, backend.rng(2)))
    f = RadialBasis.grid(((-2.0, 2.0), (-1.5, 1.5)), 3)
    fam = ExponentialFamily(f)
    theta = host(score_matching_exponential(f, x, ridge=ridge))

    def J(t):                                          # autograd Laplacian, not f.laplacian
        return implicit_score_matching_loss(lambda y: fam.score(t, y), x)
    g = autograd.grad(J)(theta)
    np.testing.assert_allclose(g, -ridge * theta, atol=1e-9)            # stationary (+ ridge)
    H = autograd.hessian(J)(theta)
    assert np.linalg.eigvalsh(H).min() > 0                              # a strict minimum
    if ridge == 0.0:
        assert J(theta) < J(theta * 1.01) and J(theta) < J(theta * 0.99)


def test_implicit_plus_half_true_fisher_is_the_explicit_objective_eq46(on_numpy):
    gm = mixture()
    x = host(gm.sample(40000, backend.rng(3)))
    s, sp = model_score(x), host(gm.score(x))
    # per point: implicit + |grad log p|^2 / 2 - explicit = div s + s . grad log p, mean 0
    d = model_div(x) + (s * sp).sum(1)
    se = d.std() / math.sqrt(len(x))
    implicit = implicit_score_matching_loss(model_score, x)
    explicit = fisher_divergence(model_score, gm.score, x)
    stat = implicit + 0.5 * np.mean((sp ** 2).sum(1)) - explicit
    assert abs(stat - d.mean()) < 1e-10 and abs(stat) < 5 * se
    half = 0.5 * np.mean((s ** 2).sum(1))
    assert abs(stat + half) > 10 * se                          # wrong: |s|^2 without the 1/2
    assert abs(stat - 2 * np.mean(model_div(x))) > 10 * se     # wrong: - div s (Laplacian sign)


@pytest.mark.parametrize("variance_reduced", [False, True])
def test_sliced_objective_averages_to_the_implicit_one(variance_reduced, on_numpy):
    x = host(mixture().sample(200, backend.rng(4)))
    implicit = implicit_score_matching_loss(model_score, x)
    vals = np.array([sliced_score_matching_loss(model_score, x, backend.rng(10 + r), 4,
                                                variance_reduced=variance_reduced)
                     for r in range(60)])
    se = vals.std(ddof=1) / math.sqrt(len(vals))
    assert abs(vals.mean() - implicit) < 5 * se
    # wrong: v uniform on the unit circle, E v v^T = I / 2 (halves v^T J v, and (v^T s)^2)
    div = np.mean(model_div(x))
    wrong = implicit - div / 2 if variance_reduced else implicit / 2
    assert abs(vals.mean() - wrong) > 10 * se, (vals.mean(), wrong, se)


def test_denoising_minimizer_is_the_score_of_the_noisy_data(on_numpy):
    sigma = 0.6
    gm = mixture()
    noisy = mixture(np.sqrt(np.array(STDS) ** 2 + sigma ** 2))
    x = host(gm.sample(30000, backend.rng(5)))

    def directional(score, sign=1.0):
        """d/de L(score + e h) at e = 0, exact (L is quadratic in e), h(y) = y."""
        def h(y):
            return y
        e = 1e-3
        Lp = denoising_score_matching_loss(lambda y: score(y) + e * h(y), x, backend.rng(6), sigma)
        Lm = denoising_score_matching_loss(lambda y: score(y) - e * h(y), x, backend.rng(6), sigma)
        z = backend.rng(6).standard_normal(x.shape)                       # the same draws
        y = x + sigma * z
        per = ((host(score(y)) + sign * z / sigma) * h(y)).sum(1)
        return (Lp - Lm) / (2 * e), per.mean(), per.std() / math.sqrt(len(x))
    g, g_test, se = directional(noisy.score)
    assert abs(g - g_test) < 1e-8 and abs(g) < 5 * se
    assert abs(directional(gm.score)[0]) > 10 * se              # wrong: the clean data's score
    assert abs(directional(noisy.score, -1.0)[1]) > 10 * se     # wrong: target +z / sigma


def test_objectives_run_on_each_backend(backend_name):
    x = backend.asarray(np.random.default_rng(7).standard_normal((30, 2)))
    f = RadialBasis.grid(((-2.0, 2.0), (-2.0, 2.0)), 3)
    theta = score_matching_exponential(f, x, ridge=1e-6)
    fam = ExponentialFamily(f)

    def score(y):
        return fam.score(theta, y)
    for loss in (implicit_score_matching_loss(score, x),
                 sliced_score_matching_loss(score, x, backend.rng(0), 2),
                 denoising_score_matching_loss(score, x, backend.rng(0), 0.3),
                 fisher_divergence(score, lambda y: -y, x)):
        assert math.isfinite(float(backend.to_numpy(loss)))
    assert theta.shape == (10,) and isinstance(theta, backend.active().array_type)


def test_bad_inputs_are_refused():
    x = np.zeros((5, 2))
    with pytest.raises(TypeError, match="score_fn"):
        implicit_score_matching_loss(3, x)
    with pytest.raises(ValueError, match="shape"):
        implicit_score_matching_loss(lambda y: y[:, :1], x)
    with pytest.raises(ValueError, match="sigma"):
        denoising_score_matching_loss(lambda y: -y, x, backend.rng(0), 0.0)
    with pytest.raises(ValueError, match="n_projections"):
        sliced_score_matching_loss(lambda y: -y, x, backend.rng(0), 0)
    with pytest.raises(TypeError, match="rng"):
        sliced_score_matching_loss(lambda y: -y, x, 0)
    with pytest.raises(TypeError, match="jacobian"):
        score_matching_exponential(lambda y: y ** 2, x)
    with pytest.raises(ValueError, match="x"):
        implicit_score_matching_loss(lambda y: -y, np.full((3, 2), np.nan))
