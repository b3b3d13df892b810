"""Oracles for the original GAN: Lemma 1 (Eq. (48)), Theorem 1 (Eq. (53)-(54)), footnote 48, losses."""
import math

import autograd
import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.gans import gan


def _normal_pdf(x, mu, s):
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


GRID = np.linspace(-12.0, 12.0, 200_001)          # quadrature grid for 1D densities (trapezoid rule)


def _js_quadrature(p, q):
    """JS(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, by the trapezoid rule."""
    m = 0.5 * (p + q)
    kl = lambda a: np.trapezoid(np.where(a > 0, a * np.log(np.maximum(a, 1e-300) / m), 0.0), GRID)  # noqa: E731
    return 0.5 * kl(p) + 0.5 * kl(q)


def _value_quadrature(D, p, q):
    """Eq. (51): V(D, G) = int p_data log D + p_G log(1 - D)."""
    return np.trapezoid(p * np.log(D) + q * np.log(1.0 - D), GRID)


@pytest.mark.parametrize("mu_g, s_g", [(1.5, 0.8), (-0.5, 2.0), (4.0, 1.0)])
def test_theorem1_value_at_optimal_discriminator_is_2js_minus_log4(mu_g, s_g):
    p, q = _normal_pdf(GRID, 0.0, 1.0), _normal_pdf(GRID, mu_g, s_g)
    d_star = backend.to_numpy(gan.optimal_discriminator(xp.asarray(p) + 1e-300, xp.asarray(q)))
    v_star = _value_quadrature(np.clip(d_star, 1e-300, 1 - 1e-16), p, q)
    assert v_star == pytest.approx(2 * _js_quadrature(p, q) - math.log(4), abs=1e-6)      # Eq. (53)
    # Lemma 1: any other discriminator does worse (D* maximizes V pointwise)
    for other in (np.full_like(p, 0.5), np.clip(d_star * 0.9 + 0.05, 1e-12, 1 - 1e-12)):
        assert _value_quadrature(other, p, q) < v_star


def test_theorem1_minimum_minus_log4_when_pg_equals_pdata():
    p = _normal_pdf(GRID, 0.3, 1.2)
    d_star = backend.to_numpy(gan.optimal_discriminator(xp.asarray(p) + 1e-300, xp.asarray(p) + 1e-300))
    assert np.allclose(d_star, 0.5)
    assert _value_quadrature(d_star, p, p) == pytest.approx(-math.log(4), abs=1e-9)       # Eq. (54)
    assert gan.LOG4 == pytest.approx(math.log(4))


def test_value_function_monte_carlo_matches_quadrature():
    rng = backend.rng(1)
    n = 50_000
    x = backend.to_numpy(rng.standard_normal((n,)))
    y = backend.to_numpy(1.0 + 0.5 * rng.standard_normal((n,)))
    D = lambda t: _sigmoid(1.3 * t - 0.4)                                                  # noqa: E731
    v_mc = gan.value_function(xp.asarray(D(x)), xp.asarray(D(y)))
    v_q = _value_quadrature(D(GRID), _normal_pdf(GRID, 0, 1), _normal_pdf(GRID, 1.0, 0.5))
    # SE of a sum of two independent sample means: sqrt(var1/n + var2/n)
    se = math.sqrt(np.var(np.log(D(x))) / n + np.var(np.log(1 - D(y))) / n)
    assert abs(v_mc - v_q) < 5 * se


def test_discriminator_loss_is_minus_value_on_the_batch():
    rng = backend.rng(2)
    params = [{"W": rng.standard_normal((1, 1)), "b": xp.asarray([0.3])}]          # D = sigmoid(w x + b)
    xr, xf = rng.standard_normal((64, 1)), 2.0 + rng.standard_normal((64, 1))
    w, b = float(params[0]["W"][0, 0]), 0.3
    dr, df = _sigmoid(w * backend.to_numpy(xr)[:, 0] + b), _sigmoid(w * backend.to_numpy(xf)[:, 0] + b)
    expected = -(np.mean(np.log(dr)) + np.mean(np.log(1 - df)))
    assert float(gan.discriminator_loss(params, xr, xf)) == pytest.approx(expected, rel=1e-10)


