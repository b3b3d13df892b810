"""Oracles for WGAN: Kantorovich-Rubinstein duality (Eq. (62)) against the exact 1D W1, footnote 48,
the gradient penalty against finite differences, clipping, and the trained model's quality (slow)."""
import autograd
import numpy as np
import pytest

from minigen import backend, metrics, nn
from minigen.backend import xp
from minigen.distributions import polygon_blobs
from minigen.gans import wgan


def _w1_sorted(x, y):
    """Exact W1 between two 1D empirical measures of equal size: mean |x_(i) - y_(i)|."""
    return float(np.mean(np.abs(np.sort(x) - np.sort(y))))


def _fd_input_grad(f, x, h=1e-5):
    """grad_x f by central finite differences, f: (n, d) -> (n,) with independent rows."""
    cols = []
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        cols.append((backend.to_numpy(f(xp.asarray(x + e))) - backend.to_numpy(f(xp.asarray(x - e)))) / (2 * h))
    return np.stack(cols, axis=1)


def test_gradient_penalty_value_and_parameter_gradient_match_finite_differences():
    rng = backend.rng(0)
    params = nn.init_mlp([2, 8, 8, 1], rng)
    xr, xf, u = rng.standard_normal((16, 2)), 1.0 + rng.standard_normal((16, 2)), rng.random((16, 1))
    act = "tanh"                                                        # smooth: FD has no kinks to hit
    # the penalty's value: its input gradient by finite differences of f
    x_t = backend.to_numpy(u * xr + (1 - u) * xf)
    g = _fd_input_grad(lambda y: wgan.critic_value(params, y, act), x_t)
    expected = np.mean((np.linalg.norm(g, axis=1) - 1.0) ** 2)
    assert float(wgan.gradient_penalty(params, xr, xf, u, act)) == pytest.approx(expected, rel=1e-6)
    # its gradient w.r.t. the critic's params (double backprop) against FD on every weight of layer 0, 1
    grads = autograd.grad(wgan.gradient_penalty)(params, xr, xf, u, act)
    for layer in (0, 1):
        W = backend.to_numpy(params[layer]["W"])
        fd = np.zeros_like(W)
        for idx in np.ndindex(*W.shape):
            for sign in (1, -1):
                Wp = W.copy()
                Wp[idx] += sign * 1e-6
                p2 = [dict(l) for l in params]
                p2[layer]["W"] = xp.asarray(Wp)
                fd[idx] += sign * float(wgan.gradient_penalty(p2, xr, xf, u, act)) / 2e-6
        assert np.allclose(backend.to_numpy(grads[layer]["W"]), fd, rtol=1e-4, atol=1e-7)


def test_kr_duality_matches_exact_1d_w1_and_gradient_norm_is_one():
    rng = backend.rng(1)
    n = 2000
    x_p = rng.standard_normal((n, 1))                           # N(0, 1)
    x_q = 1.0 + 0.5 * rng.standard_normal((n, 1))               # N(1, 0.25): W1 ~ 1.0
    # (the penalty is soft: in 1D the critic's slope settles near 1 + W1 / (2 lam), a +5% bias here)
    f, w1_hat = wgan.fit_critic(x_p, x_q, rng, n_steps=200, hidden=(32,), lr=5e-3)
    w1 = _w1_sorted(backend.to_numpy(x_p)[:, 0], backend.to_numpy(x_q)[:, 0])
    assert abs(w1_hat - w1) < 0.1 * w1                                               # Theorem 3, Eq. (62)
    # after training |f'| ~ 1 on interpolates (the constraint GP enforces), by finite differences
    u = backend.to_numpy(rng.random((n, 1)))
    x_t = u * backend.to_numpy(x_p) + (1 - u) * backend.to_numpy(x_q)
    slope = np.abs(_fd_input_grad(f, x_t)[:, 0])
    assert abs(np.mean(slope) - 1.0) < 0.1


def test_footnote48_critic_tracks_abs_theta():
    rng = backend.rng(2)
    n = 1000
    for theta in (-1.0, 0.5, 1.0):
        p0 = xp.concatenate([xp.zeros((n, 1)), rng.random((n, 1))], axis=1)            # (0, U[0, 1])
        pt = xp.concatenate([theta + xp.zeros((n, 1)), rng.random((n, 1))], axis=1)    # (theta, U[0, 1])
        _, w1_hat = wgan.fit_critic(p0, pt, rng, n_steps=200, hidden=(32,), lr=5e-3)
        # W1(p0, p_theta) = |theta| (footnote 53); the empirical plan adds at most ~ 0.03 for n = 1000
        assert abs(w1_hat - abs(theta)) < 0.1 * abs(theta)


def test_clipping_keeps_every_weight_in_the_box():
    rng = backend.rng(3)
    data = rng.standard_normal((400, 2))
    model = wgan.train_wgan(data, rng, lipschitz="clip", clip=0.05, n_steps=5, n_critic=2,
                            hidden=(16,), batch_size=64)
    for leaf in nn.tree_leaves(model.critic_params):
        assert float(xp.max(xp.abs(leaf))) <= 0.05 + 1e-15
    assert len(model.history["w1"]) == 5
    assert model.sample(10, rng).shape == (10, 2) and model.critic(data[:7]).shape == (7,)


def test_critic_in_data_units_has_the_scaled_critics_lipschitz_constant():
    rng = backend.rng(4)
    data = 100.0 + 50.0 * rng.standard_normal((400, 2))           # far from unit scale
    model = wgan.train_wgan(data, rng, n_steps=3, n_critic=1, hidden=(16,), batch_size=64)
    x = backend.to_numpy(data[:50])
    g_data = _fd_input_grad(model.critic, x, h=1e-3)
    g_scaled = _fd_input_grad(lambda y: wgan.critic_value(model.critic_params, y, model.activation),
                              (x - backend.to_numpy(model.mean)) / model.scale, h=1e-5)
    assert np.allclose(g_data, g_scaled, rtol=1e-4, atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the run diverges on purpose
def test_bad_input():
    rng = backend.rng(5)
    data = rng.standard_normal((300, 2))
    with pytest.raises(ValueError, match="lipschitz"):
        wgan.train_wgan(data, rng, lipschitz="spectral")
    with pytest.raises(ValueError, match="n_critic"):
        wgan.train_wgan(data, rng, n_critic=0)
    with pytest.raises(ValueError, match="shape"):
        wgan.train_wgan(data[:, :1].ravel(), rng)
    with pytest.raises(ValueError, match="batch_size"):
        wgan.train_wgan(data[:10], rng, batch_size=64)
    with pytest.raises(ValueError, match="lam"):
        wgan.train_wgan(data, rng, lam=-1.0)
    with pytest.raises(FloatingPointError):
        wgan.train_wgan(data, rng, n_steps=5, n_critic=1, lr=1e200, hidden=(8,), batch_size=64)


@pytest.mark.slow
def test_wgan_gp_defaults_cover_the_eight_blobs():
    rng = backend.rng(0)
    target = polygon_blobs(8, 2.0, 0.2)
    model = wgan.train_wgan(target.sample(5000, rng), rng)
    x = model.sample(5000, rng)
    assert metrics.mode_coverage(x, target.means, 0.2) == 8
    assert metrics.high_quality_fraction(x, target.means, 0.2) >= 0.9
