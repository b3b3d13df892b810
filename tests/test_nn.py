"""The MLP, Adam and the training loop against finite differences, hand computation and a
regression fit."""
import math
import warnings

import autograd
import numpy as np
import pytest

from minigen import backend, nn
from minigen.backend import xp

from conftest import assert_close, host


def test_mlp_shapes_and_forward_by_hand():
    params = nn.init_mlp([3, 5, 2], backend.rng(0))
    assert [p["W"].shape for p in params] == [(3, 5), (5, 2)]
    x = np.random.default_rng(1).normal(size=(4, 3))
    W1, b1, W2, b2 = (backend.to_numpy(params[i][k]) for i in (0, 1) for k in ("W", "b"))
    np.testing.assert_allclose(host(nn.mlp(params, backend.asarray(x))),
                               np.tanh(x @ W1 + b1) @ W2 + b2, rtol=1e-12)


def test_final_scale_zero_gives_the_zero_function():
    params = nn.init_mlp([2, 8, 2], backend.rng(0), final_scale=0.0)
    assert np.all(host(nn.mlp(params, xp.ones((3, 2)))) == 0.0)


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


# The oracle for nn.dense: the same MLP written with autograd's own operations (no fused primitive).
UNFUSED = {
    "tanh": lambda a: xp.tanh(a),
    "relu": lambda a: xp.maximum(a, 0.0),
    "leaky_relu": lambda a: xp.where(a > 0, a, 0.2 * a),
    "softplus": lambda a: xp.log(1.0 + xp.exp(a)),
    "silu": lambda a: a / (1.0 + xp.exp(-a)),
}


def unfused_mlp(params, x, activation):
    for layer in params[:-1]:
        x = UNFUSED[activation](xp.matmul(x, layer["W"]) + layer["b"])
    return xp.matmul(x, params[-1]["W"]) + params[-1]["b"]


def _problem(seed=7, sizes=(3, 6, 5, 1), n=9):
    rng = backend.rng(seed)
    params = nn.init_mlp(list(sizes), rng)
    # non-zero biases
    params = nn.tree_map(lambda a: a + 0.3 * rng.standard_normal(a.shape), params)
    return params, rng.standard_normal((n, sizes[0])) + 0.05, rng


def _vector(params):
    """A flat copy of the params and its inverse, by plain slicing (autograd's, not nn.flatten)."""
    leaves = nn.tree_leaves(params)
    flat = xp.concatenate([xp.reshape(a, (-1,)) for a in leaves])
    ends = np.cumsum([0] + [int(np.prod(a.shape)) for a in leaves])

    def rebuild(w):
        pieces = iter([xp.reshape(w[i:j], a.shape) for i, j, a in zip(ends[:-1], ends[1:], leaves)])
        return nn.tree_map(lambda _: next(pieces), params)
    return flat, rebuild


def _leaves_close(actual, expected, rtol=1e-10):
    for a, e in zip(nn.tree_leaves(actual), nn.tree_leaves(expected)):
        assert np.all(np.isfinite(host(e)))
        assert_close(a, e, rtol=rtol, atol=rtol)


