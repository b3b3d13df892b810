"""Oracles for WGAN: Kantorovich-Rubinstein duality (Eq. (62)) against the exact 1D W1 and the
soft penalty's closed-form slope, footnote 48, the gradient penalty against finite differences,
clipping against the clipped net's Lipschitz bound; train_wgan's settings against exact
first-step values, Adam with betas = (0, 0), and a change of data units; quality (slow)."""
import itertools
import math
from types import SimpleNamespace

import autograd
import numpy as np
import pytest
from conftest import host

from minigen import backend, metrics, nn
from minigen.backend import xp
from minigen.check.metrics import wasserstein_1d
from minigen.check.wgan import penalty
from minigen.distributions import polygon_blobs
from minigen.gans import common, wgan


def _fd_input_grad(f, x, h=1e-5):
    """grad_x f by central finite differences, f: (n, d) -> (n,) with independent rows."""
    cols = []
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        cols.append((host(f(xp.asarray(x + e))) - host(f(xp.asarray(x - e)))) / (2 * h))
    return np.stack(cols, axis=1)


def _flat(params):
    return np.concatenate([host(leaf).ravel() for layer in params for leaf in layer.values()])


def _critic(params, act="tanh"):
    return lambda y: wgan.critic_value(params, y, activation=act)


def _batch():
    rng = backend.rng(0)
    params = nn.init_mlp([2, 8, 8, 1], rng)
    xr, xf = rng.standard_normal((16, 2)), 1.0 + rng.standard_normal((16, 2))
    u = rng.random((16, 1))
    return params, xr, xf, u


def _penalty_by_fd(params, xr, xf, u):
    """check.wgan's penalty E (||grad f(x~)|| - 1)^2 for minigen's network critic, whose input
    gradient (no closed form) is taken by finite differences."""
    critic = SimpleNamespace(gradient=lambda x: _fd_input_grad(_critic(params), x))
    return penalty(critic, host(xr), host(xf), host(u))


