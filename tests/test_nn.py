"""The MLP, Adam and the training loop against finite differences, hand computation and a regression fit."""
import math

import autograd
import numpy as np
import pytest

from minigen import backend, nn
from minigen.backend import xp


def test_mlp_shapes_and_forward_by_hand():
    params = nn.init_mlp([3, 5, 2], backend.rng(0))
    assert [p["W"].shape for p in params] == [(3, 5), (5, 2)]
    x = np.random.default_rng(1).normal(size=(4, 3))
    W1, b1, W2, b2 = (backend.to_numpy(params[i][k]) for i in (0, 1) for k in ("W", "b"))
    np.testing.assert_allclose(backend.to_numpy(nn.mlp(params, x)), np.tanh(x @ W1 + b1) @ W2 + b2, rtol=1e-12)


def test_final_scale_zero_gives_the_zero_function():
    params = nn.init_mlp([2, 8, 2], backend.rng(0), final_scale=0.0)
    assert np.all(backend.to_numpy(nn.mlp(params, np.ones((3, 2)))) == 0.0)


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_autograd_gradient_matches_finite_differences(activation):
    rng = backend.rng(2)
    params = nn.init_mlp([2, 6, 6, 1], rng)
    x = rng.standard_normal((7, 2)) + 0.05      # keep away from relu's kink at exactly 0

    def loss(p):
        return xp.mean(nn.mlp(p, x, activation) ** 2)

    grads = autograd.grad(loss)(params)
    eps = 1e-6
    for k in range(len(params)):
        W, g = backend.to_numpy(params[k]["W"]), backend.to_numpy(grads[k]["W"])
        for (i, j) in [(0, 0), (1, W.shape[1] // 2), (W.shape[0] - 1, W.shape[1] - 1)]:
            values = []
            for sign in (1, -1):
                Wk = W.copy()
                Wk[i, j] += sign * eps
                shifted = [dict(layer) for layer in params]
                shifted[k]["W"] = backend.asarray(Wk)
                values.append(float(loss(shifted)))
            fd = (values[0] - values[1]) / (2 * eps)
            assert abs(fd - g[i, j]) < 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_backpropagation_by_hand_equals_autograd(activation):
    rng = backend.rng(4)
    params = nn.init_mlp([3, 7, 5, 2], rng)
    x, g_out = rng.standard_normal((9, 3)) + 0.05, rng.standard_normal((9, 2))
    tape = []
    out = nn.mlp(params, x, activation, tape)
    np.testing.assert_array_equal(backend.to_numpy(out), backend.to_numpy(nn.mlp(params, x, activation)))
    g_x, g_params = nn.mlp_vjp(params, tape, g_out, activation)

    def pulled_back(p, v):                                  # <g_out, mlp(p, v)>: its gradient is the VJP
        return xp.sum(g_out * nn.mlp(p, v, activation))

    np.testing.assert_allclose(backend.to_numpy(g_x), backend.to_numpy(autograd.grad(pulled_back, 1)(params, x)),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(nn.flatten(g_params)[0]),
                               backend.to_numpy(nn.flatten(autograd.grad(pulled_back, 0)(params, x))[0]),
                               rtol=1e-12, atol=1e-14)


def test_a_written_out_gradient_trains_like_autograd():
    rng = backend.rng(5)
    x = rng.standard_normal((64, 2))
    y = xp.sin(x[:, :1])
    params = nn.init_mlp([2, 8, 1], rng)

    def loss(p, step):
        return xp.mean((nn.mlp(p, x) - y) ** 2)

    def value_and_grad(p, step):
        tape = []
        residual = nn.mlp(p, x, "tanh", tape) - y
        return xp.mean(residual ** 2), nn.mlp_vjp(p, tape, 2.0 * residual / x.shape[0])[1]

    auto, h_auto = nn.train(loss, params, 20, lr=1e-2)
    hand, h_hand = nn.train(None, params, 20, lr=1e-2, value_and_grad=value_and_grad)
    np.testing.assert_allclose(h_hand, h_auto, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(nn.flatten(hand)[0]), backend.to_numpy(nn.flatten(auto)[0]),
                               rtol=1e-10, atol=1e-14)


def test_gradient_clipping_rescales_the_gradient_given_to_adam():
    grads = [backend.asarray([30.0, -40.0]), backend.asarray([0.3, 0.1])]      # norms 50 and 0.32

    def value_and_grad(p, step):
        return 0.0, {"w": grads[step]}

    p0 = {"w": backend.asarray([1.0, 1.0])}
    clipped, _ = nn.train(None, p0, 2, lr=0.1, value_and_grad=value_and_grad, clip=1.0)
    p, state = p0, nn.adam_init(p0)                     # the oracle: Adam fed the rescaled gradients by hand
    for g in (grads[0] / 50.0, grads[1]):
        p, state = nn.adam_step(p, {"w": g}, state, lr=0.1)
    np.testing.assert_allclose(backend.to_numpy(clipped["w"]), backend.to_numpy(p["w"]), rtol=1e-12)
    unclipped, _ = nn.train(None, p0, 2, lr=0.1, value_and_grad=value_and_grad)
    assert np.max(np.abs(backend.to_numpy(unclipped["w"]) - backend.to_numpy(p["w"]))) > 1e-3


def test_adam_step_by_hand():
    p, g = {"w": backend.asarray([1.0, -2.0])}, {"w": backend.asarray([0.5, -3.0])}
    state = nn.adam_init(p)
    p1, state = nn.adam_step(p, g, state, lr=0.1)
    # first step: m_hat = g, v_hat = g^2, so the move is lr * g / (|g| + eps) = lr * sign(g)
    np.testing.assert_allclose(backend.to_numpy(p1["w"]), [1.0 - 0.1, -2.0 + 0.1], rtol=1e-7)
    p2, state = nn.adam_step(p1, g, state, lr=0.1)
    m = 0.9 * 0.1 * np.array([0.5, -3.0]) + 0.1 * np.array([0.5, -3.0])
    v = 0.999 * 0.001 * np.array([0.25, 9.0]) + 0.001 * np.array([0.25, 9.0])
    step = 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(backend.to_numpy(p2["w"]), backend.to_numpy(p1["w"]) - step, rtol=1e-12)
    assert state["t"] == 2


def test_training_fits_a_regression():
    rng = backend.rng(3)
    x = 4 * rng.random((256, 1)) - 2
    y = xp.sin(2 * x)
    params = nn.init_mlp([1, 32, 32, 1], rng)
    params, hist = nn.train(lambda p, s: xp.mean((nn.mlp(p, x) - y) ** 2), params, 1500,
                            lr=nn.cosine_lr(5e-3, 1500))
    assert hist[0] > 0.1 and hist[-1] < 2e-3          # var(sin 2x) ~ 0.5: the net explains > 99.5%


def test_training_raises_on_nan():
    params = {"w": backend.asarray([1.0])}

    def loss(p, step):
        return xp.sum(xp.log(p["w"] - 2.0 * (step >= 3)))       # log of a negative number at step 3

    with pytest.raises(FloatingPointError, match="step 3"), np.errstate(invalid="ignore"):
        nn.train(loss, params, 10, lr=1e-3)


def test_cosine_schedule_endpoints():
    s = nn.cosine_lr(1.0, 100, warmup=10, final_frac=0.1)
    assert s(0) == pytest.approx(0.1) and s(9) == pytest.approx(1.0)
    assert s(10) == pytest.approx(1.0) and s(100) == pytest.approx(0.1)
    assert s(55) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))


def test_standardize_and_bad_input():
    data = backend.asarray(np.random.default_rng(4).normal(3.0, 2.0, size=(500, 2)))
    z, mean, std = nn.standardize(data)
    np.testing.assert_allclose(backend.to_numpy(xp.mean(z, 0)), 0, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(xp.std(z, 0)), 1, atol=1e-12)
    with pytest.raises(ValueError, match="NaN"):
        nn.standardize(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="sizes"):
        nn.init_mlp([3], backend.rng(0))
    with pytest.raises(ValueError, match="n_steps"):
        nn.train(lambda p, s: xp.sum(p), backend.asarray([1.0]), 0)
