"""Coupling flows: exact inverses, log-dets against autograd Jacobians, a density that integrates
to 1.

Oracles: slogdet of the Jacobian computed by autograd (Eq. (82), (85), (86), (79)), the
composition of forward and inverse, W = P L U assembled by hand, the moments of an actnorm's
output after its data-dependent init, a Riemann sum of exp(log p) on a grid, and a Monte-Carlo
entropy of the target (the floor of any NLL, Eq. (27)) for the trained model.
"""
import autograd
import numpy as np
import pytest

from minigen import backend, distributions, nn
from minigen.backend import xp
from minigen.flows.coupling import CouplingFlow, make_coupling_flow, train_coupling_flow
from minigen.flows.layers import ActNorm, AffineCoupling, LinearMixing


def _randomize(params, rng, scale=0.5):
    """Non-trivial params (the default init makes couplings the identity)."""
    return nn.tree_map(lambda a: a + scale * rng.standard_normal(a.shape), params)


def _layers(dim, seed=0):
    rng = backend.rng(seed)
    layers = [AffineCoupling(dim, rng, hidden=(8, 8)),
              AffineCoupling(dim, rng, hidden=(8,), flip=True, scale_bound=1.5),
              LinearMixing(dim, rng), ActNorm(dim)]
    for layer in layers:
        layer.params = _randomize(layer.params, rng)
    return layers


def _flow(dim, seed=0, scale=0.3):
    rng = backend.rng(seed)
    flow = make_coupling_flow(dim, rng, n_blocks=3, hidden=(8, 8),
                              init_data=rng.standard_normal((200, dim)))
    flow.params = _randomize(flow.params, rng, scale)
    return flow


def _jacobian_log_dets(f, x):
    """log|det df/dx| at each row of x, from the autograd Jacobian of f on that single point."""
    out = []
    for row in x:
        J = autograd.jacobian(lambda v: f(v[None, :])[0][0])(row)
        sign, logabs = np.linalg.slogdet(J)
        assert sign != 0
        out.append(logabs)
    return np.array(out)


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_layers_invert_exactly_and_log_det_matches_jacobian(dim):
    x = backend.rng(1).standard_normal((6, dim))
    for layer in _layers(dim):
        z, ld = layer.forward(x)
        x_back, ld_inv = layer.inverse(z)
        assert np.max(np.abs(x_back - x)) < 1e-10, type(layer).__name__
        assert np.max(np.abs(ld + ld_inv)) < 1e-10
        np.testing.assert_allclose(ld, _jacobian_log_dets(layer.forward, x), atol=1e-10)
        np.testing.assert_allclose(ld_inv, _jacobian_log_dets(layer.inverse, z), atol=1e-10)


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_nll_gradient_matches_finite_differences(activation):
    """The training gradient (autograd through the three layers) against central differences."""
    rng = backend.rng(3)
    x = rng.standard_normal((40, 3))
    flow = make_coupling_flow(3, rng, n_blocks=3, hidden=(8, 8), activation=activation,
                              init_data=x)
    flow.params = _randomize(flow.params, rng, 0.3)
    assert all(layer.activation == activation for layer in flow.layers[2::3])
    flat, unflatten = nn.flatten(flow.params)
    nll = lambda v: -xp.mean(flow.log_prob(x, unflatten(v)))       # noqa: E731
    grad = backend.to_numpy(autograd.grad(nll)(flat))
    eps, picks = 1e-6, backend.to_numpy(rng.permutation(flat.shape[0]))[:25]
    for i in picks:
        step = np.zeros(flat.shape[0])
        step[i] = eps
        fd = (float(nll(flat + backend.asarray(step)))
              - float(nll(flat - backend.asarray(step)))) / (2 * eps)
        assert abs(fd - grad[i]) < 1e-6 * max(1.0, abs(fd)), (i, fd, grad[i])


