"""The neural Gibbs energy (minigen.energy.neural, pcd): oracles that share no code with it.

score = -grad U against central finite differences of U; log p integrates to 1 by Simpson's rule
on a grid of our own (in data units); the PCD surrogate's gradient is Eq. (32) written out for
an energy linear in theta; MALA from noise on V = 0 gives N(mean, diag std^2) within 5 SE;
training on one Gaussian recovers its mean and covariance (moments by our own quadrature); save
and load are exact; each has the wrong variant it must reject (a sign, a dropped Jacobian).
"""
import autograd
import numpy as np
import pytest
from conftest import assert_on_backend, host
from scipy.integrate import simpson

from minigen import backend, distributions, io, metrics, nn
from minigen.energy import neural, pcd
from minigen.energy.neural import EnergyModel, train_energy

MEAN, STD = [0.7, -1.2], [0.5, 3.0]          # a standardization far from the identity


def random_model(seed=0, hidden=(16, 16), final_scale=1.0, activation="tanh"):
    params = nn.init_mlp([2, *hidden, 1], backend.rng(seed), final_scale=final_scale)
    return EnergyModel(params, backend.asarray(MEAN), backend.asarray(STD),
                       activation=activation, step_size=0.05)


def model_grid(model, n=401, width=7.0):
    """Host (xs, ys, log p on the grid) over mean +- width std, for Simpson's rule."""
    xs = MEAN[0] + STD[0] * np.linspace(-width, width, n)
    ys = MEAN[1] + STD[1] * np.linspace(-width, width, n)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    return xs, ys, host(model.log_prob(backend.asarray(pts))).reshape(n, n)


def integrate(xs, ys, f):
    return simpson(simpson(f, x=ys, axis=1), x=xs)