def test_minimax_loss_saturates_where_nonsaturating_does_not():
    a = xp.asarray([-8.0, -6.0, -7.0])               # D(G(z)) ~ 1e-3: the discriminator wins
    m = np.asarray(backend.to_numpy(a))
    assert float(gan.generator_loss(a, "minimax")) == pytest.approx(np.mean(np.log(1 - _sigmoid(m))), rel=1e-10)
    assert float(gan.generator_loss(a, "non_saturating")) == pytest.approx(-np.mean(np.log(_sigmoid(m))), rel=1e-10)
    g_mm = backend.to_numpy(autograd.grad(lambda t: gan.generator_loss(t, "minimax"))(a))
    g_ns = backend.to_numpy(autograd.grad(lambda t: gan.generator_loss(t, "non_saturating"))(a))
    # d/da log(1 - sigma(a)) = -sigma(a) ~ 0;  d/da -log sigma(a) = sigma(a) - 1 ~ -1
    assert np.allclose(g_mm, -_sigmoid(m) / 3) and np.max(np.abs(g_mm)) < 1e-3
    assert np.allclose(g_ns, (_sigmoid(m) - 1) / 3) and np.min(np.abs(g_ns)) > 0.3


def test_lemma1_trained_discriminator_matches_optimal():
    rng = backend.rng(3)
    n = 20_000
    x_data = rng.standard_normal((n, 1))                      # p_data = N(0, 1)
    x_g = 1.5 + 0.8 * rng.standard_normal((n, 1))             # G fixed: p_G = N(1.5, 0.8^2)
    D = gan.fit_discriminator(x_data, x_g, rng, n_steps=400, hidden=(32,), lr=1e-2)
    grid = np.linspace(-1.5, 3.0, 46)
    d_star = _normal_pdf(grid, 0, 1) / (_normal_pdf(grid, 0, 1) + _normal_pdf(grid, 1.5, 0.8))
    d_hat = backend.to_numpy(D(xp.asarray(grid[:, None])))
    assert np.max(np.abs(d_hat - d_star)) < 0.05       # finite-sample + optimization error


def test_footnote48_js_estimate_is_flat_at_log2():
    rng = backend.rng(4)
    n = 2000
    for theta in (0.0, 0.25, 0.5, 1.5):
        p0 = xp.concatenate([xp.zeros((n, 1)), rng.random((n, 1))], axis=1)            # (0, U[0, 1])
        pt = xp.concatenate([theta + xp.zeros((n, 1)), rng.random((n, 1))], axis=1)    # (theta, U[0, 1])
        D = gan.fit_discriminator(p0, pt, rng, n_steps=200, hidden=(16,), lr=3e-2)
        js = 0.5 * (gan.value_function(D(p0), D(pt)) + math.log(4))                   # Eq. (53) solved for JS
        if theta == 0.0:
            assert abs(js) < 0.05                        # same law: JS = 0 (up to overfitting 2000 points)
        else:
            assert 0.9 * math.log(2) < js <= math.log(2) + 1e-9       # disjoint supports: JS = log 2


def test_train_gan_runs_and_keeps_history():
    rng = backend.rng(5)
    data = 3.0 + 10.0 * rng.standard_normal((500, 2))
    model = gan.train_gan(data, rng, n_steps=15, hidden=(16,), batch_size=64, n_snapshots=3)
    x = model.sample(100, rng)
    assert x.shape == (100, 2)
    d = backend.to_numpy(model.discriminator(x))
    assert d.shape == (100,) and np.all((d > 0) & (d < 1))
    assert len(model.history["value"]) == len(model.history["g_loss"]) == 15
    assert [s for s, _ in model.history["snapshots"]] == [1, 8, 15]


def test_bad_input():
    rng = backend.rng(6)
    data = rng.standard_normal((300, 2))
    with pytest.raises(ValueError, match="shape"):
        gan.train_gan(data[:, 0], rng)
    with pytest.raises(ValueError, match="batch_size"):
        gan.train_gan(data[:100], rng, batch_size=256)
    with pytest.raises(ValueError, match="k"):
        gan.train_gan(data, rng, k=0)
    with pytest.raises(ValueError, match="loss"):
        gan.train_gan(data, rng, loss="hinge")
    with pytest.raises(ValueError, match="NaN"):
        gan.train_gan(xp.concatenate([data, xp.asarray([[float("nan"), 0.0]])]), rng, n_steps=2)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the run diverges on purpose
def test_divergence_raises():
    rng = backend.rng(7)
    with pytest.raises(FloatingPointError):
        gan.train_gan(rng.standard_normal((300, 2)), rng, n_steps=5, lr=1e200, hidden=(8,), batch_size=64)
