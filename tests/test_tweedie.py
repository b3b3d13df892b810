"""Tweedie's formula (Th. 10) against Bayes' rule; the score from a denoiser (Eq. 140) against
Eq. (130); a short training against the trivial, linear and Bayes-optimal denoisers; the learned
denoiser against the Bayes MSE and generation against the two-sample floor (slow). The exact
noisy score and the posterior mean E[x | y] are minigen.check.tweedie's (Bayes' rule written
without Tweedie's formula, independent of minigen.distributions)."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.check.tweedie import noisy_score, posterior_mean
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.diffusion.reverse import reverse_sde, time_grid
from minigen.diffusion import tweedie
from minigen.diffusion.tweedie import score_from_denoiser, train_denoiser, tweedie_denoise
from minigen.metrics import mode_occupancy
from oracles import sw_ratio

MEANS = np.array([[1.0, 0.0], [-1.0, 1.0], [0.5, -1.5]])
STDS = np.array([0.3, 0.2, 0.5])
WEIGHTS = np.array([0.5, 0.2, 0.3])
MIX = GaussianMixture(MEANS, STDS, WEIGHTS)


def _bayes(mixture):
    """The exact denoiser E[x | x + sigma z = y] of a GaussianMixture, by check.tweedie's
    posterior_mean (Bayes' rule, not the mixture's own posterior_mean): backend arrays in and
    out, as a denoiser."""
    law = tuple(backend.to_numpy(a) for a in (mixture.means, mixture.stds, mixture.weights))
    return lambda y, sigma: backend.asarray(posterior_mean(backend.to_numpy(y), sigma, law))


BAYES = _bayes(MIX)


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 4.0])
def test_tweedie_with_the_exact_noisy_score_is_the_posterior_mean(sigma):
    noise = np.random.default_rng(1).standard_normal((500, 2))
    y = backend.to_numpy(MIX.sample(500, backend.rng(0))) + sigma * noise

    def score(z):                                            # the closed form of Eq. (143)
        return backend.asarray(noisy_score(backend.to_numpy(z), sigma, (MEANS, STDS, WEIGHTS)))

    bayes = backend.to_numpy(BAYES(y, sigma))
    np.testing.assert_allclose(backend.to_numpy(tweedie_denoise(score, y, sigma)), bayes, rtol=0,
                               atol=1e-8)
    # the mixture's own posterior_mean (the demos' and benchmarks' oracle) is the same Bayes' rule
    np.testing.assert_allclose(backend.to_numpy(MIX.posterior_mean(y, sigma)), bayes, rtol=0,
                               atol=1e-8)


def test_posterior_mean_is_a_conditional_expectation():
    # Monte-Carlo check of Bayes' rule, for the oracle of this file: E[(x - D*(y)) g(y)] = 0 for
    # test functions g of y (orthogonality of the conditional expectation); SE from the sample
    # std of the products.
    n, sigma = 200_000, 0.5
    x = backend.to_numpy(MIX.sample(n, backend.rng(2)))
    y = x + sigma * np.random.default_rng(3).standard_normal(x.shape)
    resid = x - backend.to_numpy(BAYES(y, sigma))
    for g in (np.ones(n), y[:, 0], y[:, 1] ** 2, np.tanh(y[:, 0] * y[:, 1])):
        prod = resid * g[:, None]
        assert np.all(np.abs(prod.mean(axis=0)) < 5 * prod.std(axis=0) / math.sqrt(n))


@pytest.mark.parametrize("t", [0.01, 0.2, 1.0, 3.0])
def test_score_from_the_exact_denoiser_is_the_score_of_the_ou_marginal(t):
    # Eq. (140) rescaling + Tweedie vs the closed-form marginal of Eq. (130)
    x = MIX.ou_marginal(t).sample(300, backend.rng(4))
    score = score_from_denoiser(BAYES)
    np.testing.assert_allclose(backend.to_numpy(score(x, t)),
                               backend.to_numpy(MIX.ou_marginal(t).score(x)), rtol=1e-7, atol=1e-8)


# the mixture above shifted and scaled (scale 3, mean far from 0): a denoiser that forgets the
# data mean or the scale fails the bars below
SHIFT, SCALE = np.array([4.0, -2.0]), 3.0
SHIFTED = GaussianMixture(SCALE * MEANS + SHIFT, SCALE * STDS, WEIGHTS)
SHIFTED_BAYES = _bayes(SHIFTED)
R = backend.rng


@pytest.fixture(scope="module")
def short_denoiser():
    return train_denoiser(SHIFTED.sample(2000, R(5)), R(6), n_steps=300, batch_size=128,
                          hidden=(32, 32), lr=1e-2)


@pytest.mark.parametrize("sigma", [0.1 * SCALE, 0.3 * SCALE, 1.0 * SCALE])
def test_short_training_beats_the_trivial_and_linear_denoisers(short_denoiser, sigma):
    n = 20_000
    x = backend.to_numpy(SHIFTED.sample(n, R(9)))
    y = x + sigma * np.random.default_rng(7).standard_normal(x.shape)
    err = lambda x_hat: np.sum((backend.to_numpy(x_hat) - x) ** 2, axis=1)      # noqa: E731
    learned, bayes = err(short_denoiser(y, sigma)), err(SHIFTED_BAYES(y, sigma))
    # the trivial denoisers: the identity, zero, the data mean
    trivial = min(err(e).mean() for e in (y, 0 * y, 0 * y + x.mean(axis=0)))
    # the best linear denoiser (Wiener): m + C (C + sigma^2 Id)^{-1} (y - m), from the moments
    m, C = x.mean(axis=0), np.cov(x.T)
    linear = err(m + (y - m) @ np.linalg.solve(C + sigma ** 2 * np.eye(2), C))
    se = lambda e: 5 * e.std() / math.sqrt(n)                                   # noqa: E731
    # no estimator beats Bayes (a check of the oracle): paired, within 5 SE
    assert (learned - bayes).mean() > -se(learned - bayes)
    # 300 steps close more than half of the gap from the best trivial model to Bayes (measured
    # 0.63, 0.67, 0.97 at sigma = 0.3, 0.9, 3) and beat the linear denoiser by 5 paired SE
    assert trivial - learned.mean() > 0.5 * (trivial - bayes.mean()), (trivial, learned.mean())
    assert (linear - learned).mean() > se(linear - learned), (linear.mean(), learned.mean())


def test_sample_passes_its_options_to_the_reverse_diffusion(short_denoiser):
    D = short_denoiser
    for alpha, method in ((0.5, "euler"), (0.0, "heun")):
        rng = R(3)
        x_T = rng.standard_normal((9, 2))
        times = time_grid(7, T=3.0, t_min=0.02)
        expect = reverse_sde(score_from_denoiser(D), x_T, times, rng, alpha=alpha, method=method)
        got = D.sample(9, R(3), n_steps=7, alpha=alpha, T=3.0, t_min=0.02)
        np.testing.assert_array_equal(backend.to_numpy(got), backend.to_numpy(expect))


def _network_output(D, y, sigma):
    """F from D = c_skip y + c_out F(c_in y, c_noise) in standardized units (Karras et al. 2022:
    c_skip = 1 / (s^2 + 1), c_out = s / sqrt(s^2 + 1), s = sigma / scale), written out here."""
    mean, scale = backend.to_numpy(D.mean), D.scale
    s = sigma / scale
    u, d = (y - mean) / scale, (backend.to_numpy(D(y, sigma)) - mean) / scale
    return (d - u / (s ** 2 + 1)) / (s / math.sqrt(s ** 2 + 1))


def test_options_reach_the_model_and_log_sigma_is_clipped_to_the_training_range():
    D = train_denoiser(SHIFTED.sample(300, R(0)), R(1), n_steps=30, batch_size=32,
                       hidden=(16,), sigma_min=0.05, sigma_max=8.0, activation="tanh")
    assert (D.sigma_range, D.activation, len(D.history)) == ((0.05, 8.0), "tanh", 30)
    # the network sees (c_in u, c_noise), c_in = 1 / sqrt(s^2 + 1): give it the same c_in u at two
    # noise levels; beyond the training range (clipped c_noise) F is the same, inside it is not
    u1 = np.random.default_rng(0).standard_normal((20, 2))
    c_in = lambda s: 1 / math.sqrt(s ** 2 + 1)                                  # noqa: E731
    F = {}
    for s in (0.01, 0.03, 0.1, 0.3, 10.0, 30.0):                             # standardized sigma
        y = backend.to_numpy(D.mean) + D.scale * u1 * c_in(0.01) / c_in(s)
        F[s] = _network_output(D, y, s * D.scale)
    np.testing.assert_allclose(F[0.03], F[0.01], rtol=1e-7, atol=1e-9)       # below sigma_min
    np.testing.assert_allclose(F[30.0], F[10.0], rtol=1e-7, atol=1e-9)       # above sigma_max
    assert np.abs(F[0.3] - F[0.1]).max() > 1e-3                              # inside: differs


def test_the_training_loss_is_the_bayes_loss_of_its_noise_band():
    # the loss is E ||F - target||^2 = E ||D - x||^2 / c_out^2 in standardized units (Eq. 141
    # reweighted), sigma log-uniform in [sigma_min, sigma_max]: no model goes below its Bayes
    # value (the posterior mean), which is 1.39 on the band [0.2, 0.5] and 1.82 over the default
    # band [0.01, 20] (the trained model: 1.91). The last 100 minibatch losses: mean within
    # [Bayes - 5 SE, Bayes + 0.15], SE of both Monte-Carlo means combined.
    data = backend.to_numpy(SHIFTED.sample(2000, R(5)))
    D = train_denoiser(data, R(6), n_steps=300, batch_size=128, hidden=(32, 32), lr=1e-2,
                       sigma_min=0.2, sigma_max=0.5)
    scale, n = math.sqrt(data.var(axis=0).mean()), 2500
    # E over log sigma by the midpoint rule on 20 nodes (L(sigma) is smooth), each node by Monte
    # Carlo with the exact posterior mean
    bayes = []
    for j in range(20):
        s = math.exp(math.log(0.2) + (j + 0.5) / 20 * math.log(0.5 / 0.2))       # standardized
        x = backend.to_numpy(SHIFTED.sample(n, R(10 + j)))
        y = x + s * scale * np.random.default_rng(j).standard_normal(x.shape)
        post = backend.to_numpy(SHIFTED_BAYES(y, s * scale))
        bayes.append(np.sum((post - x) ** 2, axis=1) / scale ** 2 * (s ** 2 + 1) / s ** 2)
    bayes = np.concatenate(bayes)
    # measured: 1.45 (SE 0.015); Bayes 1.39 (SE 0.008)
    last = np.array(D.history[-100:])
    se = math.hypot(last.std() / math.sqrt(len(last)), bayes.std() / math.sqrt(len(bayes)))
    assert bayes.mean() - 5 * se < last.mean() < bayes.mean() + 0.15, (last.mean(), bayes.mean())


def test_a_trainer_whose_model_samples_nan_raises(monkeypatch):
    nan_samples = lambda self, n, rng, **kw: backend.xp.full((n, 2), math.nan)  # noqa: E731
    monkeypatch.setattr(tweedie.Denoiser, "sample", nan_samples)
    with pytest.raises(FloatingPointError, match="train_denoiser: 256 of 256 samples"):
        train_denoiser(MIX.sample(200, R(0)), R(1), n_steps=3, hidden=(4,))


def test_a_diverging_training_raises():
    with pytest.raises(FloatingPointError), np.errstate(all="ignore"):   # the overflow is the point
        train_denoiser(MIX.sample(500, R(0)), R(0), n_steps=50, lr=1e200, hidden=(8, 8))


@pytest.fixture(scope="module")
def tiny_denoiser():
    return train_denoiser(MIX.sample(200, R(0)), R(1), n_steps=5, batch_size=16, hidden=(8,))


Y = np.ones((4, 2))
DATA = np.asarray(backend.to_numpy(MIX.sample(100, backend.rng(0))))
NAN = np.full((2, 2), np.nan)
_ident = lambda z: z                                                            # noqa: E731
TRAIN_BAD = [
    (dict(n_steps=2.5), ValueError, "n_steps must be an integer"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(batch_size=2.5), ValueError, "batch_size must be an integer"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(hidden=8), ValueError, "hidden must be a tuple"),
    (dict(hidden=(0, 8)), ValueError, r"hidden\[0\]"),
    (dict(hidden=(8.5,)), ValueError, r"hidden\[0\] must be an integer"),
    (dict(lr=-1e-3), ValueError, "lr"),
    (dict(lr=math.nan), ValueError, "lr"),
    (dict(lr="fast"), ValueError, "lr"),
    (dict(sigma_min=-0.1), ValueError, "sigma_min"),
    (dict(sigma_min=math.nan), ValueError, "sigma_min"),
    (dict(sigma_max=math.inf), ValueError, "sigma_max"),
    (dict(sigma_min=1.0, sigma_max=0.5), ValueError, "sigma_min < sigma_max"),
    (dict(activation="gelu"), ValueError, "activation='gelu' is unknown; known"),
]


@pytest.mark.parametrize("kwargs,error,message", TRAIN_BAD)
def test_train_denoiser_refuses_bad_hyperparameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_denoiser(DATA, R(0), **{"n_steps": 3, **kwargs})


BAD_CALLS = [
    (lambda D: train_denoiser(DATA, 0, n_steps=3), TypeError, r"rng.*backend.rng\(0\)"),
    (lambda D: train_denoiser(DATA, R(0), 3), TypeError, "positional"),
    (lambda D: train_denoiser(NAN, R(0), n_steps=3), ValueError, "data"),
    (lambda D: train_denoiser(DATA[:, 0], R(0), n_steps=3), ValueError, "data"),
    (lambda D: tweedie_denoise(_ident, Y, math.inf), ValueError, "sigma"),
    (lambda D: tweedie_denoise(_ident, Y, 0.0), ValueError, "sigma"),
    (lambda D: tweedie_denoise(_ident, Y, -1.0), ValueError, "sigma"),
    (lambda D: tweedie_denoise(_ident, Y, math.nan), ValueError, "sigma"),
    (lambda D: tweedie_denoise(_ident, Y, "1"), ValueError, "sigma"),
    (lambda D: tweedie_denoise(MIX, Y, 1.0), TypeError, "score=target.score"),
    (lambda D: tweedie_denoise(lambda z: z[:, :1], Y, 1.0), ValueError, "score.*shape"),
    (lambda D: tweedie_denoise(lambda z: z * math.nan, Y, 1.0), FloatingPointError,
     "score.*NaN.*4 of 4 points"),
    (lambda D: tweedie_denoise(_ident, NAN, 1.0), ValueError, "y"),
    (lambda D: D(Y, 0.0), ValueError, "sigma"),
    (lambda D: D(Y, math.inf), ValueError, "sigma"),
    (lambda D: D(Y, math.nan), ValueError, "sigma"),
    (lambda D: D(Y[:, :1], 0.3), ValueError, "y must have 2 columns"),
    (lambda D: D(NAN, 0.3), ValueError, "y"),
    (lambda D: D.sample(2.5, R(0)), ValueError, "n must be an integer"),
    (lambda D: D.sample(0, R(0)), ValueError, "n must be an integer"),
    (lambda D: D.sample(5, 0), TypeError, "rng"),
    (lambda D: D.sample(5, R(0), n_steps=2.5), ValueError, "n_steps must be an integer"),
    (lambda D: D.sample(5, R(0), alpha=-1.0), ValueError, "alpha"),
    (lambda D: D.sample(5, R(0), alpha="1"), ValueError, "alpha"),
    (lambda D: D.sample(5, R(0), T=math.inf), ValueError, "T must"),
    (lambda D: D.sample(5, R(0), t_min=0.0), ValueError, "t_min"),
    (lambda D: D.sample(5, R(0), 10), TypeError, "positional"),
    (lambda D: score_from_denoiser(None), TypeError, "denoiser must be a function"),
    (lambda D: score_from_denoiser(D)(Y, 0.0), ValueError, "t must"),
    (lambda D: score_from_denoiser(D)(Y, math.nan), ValueError, "t must"),
    (lambda D: score_from_denoiser(D)(Y, math.inf), ValueError, "t must"),
    (lambda D: score_from_denoiser(D)(Y, 1000.0), ValueError, "t must"),
    (lambda D: score_from_denoiser(D)(NAN, 1.0), ValueError, "x"),
    (lambda D: score_from_denoiser(lambda y, s: y[:, :1])(Y, 1.0), ValueError,
     "denoiser.*shape"),
]


@pytest.mark.parametrize("call,error,message", BAD_CALLS)
def test_bad_inputs_raise_errors_naming_the_parameter(tiny_denoiser, call, error, message):
    with pytest.raises(error, match=message):
        call(tiny_denoiser)


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
        err_bayes = backend.to_numpy(((_bayes(target)(y, sigma) - x) ** 2).sum(axis=1))
        err_learned = backend.to_numpy(((D(y, sigma) - x) ** 2).sum(axis=1))
        # paired: MSE_learned - 1.05 MSE_bayes < 0 up to 5 SE of the paired difference
        diff = err_learned - 1.05 * err_bayes
        assert diff.mean() < 5 * diff.std() / math.sqrt(n), (sigma,
                                                             err_learned.mean() / err_bayes.mean())


@pytest.mark.slow
def test_generation_from_the_learned_denoiser(blobs_denoiser):
    target, D = blobs_denoiser
    n = 12_000                              # 3 chunks of 4000 for sw_ratio
    out = reverse_sde(score_from_denoiser(D), backend.rng(30).standard_normal((n, 2)),
                      time_grid(200), backend.rng(31))
    # see sw_ratio for the averaging and its standard errors
    assert sw_ratio(out, target) < 2.0
    # all 8 modes get their 1/8 share: multinomial SE sqrt(w (1 - w) / n)
    freq = backend.to_numpy(mode_occupancy(out, target.means)[0])
    assert np.all(np.abs(freq - 1 / 8) < 5 * math.sqrt(1 / 8 * 7 / 8 / n)), freq
