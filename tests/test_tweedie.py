"""Tweedie's formula (Th. 10) against Bayes' rule; the score from a denoiser (Eq. 140) against Eq. (130);
the learned denoiser against the Bayes-optimal MSE and generation against the two-sample floor (slow)."""
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from minigen import backend
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.diffusion.reverse import reverse_sde, time_grid
from minigen.diffusion.tweedie import score_from_denoiser, train_denoiser, tweedie_denoise
from minigen.metrics import mode_occupancy
from oracles import sw_ratio

MEANS = np.array([[1.0, 0.0], [-1.0, 1.0], [0.5, -1.5]])
STDS = np.array([0.3, 0.2, 0.5])
WEIGHTS = np.array([0.5, 0.2, 0.3])
MIX = GaussianMixture(MEANS, STDS, WEIGHTS)


def _noisy_log_prob(y, sigma):
    """log p_sigma(y), p_sigma = p * N(0, sigma^2): the textbook mixture formula, for autograd (Eq. 143)."""
    v = STDS ** 2 + sigma ** 2                                                    # (K,)
    sq = anp.sum((y[:, None, :] - MEANS[None]) ** 2, axis=2)                      # (n, K)
    terms = anp.log(WEIGHTS) - sq / (2 * v) - anp.log(2 * np.pi * v)             # d = 2
    m = anp.max(terms, axis=1, keepdims=True)
    return anp.sum(m[:, 0] + anp.log(anp.sum(anp.exp(terms - m), axis=1)))


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 4.0])
def test_tweedie_with_the_exact_noisy_score_is_the_posterior_mean(sigma):
    y = backend.to_numpy(MIX.sample(500, backend.rng(0))) + sigma * np.random.default_rng(1).standard_normal((500, 2))
    score = lambda z: backend.asarray(autograd.grad(_noisy_log_prob)(backend.to_numpy(z), sigma))   # by autograd
    np.testing.assert_allclose(backend.to_numpy(tweedie_denoise(score, y, sigma)),
                               backend.to_numpy(MIX.posterior_mean(y, sigma)), rtol=0, atol=1e-8)


def test_posterior_mean_is_a_conditional_expectation():
    # Monte-Carlo check of Bayes' rule: E[(x - D*(y)) g(y)] = 0 for test functions g of y (orthogonality of
    # the conditional expectation); SE from the sample std of the products.
    n, sigma = 200_000, 0.5
    x = backend.to_numpy(MIX.sample(n, backend.rng(2)))
    y = x + sigma * np.random.default_rng(3).standard_normal(x.shape)
    resid = x - backend.to_numpy(MIX.posterior_mean(y, sigma))
    for g in (np.ones(n), y[:, 0], y[:, 1] ** 2, np.tanh(y[:, 0] * y[:, 1])):
        prod = resid * g[:, None]
        assert np.all(np.abs(prod.mean(axis=0)) < 5 * prod.std(axis=0) / math.sqrt(n))


@pytest.mark.parametrize("t", [0.01, 0.2, 1.0, 3.0])
def test_score_from_the_exact_denoiser_is_the_score_of_the_ou_marginal(t):
    # Eq. (140) rescaling + Tweedie vs the closed-form marginal of Eq. (130)
    x = MIX.ou_marginal(t).sample(300, backend.rng(4))
    score = score_from_denoiser(lambda y, s: MIX.posterior_mean(y, s))
    np.testing.assert_allclose(backend.to_numpy(score(x, t)), backend.to_numpy(MIX.ou_marginal(t).score(x)),
                               rtol=1e-7, atol=1e-8)


def test_short_training_gives_a_working_denoiser_and_bad_inputs_raise():
    data = MIX.sample(2000, backend.rng(5))
    D = train_denoiser(data, backend.rng(6), n_steps=150, batch_size=128, hidden=(32, 32))
    y = backend.to_numpy(data[:400]) + 0.3 * np.random.default_rng(7).standard_normal((400, 2))
    out = backend.to_numpy(D(y, 0.3))
    assert out.shape == (400, 2) and np.isfinite(out).all()
    # even 150 steps beat doing nothing (MSE of the identity = 2 sigma^2 = 0.18)
    assert np.mean(np.sum((out - backend.to_numpy(data[:400])) ** 2, axis=1)) < 0.18
    assert D.sample(7, backend.rng(8), n_steps=5).shape == (7, 2)
    with pytest.raises(ValueError, match="sigma"):
        D(y, 0.0)
    with pytest.raises(ValueError, match="y"):
        D(y[:, :1], 0.3)
    with pytest.raises(ValueError, match="sigma"):
        tweedie_denoise(lambda z: z, y, -1.0)
    with pytest.raises(ValueError, match="shape"):
        tweedie_denoise(lambda z: z[:, :1], y, 1.0)
    with pytest.raises(ValueError, match="sigma_min"):
        train_denoiser(data, backend.rng(0), n_steps=1, sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(FloatingPointError), np.errstate(all="ignore"):     # the overflow is the point
        train_denoiser(data, backend.rng(0), n_steps=50, lr=1e200, hidden=(8, 8))


@pytest.fixture(scope="module")
def blobs_denoiser():
    target = polygon_blobs(8, 2.0, 0.2)
    return target, train_denoiser(target.sample(20_000, backend.rng(20)), backend.rng(21))


@pytest.mark.slow
def test_learned_denoiser_reaches_the_bayes_mse(blobs_denoiser):
    target, D = blobs_denoiser
    n = 100_000
    x = target.sample(n, backend.rng(22))
    for sigma in (0.1, 0.3, 1.0):
        y = x + sigma * backend.rng(23).standard_normal(x.shape)
        err_bayes = backend.to_numpy(((target.posterior_mean(y, sigma) - x) ** 2).sum(axis=1))
        err_learned = backend.to_numpy(((D(y, sigma) - x) ** 2).sum(axis=1))
        # paired: MSE_learned - 1.05 MSE_bayes < 0 up to 5 SE of the paired difference
        diff = err_learned - 1.05 * err_bayes
        assert diff.mean() < 5 * diff.std() / math.sqrt(n), (sigma, err_learned.mean() / err_bayes.mean())


@pytest.mark.slow
def test_generation_from_the_learned_denoiser(blobs_denoiser):
    target, D = blobs_denoiser
    n = 12_000                              # 3 chunks of 4000 for sw_ratio
    out = reverse_sde(score_from_denoiser(D), backend.rng(30).standard_normal((n, 2)), time_grid(200), backend.rng(31))
    assert sw_ratio(out, target) < 2.0          # see sw_ratio for the averaging and its standard errors
    # all 8 modes get their 1/8 share: multinomial SE sqrt(w (1 - w) / n)
    freq = backend.to_numpy(mode_occupancy(out, target.means)[0])
    assert np.all(np.abs(freq - 1 / 8) < 5 * math.sqrt(1 / 8 * 7 / 8 / n)), freq