@pytest.mark.parametrize("activation", ["tanh", "silu"])
def test_score_is_minus_grad_energy(activation):
    model = random_model(1, activation=activation)
    x = backend.rng(2).standard_normal((50, 2)) * np.array(STD) + np.array(MEAN)
    eps, fd = 1e-5, np.zeros((50, 2))
    for i in range(2):
        e = np.zeros(2)
        e[i] = eps
        fd[:, i] = -(host(model.energy(x + e)) - host(model.energy(x - e))) / (2 * eps)
    s = host(model.score(x))
    err = np.max(np.abs(s - fd))
    assert err < 1e-6 * (1 + np.max(np.abs(fd)))
    # the wrong variants: +grad U, and the standardized gradient without the 1/std chain factor
    grad_z = -host(autograd.grad(lambda z: np.sum(neural.standardized_energy(
        model.params, z, activation)))((x - np.array(MEAN)) / np.array(STD)))
    assert np.max(np.abs(-s - fd)) > 1e3 * max(err, 1e-9)
    assert np.max(np.abs(grad_z - fd)) > 1e3 * max(err, 1e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_log_prob_integrates_to_one(seed):
    model = random_model(seed)
    xs, ys, lp = model_grid(model)
    mass = integrate(xs, ys, np.exp(lp))
    assert abs(mass - 1.0) < 1e-4
    # the wrong variant: log p normalized in standardized units (no Jacobian sum log std)
    wrong = integrate(xs, ys, np.exp(lp + np.sum(np.log(STD))))
    assert abs(wrong - 1.0) > 0.4


def test_log_prob_is_2d_only_and_checks_x():
    params = nn.init_mlp([3, 8, 1], backend.rng(0))
    model = EnergyModel(params, backend.asarray([0.0, 0, 0]), backend.asarray([1.0, 1, 1]))
    assert model.energy(np.zeros((4, 3))).shape == (4,)
    with pytest.raises(ValueError, match="2D only"):
        model.log_prob(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2 columns"):
        random_model().energy(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        random_model().score(np.full((2, 2), np.nan))


def test_pcd_surrogate_gradient_is_eq_32():
    # U_theta(z) = theta . Phi(z), Phi = (z1, z2, z1^2, z1 z2): grad_theta U = Phi (Eq. 33)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 2)), rng.standard_normal((30, 2)) * 1.5

    def phi(z):
        return np.stack([z[:, 0], z[:, 1], z[:, 0] ** 2, z[:, 0] * z[:, 1]], axis=1)

    def energy(theta, z):
        return phi(z) @ theta

    theta = np.array([0.3, -0.2, 0.5, 0.1])
    g = autograd.grad(lambda t: pcd.pcd_loss(energy, t, x, y, 0.0))(theta)
    expected = phi(x).mean(axis=0) - phi(y).mean(axis=0)                 # Eq. (32), (35)
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(g + expected)) > 0.1                            # the sign of Eq. (32)
    # the penalty alpha (E U(x)^2 + E U(y)^2) adds 2 alpha (E[U Phi](x) + E[U Phi](y))
    g2 = autograd.grad(lambda t: pcd.pcd_loss(energy, t, x, y, 0.1))(theta)
    extra = 0.2 * ((energy(theta, x)[:, None] * phi(x)).mean(0)
                   + (energy(theta, y)[:, None] * phi(y)).mean(0))
    np.testing.assert_allclose(g2, expected + extra, rtol=1e-12, atol=1e-12)


def test_langevin_target_cache_follows_the_points():
    model = random_model(4)
    log_prob, score = pcd.langevin_target(model._energy, model.params)
    z1, z2 = backend.rng(5).standard_normal((6, 2)), backend.rng(6).standard_normal((6, 2))
    u2 = host(neural.standardized_energy(model.params, z2, "tanh"))
    g2 = host(autograd.grad(lambda z: np.sum(neural.standardized_energy(
        model.params, z, "tanh")))(z2))
    log_prob(z1)
    np.testing.assert_allclose(host(score(z2)), -g2, rtol=1e-12)         # not z1's cached score
    np.testing.assert_allclose(host(log_prob(z2)), -u2, rtol=1e-12)


def test_sample_is_mala_on_a_known_gaussian():
    # no hidden layer: V(z) = w . z + b, so U = |z + w|^2 / 2 + const and p = N(mean - std w,
    # diag std^2); the chains start from N(0, I) in z and must travel |w| ~ 1.8 to get there
    model = random_model(0, hidden=())
    model.params[0]["W"] = backend.asarray([[1.5], [-1.0]])
    mu = np.array(MEAN) - np.array(STD) * np.array([1.5, -1.0])
    n = 2000
    x = host(model.sample(n, backend.rng(7), n_steps=60, step_size=0.3))
    mean_err = (x.mean(axis=0) - mu) / (np.array(STD) / np.sqrt(n))   # in SE units
    var_err = (x.var(axis=0) - np.square(STD)) / (np.square(STD) * np.sqrt(2.0 / n))
    assert np.all(np.abs(mean_err) < 5) and np.all(np.abs(var_err) < 5), (mean_err, var_err)
    # the wrong variants: too short a run (3 steps) is > 10 SE off; forgetting the std when
    # mapping back (x = mean + z) is > 30 SE off
    short = host(model.sample(n, backend.rng(7), n_steps=3, step_size=0.3))
    assert np.max(np.abs((short.mean(axis=0) - mu) / (np.array(STD) / np.sqrt(n)))) > 10
    wrong = (x - MEAN) / np.array(STD) + MEAN
    assert np.max(np.abs((wrong.var(axis=0) - np.square(STD))
                         / (np.square(STD) * np.sqrt(2.0 / n)))) > 30


def gaussian_data(n=3000, seed=0):
    cov = np.array([[1.0, 0.6], [0.6, 0.8]])
    return np.random.default_rng(seed).multivariate_normal([1.0, -2.0], cov, size=n)


def model_moments(model, data):
    """Mean and covariance of p_theta by Simpson's rule on a grid of our own (data units)."""
    m, s = data.mean(0), data.std(0)
    xs, ys = (np.linspace(m[i] - 7 * s[i], m[i] + 7 * s[i], 301) for i in range(2))
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    p = np.exp(host(model.log_prob(np.stack([X.ravel(), Y.ravel()], 1)))).reshape(X.shape)
    mu = np.array([integrate(xs, ys, p * X), integrate(xs, ys, p * Y)])
    cxy = integrate(xs, ys, p * (X - mu[0]) * (Y - mu[1]))
    cov = np.array([[integrate(xs, ys, p * (X - mu[0]) ** 2), cxy],
                    [cxy, integrate(xs, ys, p * (Y - mu[1]) ** 2)]])
    return mu, cov


FAST = dict(hidden=(16, 16), batch_size=128, progress=False)


@pytest.mark.parametrize("method, extra", [
    ("pcd", dict(n_steps=400, n_chains=128, mcmc_steps=3, lr=3e-2)),
    ("pcd", dict(n_steps=400, n_chains=128, mcmc_steps=3, lr=3e-2, alpha=0.0, restart=0.0)),
    ("score_matching", dict(n_steps=400, lr=1e-2)),
    # denoising at sigma (standardized units): the score of the data blurred by N(0, sigma^2)
    ("score_matching", dict(n_steps=400, lr=3e-2, objective="denoising", sigma=0.3,
                            activation="silu")),
])
def test_training_on_a_gaussian_recovers_its_moments(method, extra):
    data = gaussian_data()
    model = train_energy(data, backend.rng(1), method=method, **FAST, **extra)
    mu, cov = model_moments(model, data)
    blur = extra.get("sigma", 0.0) ** 2 * np.diag(data.var(0))       # in data units
    # tolerance 0.1: 0.02-0.03 of sampling error (SE of a covariance entry at n = 3000) plus
    # what 400 Adam steps leave (0.01-0.07 seen); the untrained model misses cov_12 = 0.6 by 0.6
    np.testing.assert_allclose(mu, data.mean(0), atol=0.1)
    np.testing.assert_allclose(cov, np.cov(data.T) + blur, atol=0.1)
    untrained = random_model(0, final_scale=0.0)
    untrained.mean, untrained.std = backend.asarray(data.mean(0)), backend.asarray(data.std(0))
    assert abs(model_moments(untrained, data)[1][0, 1] - np.cov(data.T)[0, 1]) > 0.5


def test_pcd_with_the_wrong_sign_does_not_learn(monkeypatch):
    """The wrong variant of Eq. (32): descending E_model U - E_data U pushes the data away."""
    data = gaussian_data()
    right = pcd.pcd_loss
    monkeypatch.setattr(pcd, "pcd_loss", lambda e, p, x, y, a: right(e, p, y, x, a))
    try:
        model = train_energy(data, backend.rng(1), n_steps=200, n_chains=128, mcmc_steps=3,
                             lr=3e-2, **FAST)
    except FloatingPointError:
        return
    mu, cov = model_moments(model, data)
    assert np.max(np.abs(cov - np.cov(data.T))) > 0.3 or np.max(np.abs(mu - data.mean(0))) > 0.3


def test_short_run_chains_restart_from_noise():
    data = gaussian_data(500)
    seen = []
    model = train_energy(data, backend.rng(2), n_steps=5, chains="short_run", mcmc_steps=3,
                         callback=lambda step, p, v: seen.append(step), **FAST)
    assert seen == list(range(5)) and len(model.history) == 5
    assert model.step_size == 0.02                       # a fixed step: nothing adapted


OPTIONS = {"pcd": dict(n_chains=16, mcmc_steps=2), "score_matching": {}}


def test_round_trip_is_exact(backend_name, tmp_path):
    data = distributions.polygon_blobs(4, 2.0, 0.3).sample(300, backend.rng(0))
    for method in ("pcd", "score_matching"):
        model = train_energy(data, backend.rng(1), method=method, n_steps=6, hidden=(8,),
                             batch_size=32, progress=False, **OPTIONS[method])
        loaded = io.load(model.save(tmp_path / f"{method}.npz"))
        assert type(loaded) is EnergyModel and loaded.state()[0] == model.state()[0]
        x = data[:20]
        for f in ("energy", "score", "log_prob"):
            np.testing.assert_array_equal(host(getattr(loaded, f)(x)), host(getattr(model, f)(x)))
        np.testing.assert_array_equal(host(loaded.sample(7, backend.rng(3), n_steps=4)),
                                      host(model.sample(7, backend.rng(3), n_steps=4)))


def test_on_every_backend(backend_name):
    data = distributions.polygon_blobs(4, 2.0, 0.3).sample(200, backend.rng(0))
    for method in ("pcd", "score_matching"):
        model = train_energy(data, backend.rng(1), method=method, n_steps=4, hidden=(8,),
                             batch_size=32, progress=False, **OPTIONS[method])
        x = data[:10]
        for name, out in (("energy", model.energy(x)), ("score", model.score(x)),
                          ("log_prob", model.log_prob(x)),
                          ("sample", model.sample(5, backend.rng(2), n_steps=3))):
            assert_on_backend(out, name)
        assert np.all(np.isfinite(host(model.log_prob(x))))


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="mle"), "method"),
    (dict(chains="long"), "chains"),
    (dict(objective="explicit", method="score_matching"), "objective"),
    (dict(n_steps=2.5), "n_steps"),
    (dict(alpha=-1.0), "alpha"),
    (dict(restart=1.5), "restart"),
    (dict(mcmc_steps=0), "mcmc_steps"),
    (dict(n_chains=0), "n_chains"),
    (dict(sigma=0.0, method="score_matching"), "sigma"),
    (dict(hidden=(8, 0)), "hidden"),
    (dict(activation="sine"), "activation"),
    (dict(lr=2.0), "lr"),
    (dict(step_size=-0.1), "step_size"),
])
def test_bad_arguments_are_refused(kwargs, match):
    data = gaussian_data(100)
    with pytest.raises(ValueError, match=match):
        train_energy(data, backend.rng(0), **{"n_steps": 2, "progress": False, **kwargs})