def test_gradient_penalty_value_and_parameter_gradient_match_finite_differences():
    params, xr, xf, u = _batch()
    act = "tanh"                                                 # smooth: FD has no kinks to hit
    gp = float(wgan.gradient_penalty(params, xr, xf, u, activation=act))
    assert gp == pytest.approx(_penalty_by_fd(params, xr, xf, u), rel=1e-6)
    # its gradient w.r.t. the critic's params (double backprop) against FD on the weights
    grads = autograd.grad(lambda p: wgan.gradient_penalty(p, xr, xf, u, activation=act))(params)
    for layer in (0, 1):
        W = host(params[layer]["W"])
        fd = np.zeros_like(W)
        for idx in np.ndindex(*W.shape):
            for sign in (1, -1):
                Wp = W.copy()
                Wp[idx] += sign * 1e-6
                p2 = [dict(lay) for lay in params]
                p2[layer]["W"] = xp.asarray(Wp)
                fd[idx] += sign * float(wgan.gradient_penalty(p2, xr, xf, u, activation=act)) / 2e-6
        assert np.allclose(host(grads[layer]["W"]), fd, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("lam", [0.0, 2.5])
def test_critic_loss_is_minus_w1_plus_lam_times_penalty(lam):
    params, xr, xf, u = _batch()
    f = _critic(params)
    w1 = np.mean(host(f(xr))) - np.mean(host(f(xf)))
    expected = -w1 + lam * _penalty_by_fd(params, xr, xf, u)
    loss = wgan.critic_loss(params, xr, xf, u, lam=lam, activation="tanh")
    assert float(loss) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("lam", [0.5, 10.0])
def test_kr_duality_with_the_soft_penalty_gives_the_closed_form_slope(lam):
    # 1D, p = N(0, 1), q = N(1, 1/4): a critic of slope a scores a W1 - lam (a - 1)^2 on the
    # monotone transport, best at a = 1 + W1 / (2 lam), so E_p f - E_q f = a W1 (Eq. (62) at a = 1)
    rng = backend.rng(1)
    n = 2000
    x_p = rng.standard_normal((n, 1))
    x_q = 1.0 + 0.5 * rng.standard_normal((n, 1))
    f, w1_hat = wgan.fit_critic(x_p, x_q, rng, lam=lam, n_steps=200, hidden=(32,), lr=5e-3)
    w1 = wasserstein_1d(host(x_p), host(x_q), p=1)               # exact W1 of the samples
    a = 1.0 + w1 / (2.0 * lam)                                       # 2.02 and 1.05
    assert w1_hat == pytest.approx(a * w1, rel=0.05)
    # |f'| ~ a on interpolates (where the penalty acts), by finite differences
    u = host(rng.random((n, 1)))
    x_t = u * host(x_p) + (1 - u) * host(x_q)
    assert np.mean(np.abs(_fd_input_grad(f, x_t)[:, 0])) == pytest.approx(a, rel=0.05)


@pytest.mark.parametrize("c", [0.05, 0.2])
def test_clipped_critic_stays_within_its_lipschitz_bound(c):
    # one hidden layer of h units, |w| <= c: |f'| <= sum_j |w2_j w1_j| <= h c^2 (leaky ReLU
    # slopes <= 1), so E_p f - E_q f <= h c^2 W1 on the two samples; training uses most of it
    rng = backend.rng(1)
    n, h = 1000, 16
    x_p = rng.standard_normal((n, 1))
    x_q = 1.0 + 0.5 * rng.standard_normal((n, 1))
    _, w1_hat = wgan.fit_critic(x_p, x_q, rng, lipschitz="clip", clip=c, n_steps=200,
                                hidden=(h,), lr=5e-3)
    bound = h * c * c * wasserstein_1d(host(x_p), host(x_q), p=1)
    assert 0.5 * bound < w1_hat <= bound


def test_footnote48_critic_tracks_abs_theta():
    rng = backend.rng(2)
    n = 1000
    for theta in (-1.0, 0.5, 1.0):
        p0 = xp.concatenate([xp.zeros((n, 1)), rng.random((n, 1))], axis=1)           # (0, U)
        pt = xp.concatenate([theta + xp.zeros((n, 1)), rng.random((n, 1))], axis=1)   # (theta, U)
        _, w1_hat = wgan.fit_critic(p0, pt, rng, n_steps=200, hidden=(32,), lr=5e-3)
        # W1(p0, p_theta) = |theta| (footnote 53); the empirical plan adds ~ 0.03 for n = 1000
        assert abs(w1_hat - abs(theta)) < 0.1 * abs(theta)


DATA = backend.to_numpy(polygon_blobs(4, 2.0, 0.3).sample(400, backend.rng(3)))


@pytest.mark.parametrize("lipschitz, lam", [("gp", 0.1), ("gp", 3.0), ("clip", 3.0)])
def test_first_critic_loss_is_lam_for_gp_and_zero_for_clip(lipschitz, lam):
    # the critic starts as f = 0: -W1 term 0, ||grad f|| = sqrt(0 + 1e-12), penalty (1e-6 - 1)^2
    model = wgan.train_wgan(DATA, backend.rng(4), lipschitz=lipschitz, lam=lam, n_steps=2,
                            n_critic=1, hidden=(8,), batch_size=32)
    expected = lam * (1.0 - 1e-6) ** 2 if lipschitz == "gp" else 0.0
    assert model.history["d_loss"][0] == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("c", [0.02, 0.05])
def test_clipping_keeps_every_weight_in_the_box_and_reaches_its_walls(c):
    model = wgan.train_wgan(DATA, backend.rng(3), lipschitz="clip", clip=c, n_steps=5,
                            n_critic=2, hidden=(16,), batch_size=64)
    top = max(float(xp.max(xp.abs(leaf))) for leaf in nn.tree_leaves(model.critic_params))
    assert top == c                                                     # exactly at the wall
    assert len(model.history["w1"]) == 5
    assert model.sample(10, backend.rng(0)).shape == (10, 2)
    assert model.critic(DATA[:7]).shape == (7,)


@pytest.mark.parametrize("n_critic", [1, 3])
def test_sign_descent_counts_n_critic_steps(n_critic):
    # betas = (0, 0): each Adam step moves a parameter by exactly +-lr_t (see test_gan); with
    # n_critic steps per G step, a critic weight always pushed one way moves n_critic sum_t lr_t
    kw = dict(n_steps=3, n_critic=n_critic, betas=(0.0, 0.0), hidden=(8,), batch_size=64)
    lr = 0.01
    moved = wgan.train_wgan(DATA, backend.rng(3), lr=lr, **kw)
    start = wgan.train_wgan(DATA, backend.rng(3), lr=1e-12, **kw)
    lrs = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 3)) for t in range(3)]
    df = np.abs(_flat(moved.critic_params) - _flat(start.critic_params)) / lr
    assert df.max() == pytest.approx(n_critic * sum(lrs), rel=1e-5)
    dg = np.abs(_flat(moved.gen_params) - _flat(start.gen_params)) / lr
    sums = np.array(sorted({abs(float(np.dot(s, lrs)))
                            for s in itertools.product((1, -1), repeat=3)}))
    assert np.min(np.abs(dg[:, None] - sums), axis=1).max() < 1e-3