def _penalty(f):
    """A gradient-norm penalty E (|grad_x f| - 1)^2, a function of the params (WGAN-GP's shape)."""
    def loss(params, x):
        g = autograd.grad(lambda y: xp.sum(f(params, y)))(x)
        return xp.mean((xp.sqrt(xp.sum(g * g, axis=1) + 1e-12) - 1.0) ** 2)
    return loss


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_dense_primitive_forward_and_gradient_equal_the_unfused_mlp(backend_name, activation):
    params, x, rng = _problem()
    g_out = rng.standard_normal((9, 1))
    assert_close(nn.mlp(params, x, activation), unfused_mlp(params, x, activation), rtol=1e-12)
    def fused_out(p, v):
        return xp.sum(g_out * nn.mlp(p, v, activation))

    def plain_out(p, v):
        return xp.sum(g_out * unfused_mlp(p, v, activation))
    for argnum in (0, 1):                                  # d/dparams and d/dx of <g_out, mlp>
        fused = autograd.grad(fused_out, argnum)(params, x)
        plain = autograd.grad(plain_out, argnum)(params, x)
        _leaves_close(fused, plain)


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_dense_second_derivatives_equal_the_unfused_ones(backend_name, activation):
    """A Hessian-vector product in the params, one in the input, and the gradient of a gradient
    penalty."""
    params, x, rng = _problem()
    v = nn.tree_map(lambda a: rng.standard_normal(a.shape), params)
    u = rng.standard_normal(x.shape)

    # d/dp <grad_p L(p), v>, L = mean f^2, on a flat p
    def hvp(f):
        flat, rebuild = _vector(params)
        v_flat = _vector(v)[0]
        grad_L = autograd.grad(lambda w: xp.mean(f(rebuild(w), x, activation) ** 2))
        return autograd.grad(lambda w: xp.sum(grad_L(w) * v_flat))(flat)

    def input_hvp(f):                                      # d/dx <grad_x sum f, u>
        grad_x = autograd.grad(lambda z: xp.sum(f(params, z, activation)))
        return autograd.grad(lambda y: xp.sum(grad_x(y) * u))(x)

    assert_close(hvp(nn.mlp), hvp(unfused_mlp), rtol=1e-10)
    # piecewise-linear nets: the input Hessian is 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = input_hvp(unfused_mlp)
        assert_close(input_hvp(nn.mlp), expected, rtol=1e-10)
    if activation not in ("relu", "leaky_relu"):
        assert float(np.max(np.abs(host(expected)))) > 1e-3
    fused = autograd.grad(_penalty(lambda p, y: nn.mlp(p, y, activation)))(params, x)
    plain = autograd.grad(_penalty(lambda p, y: unfused_mlp(p, y, activation)))(params, x)
    _leaves_close(fused, plain)
    assert_close(nn.input_gradient(params, x, activation),
                 autograd.grad(lambda y: xp.sum(unfused_mlp(params, y, activation)))(x), rtol=1e-12)


def test_the_second_derivative_check_rejects_a_wrong_transpose_rule(monkeypatch):
    """Negative control: the penalty's gradient through a dense_transpose that forgets the slope s
    in its d/dg rule must differ from the unfused one (the first derivatives stay right)."""
    params, x, _ = _problem()
    right = autograd.grad(_penalty(lambda p, y: nn.mlp(p, y, "tanh")))(params, x)
    wrong_rule = nn._dense_transpose_vjp

    def forgets_slope(argnums, out, args, kwargs):
        g, s, W = args
        return wrong_rule(argnums, out, (g, None, W) if s is not None else args, kwargs)

    monkeypatch.setitem(autograd.core.primitive_vjps, nn.dense_transpose, forgets_slope)
    wrong = autograd.grad(_penalty(lambda p, y: nn.mlp(p, y, "tanh")))(params, x)
    gap = max(float(np.max(np.abs(host(a) - host(b))))
              for a, b in zip(nn.tree_leaves(wrong), nn.tree_leaves(right)))
    assert gap > 1e-2
    plain = autograd.grad(lambda p: xp.sum(nn.mlp(p, x, "tanh")))(params)
    _leaves_close(plain, autograd.grad(lambda p: xp.sum(unfused_mlp(p, x, "tanh")))(params))


@pytest.mark.parametrize("name", ["tanh", "leaky_relu", "softplus"])
def test_slopes_from_the_output_equal_the_derivative(name):
    """act'(a) written from h = act(a) against a central difference of act at a."""
    a = backend.asarray(np.linspace(-4.0, 4.0, 41) + 0.013)
    act, eps = nn.ACTIVATIONS[name], 1e-6
    fd = (host(act(a + eps)) - host(act(a - eps))) / (2 * eps)
    np.testing.assert_allclose(host(nn.SLOPES[name](act(a), None)), fd, rtol=1e-7, atol=1e-9)