def test_bad_data_and_options_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        train_energy(np.array([[0.0, 1.0], [np.nan, 2.0]]), backend.rng(0), n_steps=2)
    with pytest.raises(ValueError, match="shape"):
        train_energy(np.zeros(10), backend.rng(0), n_steps=2)
    with pytest.raises(TypeError, match="rng"):
        train_energy(gaussian_data(50), 0, n_steps=2)
    with pytest.raises(TypeError, match="objective"):          # an option of the other method
        train_energy(gaussian_data(50), backend.rng(0), n_steps=2, objective="implicit")
    with pytest.raises(ValueError, match="n"):
        random_model().sample(0, backend.rng(0))


@pytest.mark.slow
def test_defaults_pcd_on_the_blobs():
    target = distributions.polygon_blobs(8, 2.0, 0.2)
    model = train_energy(target.sample(10_000, backend.rng(0)), backend.rng(1), progress=False)
    xs = ys = np.linspace(-3.5, 3.5, 351)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()], 1)
    lp, lq = (host(f(pts)).reshape(X.shape) for f in (target.log_prob, model.log_prob))
    assert integrate(xs, ys, np.exp(lp) * (lp - lq)) <= 0.15           # KL(p || p_theta)
    x = model.sample(4000, backend.rng(2))
    assert metrics.mode_coverage(x, target.means, 0.2) == 8
    assert metrics.mode_occupancy(x, target.means).total_variation <= 0.1


@pytest.mark.slow
def test_defaults_score_matching_on_the_blobs():
    target = distributions.polygon_blobs(8, 2.0, 0.2)
    model = train_energy(target.sample(10_000, backend.rng(0)), backend.rng(1),
                         method="score_matching", progress=False)
    x = target.sample(20_000, backend.rng(3))
    s, t = host(model.score(x)), host(target.score(x))
    assert np.mean(np.sum((s - t) ** 2, 1)) / np.mean(np.sum(t ** 2, 1)) <= 0.05