@pytest.mark.parametrize("dim, flip, bound", [(4, False, 1.5), (5, True, 0.7), (3, False, 4.0)])
def test_coupling_keeps_one_half_and_scale_is_bounded(dim, flip, bound):
    """Eq. (80): x_0 passes unchanged (the first half, or the second when flipped); huge raw
    scales saturate |s_i| just below the bound: two-sided."""
    rng = backend.rng(2)
    layer = AffineCoupling(dim, rng, hidden=(8,), flip=flip, scale_bound=bound)
    layer.params = _randomize(layer.params, rng, 50.0)                 # huge raw scales
    x = rng.standard_normal((50, dim))
    z, ld = layer.forward(x)
    half = dim // 2
    keep = slice(half, dim) if flip else slice(0, half)
    n_move = half if flip else dim - half
    assert np.array_equal(z[:, keep], x[:, keep])
    assert not np.allclose(z, x)
    assert np.all(np.abs(ld) <= n_move * bound + 1e-12)                # |s_i| <= bound
    assert np.max(np.abs(ld)) > 0.9 * n_move * bound                   # ... and reaches it


def test_linear_mixing_is_p_l_u_assembled_by_hand():
    rng = backend.rng(22)
    layer = LinearMixing(4, rng, init_scale=0.8)
    layer.params = _randomize(layer.params, rng)
    p = {k: backend.to_numpy(v) for k, v in layer.params.items()}
    perm = backend.to_numpy(layer.perm)
    assert sorted(perm) == [0, 1, 2, 3] and list(perm) != [0, 1, 2, 3]
    L = np.tril(p["L"], -1) + np.eye(4)
    U = np.triu(p["U"], 1) + np.diag(np.exp(p["log_s"]))
    W = np.eye(4)[perm] @ L @ U                                        # P L U, Eq. (83)
    np.testing.assert_allclose(layer.matrix(), W, atol=1e-12)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(layer.forward(x)[0], x @ W.T, atol=1e-12)
    assert abs(np.linalg.slogdet(W)[1] - float(layer.forward(x)[1][0])) < 1e-10


def test_linear_mixing_init_scale_sets_the_spread_of_l_and_u():
    """Off-diagonal entries N(0, init_scale^2): 5 SE of a variance from 4 * 400 * 399 / 2 draws."""
    for scale in (0.1, 0.6):
        layers = [LinearMixing(40, backend.rng(k), init_scale=scale) for k in range(4)]
        below = np.concatenate([lay.params["L"][np.tril_indices(40, -1)] for lay in layers])
        se = scale ** 2 * np.sqrt(2 / below.size)
        assert abs(np.var(below) - scale ** 2) < 5 * se, (scale, np.var(below))


@pytest.mark.parametrize("dim", [2, 3])
def test_actnorm_init_gives_zero_mean_unit_variance_at_every_actnorm(dim):
    """Each actnorm of the stack is initialized on the data as it reaches it (Glow's init)."""
    rng = backend.rng(23)
    data = rng.standard_normal((500, dim)) * np.arange(1, dim + 1) * 3.0 + 5.0
    flow = make_coupling_flow(dim, rng, n_blocks=3, hidden=(8,), init_data=data)
    h = data
    for layer in flow.layers:
        h = layer.forward(h)[0]
        if isinstance(layer, ActNorm):
            np.testing.assert_allclose(np.mean(h, axis=0), 0.0, atol=1e-6)
            np.testing.assert_allclose(np.std(h, axis=0), 1.0, atol=1e-5)
    assert [layer.flip for layer in flow.layers[2::3]] == [False, True, False]


@pytest.mark.parametrize("dim", [2, 3, 4])
def test_model_inverse_and_log_det(dim):
    flow = _flow(dim)
    x = backend.rng(3).standard_normal((5, dim))
    z, ld = flow.forward(x)
    x_back, ld_inv = flow.inverse(z)
    assert np.max(np.abs(x_back - x)) < 1e-10
    assert np.max(np.abs(ld + ld_inv)) < 1e-10
    np.testing.assert_allclose(ld, _jacobian_log_dets(flow.forward, x), atol=1e-9)
    # Eq. (77) against the Jacobian oracle: log N(z) + log|det J|
    ref = (-0.5 * np.sum(z ** 2, axis=1) - 0.5 * dim * np.log(2 * np.pi)
           + _jacobian_log_dets(flow.forward, x))
    np.testing.assert_allclose(flow.log_prob(x), ref, atol=1e-9)
    assert flow.nll(x) == pytest.approx(-np.mean(ref), abs=1e-9)