def test_mlp_refuses_unknown_activation_and_unbatched_input():
    params = nn.init_mlp([2, 3, 1], backend.rng(0))
    with pytest.raises(ValueError, match="activation='gelu'.*known"):
        nn.mlp(params, np.ones((4, 2)), "gelu")
    with pytest.raises(ValueError, match=r"shape \(n, d_in\)"):
        nn.mlp(params, np.ones(2))


def test_flatten_round_trip_and_gradient_scatter(backend_name):
    rng = backend.rng(6)
    params = [{"W": rng.standard_normal((3, 4)), "b": rng.standard_normal((4,))},
              {"s": rng.standard_normal((2, 2))}]
    flat, unflatten = nn.flatten(params)
    assert tuple(flat.shape) == (12 + 4 + 4,)
    _leaves_close(unflatten(flat), params, rtol=0)
    weights = [rng.standard_normal((3, 4)), rng.standard_normal((4,)), rng.standard_normal((2, 2))]

    # the vector itself and two unflattenings of it: every cotangent must add up
    def loss(v):
        first, second = nn.tree_leaves(unflatten(v)), nn.tree_leaves(unflatten(v))
        return xp.sum(v ** 3) + sum(xp.sum(w * a) + xp.sum(b ** 2)
                                    for w, a, b in zip(weights, first, second))

    leaves = nn.tree_leaves(params)
    expected = 3.0 * flat ** 2 + xp.concatenate([xp.reshape(w + 2.0 * leaf, (-1,))
                                                 for w, leaf in zip(weights, leaves)])
    assert_close(autograd.grad(loss)(flat), expected, rtol=1e-12)


def test_gradient_clipping_rescales_the_gradient_given_to_adam():
    grads = [backend.asarray([30.0, -40.0]), backend.asarray([0.3, 0.1])]      # norms 50 and 0.32

    def loss(p, step):                                  # linear in w: its gradient is grads[step]
        return xp.sum(grads[step] * p["w"])

    p0 = {"w": backend.asarray([1.0, 1.0])}
    clipped, _ = nn.train(loss, p0, 2, lr=0.1, clip=1.0)
    # the oracle: Adam fed the rescaled gradients by hand
    p, state = p0, nn.adam_init(p0)
    for g in (grads[0] / 50.0, grads[1]):
        p, state = nn.adam_step(p, {"w": g}, state, lr=0.1)
    np.testing.assert_allclose(backend.to_numpy(clipped["w"]), backend.to_numpy(p["w"]), rtol=1e-12)
    unclipped, _ = nn.train(loss, p0, 2, lr=0.1)
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
    np.testing.assert_allclose(backend.to_numpy(p2["w"]), backend.to_numpy(p1["w"]) - step,
                               rtol=1e-12)
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


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -0.05}, r"lr must be a number in \(0, 1\] .*got lr=-0.05"),
    ({"lr": float("nan")}, r"lr must be a number in \(0, 1\]"),
    ({"lr": 50.0}, r"lr must be a number in \(0, 1\] \(Adam moves each parameter"),
    ({"clip": -1}, "clip must be a finite number > 0; got clip=-1"),
    ({"clip": 0}, "clip must be a finite number > 0"),
])
def test_train_refuses_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.train(lambda p, s: xp.sum(p * p), backend.asarray([1.0]), 5, **kwargs)
    with pytest.raises(ValueError, match=r"n_steps must be an integer >= 1; got n_steps=2.5"):
        nn.train(lambda p, s: xp.sum(p * p), backend.asarray([1.0]), 2.5)