def test_one_generator_step_raises_f_on_its_samples():
    # G descends -E f(G(z)) (Eq. (63)): after one step E f(G(z)) is higher under the critic it
    # stepped against (see test_gan for the set-up)
    kw = dict(n_steps=1, n_critic=1, betas=(0.0, 0.0), hidden=(8,), batch_size=64)
    moved = wgan.train_wgan(DATA, backend.rng(0), lr=0.01, **kw)
    start = wgan.train_wgan(DATA, backend.rng(0), lr=1e-12, **kw)
    z = xp.asarray(np.random.default_rng(0).standard_normal((20_000, 2)))
    gain = host(moved.critic(moved.generate(z))) - host(moved.critic(start.generate(z)))
    assert gain.mean() > 5 * gain.std() / math.sqrt(len(gain))         # 5 SE above 0


def test_changing_the_data_units_scales_w1_and_the_critic():
    # data' = 10 data + 3: the same run on the same scaled data; W1 and f in data units scale by 10
    kw = dict(n_steps=10, n_critic=2, hidden=(16,), batch_size=64, n_snapshots=2)
    a = wgan.train_wgan(DATA, backend.rng(1), **kw)
    b = wgan.train_wgan(10.0 * DATA + 3.0, backend.rng(1), **kw)
    np.testing.assert_allclose(b.history["w1"], 10.0 * np.asarray(a.history["w1"]), rtol=1e-6)
    np.testing.assert_allclose(b.history["d_loss"], a.history["d_loss"], rtol=1e-6)
    x = DATA[:40]
    np.testing.assert_allclose(host(b.critic(10.0 * x + 3.0)), 10.0 * host(a.critic(x)),
                               rtol=1e-6)
    np.testing.assert_allclose(host(b.sample(50, backend.rng(2))),
                               10.0 * host(a.sample(50, backend.rng(2))) + 3.0, rtol=1e-6)
    np.testing.assert_allclose(host(b.history["snapshots"][-1][1]),
                               10.0 * host(a.history["snapshots"][-1][1]) + 3.0, rtol=1e-6)