def test_density_integrates_to_one():
    flow = _flow(2, seed=4, scale=0.15)                            # light tails: a finite grid
    n, L = 401, 10.0
    g = np.linspace(-L, L, n)
    X, Y = np.meshgrid(g, g)
    p = np.exp(flow.log_prob(np.stack([X.ravel(), Y.ravel()], axis=1)))
    mass = p.sum() * (g[1] - g[0]) ** 2                           # Riemann sum
    assert abs(mass - 1.0) < 0.01, mass


def test_samples_are_pushed_base_points():
    flow, rng = _flow(2, seed=5), backend.rng(6)
    x = flow.sample(1000, rng)
    assert x.shape == (1000, 2) and np.all(np.isfinite(x))
    np.testing.assert_allclose(x, flow.inverse(backend.rng(6).standard_normal((1000, 2)))[0])
    z = flow.forward(x)[0]                                         # back in latent space: N(0, I)
    assert np.all(np.abs(np.mean(z, axis=0)) < 5 / np.sqrt(1000))  # 5 SE of a mean
    assert np.all(np.abs(np.var(z, axis=0) - 1.0) < 5 * np.sqrt(2 / 1000))


def test_latent_interpolation_ends_at_the_two_points():
    flow = _flow(2, seed=7)
    a, b = np.array([1.0, -0.5]), np.array([-2.0, 0.3])
    path, z_path = flow.interpolate(a, b, n_points=7)
    assert path.shape == (7, 2)
    np.testing.assert_allclose(path[0], a, atol=1e-10)
    np.testing.assert_allclose(path[-1], b, atol=1e-10)
    np.testing.assert_allclose(flow.forward(path)[0], z_path, atol=1e-10)   # x_e = T(z_e)
    steps = np.diff(z_path, axis=0)                                # equal steps on a line in z
    np.testing.assert_allclose(steps, np.repeat(steps[:1], 6, axis=0), atol=1e-12)
    assert not np.allclose(np.diff(path, axis=0), np.diff(path, axis=0)[:1])  # curved in x


def _blobs(n=256):
    return distributions.polygon_blobs(8, 2.0, 0.3).sample(n, backend.rng(0))


def test_trainer_passes_every_setting(monkeypatch):
    sizes = []
    real = nn.minibatch
    monkeypatch.setattr(nn, "minibatch", lambda d, b, r: sizes.append(b) or real(d, b, r))
    flow = train_coupling_flow(_blobs(), backend.rng(1), n_blocks=3, hidden=(5, 6), n_steps=4,
                               batch_size=19, scale_bound=1.7, activation="tanh", progress=False)
    assert len(flow.layers) == 9 and len(flow.history) == 4 and sizes == [19] * 4
    for layer in flow.layers[2::3]:
        assert (layer.hidden, layer.scale_bound, layer.activation) == ((5, 6), 1.7, "tanh")


def test_trainer_uses_lr_and_clip():
    """lr 1e-12 or clip 1e-14 leave the parameters where they start: the same minibatch losses
    (the same rng, so the same batches) as each other; lr 1e-2 does move them."""
    data, kw = _blobs(), dict(n_blocks=2, hidden=(8,), n_steps=6, progress=False)
    frozen = train_coupling_flow(data, backend.rng(2), lr=1e-12, **kw).history
    clipped = train_coupling_flow(data, backend.rng(2), clip=1e-14, **kw).history
    moving = train_coupling_flow(data, backend.rng(2), clip=None, **kw).history
    np.testing.assert_allclose(clipped, frozen, rtol=1e-5)
    assert abs(moving[-1] - frozen[-1]) > 1e-2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises():
    rng = backend.rng(9)
    data = rng.standard_normal((200, 2)) * 1e200           # squares overflow: the NLL is NaN
    with pytest.raises((FloatingPointError, ValueError)):
        train_coupling_flow(data, rng, n_steps=5, progress=False)
    with pytest.raises(FloatingPointError, match="NaN or inf"):             # finite loss, NaN x
        train_coupling_flow(_blobs(), rng, n_blocks=2, hidden=(8,), n_steps=1, lr=1e3,
                            progress=False)