def test_train_raises_when_the_loss_explodes_but_not_when_it_only_grows():
    def loss(p, step):                          # finite but 1e7 times its start at step 4
        return xp.sum(p * p) * (1e7 if step >= 4 else 1.0)
    with pytest.raises(FloatingPointError, match="exploded to 1e\\+07 at step 4"):
        nn.train(loss, backend.asarray([1.0]), 10, lr=1e-9)

    def grows(p, step):                          # x1000 is a bad run, not a divergence
        return xp.sum(p * p) * (1e3 if step >= 4 else 1.0)
    _, hist = nn.train(grows, backend.asarray([1.0]), 10, lr=1e-9)
    assert hist[-1] == pytest.approx(1e3)


def test_train_raises_on_non_finite_parameters():
    # the gradient is inf, the loss finite (0 * inf -> nan)
    def loss(p, step):
        return xp.sum(xp.sqrt(xp.abs(p)))
    with pytest.raises(FloatingPointError, match="trained parameters hold NaN or inf"), \
            np.errstate(divide="ignore", invalid="ignore"):
        nn.train(loss, backend.asarray([0.0]), 1, lr=1e-3)


class Fixed:
    """A 'trained model' whose samples are set by hand."""

    def __init__(self, points, log_p=None):
        self.points, self.log_p = backend.asarray(points), log_p

    def sample(self, n, rng):
        return self.points[:n]


def test_check_model_refuses_nan_samples_and_nan_log_prob():
    good = Fixed([[0.0, 1.0], [2.0, 3.0]])
    assert nn.check_model(good, "train_x", n=2) is good
    with pytest.raises(FloatingPointError, match=r"train_x: 1 of 2 samples .* NaN or inf"):
        nn.check_model(Fixed([[0.0, np.nan], [2.0, 3.0]]), "train_x", n=2)
    density = Fixed([[0.0, 1.0], [2.0, 3.0]])
    density.log_prob = lambda x: backend.asarray([0.0, -np.inf])
    with pytest.raises(FloatingPointError, match=r"train_y: 1 of 2 samples"):
        nn.check_model(density, "train_y", n=2)


def test_glorot_initialization_variance():
    # W entries N(0, 2 / (fan_in + fan_out)): the sample variance of n entries has a relative
    # standard error sqrt(2 / n); 5 SE of tolerance
    m, k = 200, 300
    params = nn.init_mlp([m, k, 1], backend.rng(0), final_scale=0.5)
    w = host(params[0]["W"])
    n = w.size
    assert abs(w.var() / (2.0 / (m + k)) - 1.0) < 5 * math.sqrt(2.0 / n)
    assert abs(w.mean()) < 5 * math.sqrt(2.0 / (m + k) / n)
    last = host(params[1]["W"])                  # (300, 1): scaled by final_scale
    assert abs(last.var() / (0.25 * 2.0 / (k + 1)) - 1.0) < 5 * math.sqrt(2.0 / last.size)
    assert not host(params[0]["b"]).any()


def test_minibatch_draws_every_row_uniformly_with_replacement():
    data = backend.asarray(np.arange(8.0).reshape(4, 2))
    n = 40_000
    batch = host(nn.minibatch(data, n, backend.rng(3)))
    assert batch.shape == (n, 2)
    rows = batch[:, 0] / 2
    freq = np.bincount(rows.astype(int), minlength=4) / n
    se = math.sqrt(0.25 * 0.75 / n)                  # binomial standard error of one frequency
    np.testing.assert_array_less(np.abs(freq - 0.25), 5 * se)
    np.testing.assert_array_equal(batch[:, 1], batch[:, 0] + 1)   # whole rows


def test_callback_sees_the_parameters_after_each_update():
    seen = []

    def loss(p, step):
        return xp.sum((p["w"] - 3.0) ** 2)

    params, _ = nn.train(loss, {"w": backend.asarray([0.0])}, 5, lr=0.1,
                         callback=lambda step, p, value: seen.append((step, host(p["w"])[0])))
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4]
    assert seen[0][1] == pytest.approx(0.1)          # Adam's first step moves by lr exactly
    assert seen[-1][1] == host(params["w"])[0]