def test_critic_in_data_units_has_the_scaled_critics_lipschitz_constant():
    rng = backend.rng(4)
    data = 100.0 + 50.0 * rng.standard_normal((400, 2))           # far from unit scale
    model = wgan.train_wgan(data, rng, n_steps=3, n_critic=1, hidden=(16,), batch_size=64,
                            latent_dim=3, activation="tanh")
    assert [tuple(p["W"].shape) for p in model.gen_params] == [(3, 16), (16, 2)]
    x = host(data[:50])
    g_data = _fd_input_grad(model.critic, x, h=1e-3)
    g_scaled = _fd_input_grad(_critic(model.critic_params, "tanh"),
                              (x - host(model.mean)) / model.scale, h=1e-5)
    assert np.allclose(g_data, g_scaled, rtol=1e-4, atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the run diverges on purpose
def test_an_exploding_critic_loss_raises():
    # lr = 1 with betas = (0, 0): every weight moves by 1 per step
    with pytest.raises(FloatingPointError, match="WGAN-gp critic loss exploded"):
        wgan.train_wgan(DATA, backend.rng(1), n_steps=20, lr=1.0, betas=(0.0, 0.0),
                        batch_size=64)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in G on purpose
def test_a_generator_with_nan_output_is_never_returned(monkeypatch):
    loop = common.adversarial_loop

    def broken(*args, **kwargs):
        g_params, f_params, hist = loop(*args, **kwargs)
        g_params[0]["W"] = g_params[0]["W"] * float("inf")            # what a divergence leaves
        return g_params, f_params, hist

    monkeypatch.setattr(common, "adversarial_loop", broken)
    with pytest.raises(FloatingPointError, match="train_wgan: .* samples"):
        wgan.train_wgan(DATA, backend.rng(1), n_steps=2, hidden=(4,), batch_size=16)


# --- packing (PacGAN, Lin et al. 2018): the critic on m samples concatenated ------------------

@pytest.mark.parametrize("lipschitz", ["gp", "clip"])
def test_pack_1_is_the_run_without_packing_bit_for_bit(lipschitz):
    # would catch a pack=1 path that slices u, draws differently or reshapes through another dtype
    kw = dict(lipschitz=lipschitz, n_steps=6, n_critic=2, hidden=(8,), batch_size=32,
              n_snapshots=2)
    a = wgan.train_wgan(DATA, backend.rng(3), **kw)
    b = wgan.train_wgan(DATA, backend.rng(3), pack=1, **kw)
    for pa, pb in ((a.gen_params, b.gen_params), (a.critic_params, b.critic_params)):
        np.testing.assert_array_equal(_flat(pa), _flat(pb))
    assert {k: v for k, v in a.history.items() if k != "snapshots"} == \
        {k: v for k, v in b.history.items() if k != "snapshots"}
    np.testing.assert_array_equal(host(a.history["snapshots"][-1][1]),
                                  host(b.history["snapshots"][-1][1]))


@pytest.mark.parametrize("pack", [2, 4])
def test_packed_critic_and_its_penalty_see_packs_of_distinct_data_points(pack, monkeypatch):
    # critic_loss's inputs, caught: real and fake packs (batch / m, m d), one u per pack (the
    # penalty interpolates whole packs, u p_real + (1 - u) p_fake), every block of d columns a
    # scaled data point, the blocks of a pack different points. Catches a penalty on unpacked
    # points, u of the batch's length, or packs of one point repeated.
    seen, loss = [], wgan.critic_loss

    def spy(fp, xr, xf, u, **kw):
        seen.append((host(xr), host(xf), host(u)))
        return loss(fp, xr, xf, u, **kw)

    monkeypatch.setattr(wgan, "critic_loss", spy)
    model = wgan.train_wgan(DATA, backend.rng(3), n_steps=2, n_critic=2, hidden=(8,),
                            batch_size=32, pack=pack)
    assert model.pack == pack and len(seen) == 4
    assert [tuple(p["W"].shape) for p in model.critic_params] == [(2 * pack, 8), (8, 1)]
    scaled = (DATA - host(model.mean)) / model.scale
    for xr, xf, u in seen:
        assert xr.shape == xf.shape == (32 // pack, 2 * pack) and u.shape == (32 // pack, 1)
        points = xr.reshape(-1, pack, 2)
        dist = np.abs(points[:, :, None, :] - scaled[None, None]).sum(-1).min(-1)
        assert dist.max() < 1e-12
        assert np.all(np.abs(points[:, 0] - points[:, 1]).sum(-1) > 0)
        assert np.all((u >= 0) & (u <= 1))


def test_packed_critic_in_data_units_is_the_packed_mlp():
    # f(packs) = s f_scaled((packs - mean) / s), block by block, recomputed in NumPy
    model = wgan.train_wgan(DATA, backend.rng(4), n_steps=5, n_critic=1, hidden=(16,),
                            batch_size=64, activation="tanh", pack=2)
    packs = DATA[:80].reshape(40, 4)
    y = ((packs.reshape(40, 2, 2) - host(model.mean)) / model.scale).reshape(40, 4)
    h = np.tanh(y @ host(model.critic_params[0]["W"]) + host(model.critic_params[0]["b"]))
    f = (h @ host(model.critic_params[1]["W"]) + host(model.critic_params[1]["b"]))[:, 0]
    np.testing.assert_allclose(host(model.critic(packs)), model.scale * f, rtol=1e-12)
    assert float(np.abs(f).max()) > 0                                  # f has left 0
    with pytest.raises(ValueError, match="x must have 4 columns"):
        model.critic(DATA[:5])



R = backend.rng
NAN_DATA = DATA.copy()
NAN_DATA[3, 1] = np.nan
X1 = np.random.default_rng(1).standard_normal((600, 1))
TINY = dict(n_steps=2, hidden=(4,), batch_size=32)
MODEL = wgan.train_wgan(DATA, R(0), **TINY)
F = MODEL.critic_params
XR, U = xp.asarray(DATA[:5]), xp.full((5, 1), 0.5)


def _tw(**kw):
    return lambda: wgan.train_wgan(kw.pop("data", DATA), kw.pop("rng", R(0)), **{**TINY, **kw})


def _fc(**kw):
    args = kw.pop("x_p", X1), kw.pop("x_q", X1 + 1.0), kw.pop("rng", R(0))
    return lambda: wgan.fit_critic(*args, **{"n_steps": 2, "batch_size": 16, **kw})


BAD_CALLS = [
    ("pack=0", _tw(pack=0), ValueError, "pack=0"),
    ("pack=2.5", _tw(pack=2.5), ValueError, "pack=2.5"),
    ("pack !| batch", _tw(pack=5), ValueError, "batch_size=32 must be a multiple of pack=5"),
    ("n_steps=2.5", _tw(n_steps=2.5), ValueError, "n_steps=2.5"),
    ("n_critic=0", _tw(n_critic=0), ValueError, "n_critic=0"),
    ("n_critic=1.5", _tw(n_critic=1.5), ValueError, "n_critic=1.5"),
    ("lipschitz", _tw(lipschitz="spectral"), ValueError, r"lipschitz='spectral'.*clip.*gp"),
    ("lam<0", _tw(lam=-1.0), ValueError, "lam=-1.0"),
    ("lam=0", _tw(lam=0.0), ValueError, "lam=0.0"),
    ("lam=nan", _tw(lam=float("nan")), ValueError, "lam=nan"),
    ("clip<0 (clip)", _tw(lipschitz="clip", clip=-1.0), ValueError, "clip=-1.0"),
    ("clip<0 (gp)", _tw(clip=-1.0), ValueError, "clip=-1.0"),
    ("lr=0", _tw(lr=0.0), ValueError, "lr=0.0"),
    ("lr=inf", _tw(lr=float("inf")), ValueError, "lr=inf"),
    ("lr=50", _tw(lr=50.0), ValueError, "lr=50.0"),
    ("batch_size=2.5", _tw(batch_size=2.5), ValueError, "batch_size=2.5"),
    ("batch_size>n", _tw(batch_size=1000), ValueError, "400 points.*batch_size=1000"),
    ("latent_dim=0", _tw(latent_dim=0), ValueError, "latent_dim=0"),
    ("hidden", _tw(hidden=(16, -1)), ValueError, r"hidden\[1\]=-1"),
    ("activation", _tw(activation="gelu"), ValueError, "activation='gelu'"),
    ("betas", _tw(betas=(0.5, 1.5)), ValueError, r"betas\[1\]=1.5"),
    ("n_snapshots", _tw(n_snapshots=-2), ValueError, "n_snapshots=-2"),
    ("progress", _tw(progress=2), ValueError, "progress=2"),
    ("rng=0", _tw(rng=0), TypeError, r"rng=minigen.backend.rng\(0\)"),
    ("data NaN", _tw(data=NAN_DATA), ValueError, "data contains NaN"),
    ("data 1-D", _tw(data=DATA[:, 0]), ValueError, "data must have shape"),
    ("fit n_steps=2.5", _fc(n_steps=2.5), ValueError, "n_steps=2.5"),
    ("fit lr<0", _fc(lr=-1.0), ValueError, "lr=-1.0"),
    ("fit lr=1e3", _fc(lr=1e3), ValueError, "lr=1000.0"),
    ("fit lam<0", _fc(lam=-1.0), ValueError, "lam=-1.0"),
    ("fit clip=0", _fc(lipschitz="clip", clip=0.0), ValueError, "clip=0.0"),
    ("fit lipschitz", _fc(lipschitz="spectral"), ValueError, "lipschitz='spectral'"),
    ("fit batch_size>n", _fc(x_q=X1[:8]), ValueError, "x_q has 8 points.*batch_size=16"),
    ("fit hidden", _fc(hidden="64"), ValueError, "hidden='64'"),
    ("fit activation", _fc(activation="gelu"), ValueError, "activation='gelu'"),
    ("fit rng=0", _fc(rng=0), TypeError, r"rng=minigen.backend.rng\(0\)"),
    ("fit x_p NaN", _fc(x_p=np.full((600, 1), np.nan)), ValueError, "x_p contains NaN"),
    ("fit d mismatch", _fc(x_q=DATA), ValueError, "x_q must have 1 columns"),
    ("critic_value d", lambda: wgan.critic_value(F, xp.zeros((3, 1)), activation="tanh"),
     ValueError, r"x must have shape \(n, 2\)"),
    ("critic_value 1-D", lambda: wgan.critic_value(F, xp.zeros(3), activation="tanh"),
     ValueError, r"x must have shape \(n, 2\)"),
    ("critic_value act", lambda: wgan.critic_value(F, XR, activation="gelu"), ValueError,
     "activation='gelu'"),
    ("gradient_penalty u", lambda: wgan.gradient_penalty(F, XR, XR, xp.full(5, 0.5),
                                                         activation="tanh"),
     ValueError, r"u \(m, 1\)"),
    ("critic_loss lam<0", lambda: wgan.critic_loss(F, XR, XR, U, lam=-1.0, activation="tanh"),
     ValueError, "lam=-1.0"),
    ("clip_weights c<0", lambda: wgan.clip_weights(F, -1.0), ValueError, "c=-1.0"),
    ("sample rng=None", lambda: MODEL.sample(10, None), TypeError, r"backend.rng\(\)"),
    ("sample n=2.5", lambda: MODEL.sample(2.5, R(0)), ValueError, "n=2.5"),
    ("critic NaN", lambda: MODEL.critic(NAN_DATA), ValueError, "x contains NaN"),
    ("critic d", lambda: MODEL.critic(X1), ValueError, "x must have 2 columns"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS],
                         ids=[c[0] for c in BAD_CALLS])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.slow
def test_wgan_gp_defaults_cover_the_eight_blobs():
    rng = backend.rng(0)
    target = polygon_blobs(8, 2.0, 0.2)
    model = wgan.train_wgan(target.sample(5000, rng), rng)
    x = model.sample(5000, rng)
    assert metrics.mode_coverage(x, target.means, 0.2) == 8
    assert metrics.high_quality_fraction(x, target.means, 0.2) >= 0.9