def _flow2():
    return _flow(2)


BAD_CALLS = [
    (lambda: AffineCoupling(1, backend.rng(0)), ValueError, "dim=1"),
    (lambda: AffineCoupling(2.5, backend.rng(0)), ValueError, "dim=2.5"),
    (lambda: AffineCoupling(2, backend.rng(0), scale_bound=-1), ValueError, "scale_bound"),
    (lambda: AffineCoupling(2, backend.rng(0), scale_bound=np.nan), ValueError, "scale_bound"),
    (lambda: AffineCoupling(2, backend.rng(0), activation="gelu"), ValueError, "activation"),
    (lambda: AffineCoupling(2, backend.rng(0), hidden=(-1,)), ValueError, r"hidden\[0\]"),
    (lambda: AffineCoupling(2, backend.rng(0), hidden=(2.5,)), ValueError, r"hidden\[0\]"),
    (lambda: AffineCoupling(2, backend.rng(0), flip="yes"), ValueError, "flip"),
    (lambda: AffineCoupling(2, 0), TypeError, r"minigen.backend.rng\(0\)"),
    (lambda: LinearMixing(0, backend.rng(0)), ValueError, "dim=0"),
    (lambda: LinearMixing(2.5, backend.rng(0)), ValueError, "dim=2.5"),
    (lambda: LinearMixing(2, backend.rng(0), init_scale=-1), ValueError, "init_scale"),
    (lambda: LinearMixing(2, backend.rng(0), init_scale=np.nan), ValueError, "init_scale"),
    (lambda: LinearMixing(3, backend.rng(0), perm=[0, 0, 1]), ValueError, "perm"),
    (lambda: LinearMixing(2, 0), TypeError, "rng"),
    (lambda: ActNorm(0), ValueError, "dim=0"),
    (lambda: ActNorm(2.5), ValueError, "dim=2.5"),
    (lambda: ActNorm(2).initialize(np.array([[0.0, np.nan], [1.0, 1.0]])), ValueError,
     "x contains"),
    (lambda: ActNorm(2).initialize(np.ones((5, 2))), ValueError, "constant coordinate"),
    (lambda: CouplingFlow([ActNorm(3)], 2), ValueError, r"layers\[0\]"),
    (lambda: make_coupling_flow(2.5, backend.rng(0)), ValueError, "dim=2.5"),
    (lambda: make_coupling_flow(1, backend.rng(0)), ValueError, "dim=1"),
    (lambda: make_coupling_flow(2, backend.rng(0), n_blocks=0), ValueError, "n_blocks"),
    (lambda: make_coupling_flow(2, 0), TypeError, "rng"),
    (lambda: make_coupling_flow(2, backend.rng(0), init_data=np.zeros((5, 3))), ValueError,
     "init_data"),
    (lambda: make_coupling_flow(2, backend.rng(0), activation="gelu"), ValueError, "activation"),
    (lambda: make_coupling_flow(2, backend.rng(0), hidden=8), ValueError, "hidden"),
    (lambda: _flow2().sample(2.5, backend.rng(0)), ValueError, "n=2.5"),
    (lambda: _flow2().sample(0, backend.rng(0)), ValueError, "n=0"),
    (lambda: _flow2().sample(5, 0), TypeError, "rng"),
    (lambda: _flow2().log_prob(np.array([[0.0, np.nan]])), ValueError, "x contains"),
    (lambda: _flow2().log_prob(np.zeros((4, 3))), ValueError, "x must have 2"),
    (lambda: _flow2().log_prob(np.zeros(4)), ValueError, "x must have shape"),
    (lambda: _flow2().log_prob(np.zeros((4, 2)), params=[]), ValueError, "params"),
    (lambda: _flow2().inverse(np.zeros((4, 3))), ValueError, "z must have 2"),
    (lambda: _flow2().nll(np.array([[np.inf, 0.0]])), ValueError, "x contains"),
    (lambda: _flow2().interpolate(np.zeros(2), np.ones(2), n_points=2.5), ValueError,
     "n_points=2.5"),
    (lambda: _flow2().interpolate(np.zeros(2), np.ones(2), n_points=1), ValueError, "n_points"),
    (lambda: _flow2().interpolate(np.array([np.nan, 0.0]), np.ones(2)), ValueError, "x_start"),
    (lambda: _flow2().interpolate(np.zeros(3), np.ones(2)), ValueError, "x_start"),
    (lambda: _flow2().interpolate(np.zeros(2), np.ones((2, 2))), ValueError, "x_end"),
]
TRAIN_BAD = [
    ({"lr": -0.05}, ValueError, "lr"), ({"lr": np.nan}, ValueError, "lr"),
    ({"clip": -1}, ValueError, "clip"), ({"n_steps": 2.5}, ValueError, "n_steps=2.5"),
    ({"n_steps": 0}, ValueError, "n_steps"), ({"batch_size": 2.5}, ValueError, "batch_size"),
    ({"n_blocks": 2.5}, ValueError, "n_blocks"), ({"hidden": (0,)}, ValueError, "hidden"),
    ({"hidden": 8}, ValueError, "hidden"), ({"scale_bound": 0}, ValueError, "scale_bound"),
    ({"scale_bound": np.inf}, ValueError, "scale_bound"),
    ({"activation": "gelu"}, ValueError, "activation"), ({"callback": 1}, TypeError, "callback"),
    ({"progress": "no"}, ValueError, "progress"),
    ({"rng": 0}, TypeError, r"minigen.backend.rng\(0\)"),
    ({"data": np.random.default_rng(0).standard_normal((100, 1))}, ValueError, "d=1"),
    ({"data": np.array([[0.0, np.nan], [1.0, 1.0]])}, ValueError, "data contains"),
    ({"data": np.zeros(10)}, ValueError, "data must have shape"),
    ({"data": "abc"}, TypeError, "data"),
    ({"data": np.zeros((1, 2))}, ValueError, "data needs at least 2"),
    ({"data": np.ones((5, 2))}, ValueError, "data has a constant coordinate"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_CALLS)
def test_bad_calls(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("kw, error, pattern", TRAIN_BAD)
def test_bad_training_calls(kw, error, pattern):
    args = {"data": _blobs(64), "rng": backend.rng(0), "n_steps": 1, "progress": False,
            "n_blocks": 1, "hidden": (4,), **kw}
    with pytest.raises(error, match=pattern):
        train_coupling_flow(args.pop("data"), args.pop("rng"), **args)


@pytest.mark.slow
def test_trained_flow_reaches_the_entropy_of_the_blobs():
    target = distributions.polygon_blobs(8, 2.0, 0.3)
    rng = backend.rng(0)
    flow = train_coupling_flow(target.sample(30_000, rng), rng)
    entropy, se = target.entropy(backend.rng(1), 100_000)
    fresh = target.sample(50_000, backend.rng(2))                  # fresh points: no overfitting
    nll = flow.nll(fresh)
    # NLL >= H (Eq. (27)); SE of the NLL estimate ~ std(log p)/sqrt(5e4) ~ 0.004, of H ~ 0.003.
    # The aim: a gap <= 0.1 nats (the defaults give 0.055-0.077 over training seeds 0-5, 0.071
    # here).
    assert entropy - 5 * se - 0.03 < nll < entropy + 0.1, (nll, entropy)
