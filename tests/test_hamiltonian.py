"""Hamiltonian flows: leapfrog is volume preserving, symplectic, second order and reversible; the
ELBO is below the exact log-likelihood (computed by quadrature over the momentum) and tightens
with more importance samples.

Oracles: autograd Jacobians, the exact one-step matrix (check.hamiltonian's step_matrix) and the
closed-form energy of a quadratic Hamiltonian, the three shears written out (check.hamiltonian's
scheme), the free particle's exact motion q + t p, the actnorms' closed-form log-det, numerical
integration of the exact joint density p(q, p) = N(T^{-1}(q, p); 0, I) |det| over p, and changes
of variables (the model's standardization) that must hold to rounding.
"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from minigen import backend, distributions, metrics, nn
# H(q, p) = q^T A q / 2 + p^T B p / 2 (gradients quadratic, kinetic); grad_V_nl adds -sum cos q
from minigen.check.hamiltonian import (A, B, grad_V_nl, kinetic, quadratic, scheme,
                                       step_matrix)
from minigen.flows.hamiltonian import HamiltonianFlow, leapfrog, train_hamiltonian_flow


def _quad_step(y, eps, n_steps=1):
    q, p = leapfrog(y[None, :2], y[None, 2:], quadratic, kinetic, eps, n_steps)
    return anp.concatenate([q, p], axis=1)[0]


def _energy(y):
    q, p = y[..., :2], y[..., 2:]
    return 0.5 * np.einsum("...i,ij,...j", q, A, q) + 0.5 * np.einsum("...i,ij,...j", p, B, p)


def test_leapfrog_volume_preserving_and_symplectic():
    y = np.array([0.3, -1.0, 0.7, 0.2])
    J = autograd.jacobian(lambda v: _quad_step(v, 0.4, n_steps=3))(y)
    np.testing.assert_allclose(J, np.linalg.matrix_power(step_matrix(0.4), 3), atol=1e-12)
    assert abs(np.linalg.det(J) - 1.0) < 1e-10
    Omega = np.block([[np.zeros((2, 2)), np.eye(2)], [-np.eye(2), np.zeros((2, 2))]])
    np.testing.assert_allclose(J.T @ Omega @ J, Omega, atol=1e-10)


@pytest.mark.parametrize("quadratic_kinetic", [True, False])
def test_leapfrog_nonlinear_learned_hamiltonian_has_unit_jacobian(quadratic_kinetic):
    rng = backend.rng(0)
    flow = HamiltonianFlow(2, rng, n_blocks=2, n_leapfrog=3, hidden=(8,),
                           quadratic_kinetic=quadratic_kinetic)
    flow.params = nn.tree_map(lambda a: a + rng.standard_normal(a.shape), flow.params)
    for b in range(2):
        gV, gK = flow.forces(b)

        def step(v):
            return anp.concatenate(leapfrog(v[None, :2], v[None, 2:], gV, gK, 0.3, 2), 1)[0]
        J = autograd.jacobian(step)(np.array([0.1, -0.4, 1.2, 0.5]))
        assert abs(np.linalg.det(J) - 1.0) < 1e-10


@pytest.mark.parametrize("quadratic_kinetic", [True, False])
def test_forces_are_the_gradients_of_the_block_hamiltonian(quadratic_kinetic):
    """grad V_b, grad K_b against central differences of H_b = V_b(q) + c |p|^2 / 2 + K_b(p)."""
    rng = backend.rng(12)
    flow = HamiltonianFlow(2, rng, n_blocks=2, hidden=(8,), quadratic_kinetic=quadratic_kinetic)
    flow.params = nn.tree_map(lambda a: a + rng.standard_normal(a.shape), flow.params)
    c = 1.0 if quadratic_kinetic else 0.0
    q, p, h = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), 1e-6
    for b in range(2):
        V = lambda x: nn.mlp(flow.params["V"][b], x)[:, 0]                     # noqa: E731
        K = lambda x: 0.5 * c * np.sum(x * x, 1) + nn.mlp(flow.params["K"][b], x)[:, 0]  # noqa
        gV, gK = flow.forces(b)
        for f, grad, x in ((V, gV, q), (K, gK, p)):
            fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
            np.testing.assert_allclose(grad(x), fd, atol=1e-7)


def test_leapfrog_energy_error_is_second_order():
    y0 = np.array([1.0, 0.5, -0.3, 0.8])
    errors = []
    for eps in (0.1, 0.05, 0.025):
        ys = [y0]
        for _ in range(int(round(4.0 / eps))):                      # the same time span T = 4
            ys.append(_quad_step(ys[-1], eps))
        errors.append(np.max(np.abs(_energy(np.array(ys)) - _energy(y0))))
    ratios = errors[0] / errors[1], errors[1] / errors[2]
    assert all(3.5 < r < 4.5 for r in ratios), ratios               # O(eps^2): halving eps / 4


@pytest.mark.parametrize("n_steps", [1, 4])
def test_leapfrog_matches_the_three_shears_written_out(n_steps):
    """Merged kicks = n_steps times (half kick, drift, half kick), for a nonlinear H."""
    rng = backend.rng(13)
    q, p = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    gV, gK = grad_V_nl, (lambda p: kinetic(p) + p ** 3)
    q1, p1 = leapfrog(q, p, gV, gK, 0.15, n_steps)
    q, p = scheme(q, p, gV, gK, 0.15, n_steps)
    np.testing.assert_allclose(q1, q, atol=1e-13)
    np.testing.assert_allclose(p1, p, atol=1e-13)


def test_leapfrog_is_exactly_reversible():
    rng = backend.rng(1)
    q, p = rng.standard_normal((20, 2)), rng.standard_normal((20, 2))
    gV, gK = grad_V_nl, kinetic
    q1, p1 = leapfrog(q, p, gV, gK, 0.2, 10)
    q2, p2 = leapfrog(q1, p1, gV, gK, -0.2, 10)                     # backwards in time
    assert np.max(np.abs(q2 - q)) < 1e-12 and np.max(np.abs(p2 - p)) < 1e-12
    q3, p3 = leapfrog(q1, -p1, gV, gK, 0.2, 10)                     # momentum flip
    assert np.max(np.abs(q3 - q)) < 1e-12 and np.max(np.abs(p3 + p)) < 1e-12


def test_leapfrog_divergence_raises_with_the_step():
    """V = 50 q^4: a step of 1 past the stability limit blows up; the error says when."""
    gV = lambda q: 200 * q ** 3                                     # noqa: E731
    with pytest.raises(FloatingPointError, match=r"4 of 4 points .* at step \d+ of 50"):
        with np.errstate(all="ignore"):
            leapfrog(np.ones((4, 1)), np.ones((4, 1)), gV, lambda p: p, 1.0, 50)


def _random_flow(dim, seed, scale=0.7, **kw):
    rng = backend.rng(seed)
    flow = HamiltonianFlow(dim, rng, **{"n_blocks": 2, "n_leapfrog": 2, "hidden": (8,),
                                        "r_hidden": (8,), **kw})
    flow.params = nn.tree_map(lambda a: a + scale * rng.standard_normal(a.shape), flow.params)
    return flow


@pytest.mark.parametrize("dim, n_blocks, n_leapfrog, step_size", [
    (1, 1, 1, 0.5), (3, 2, 3, 0.2), (2, 3, 2, 1.3)])
@pytest.mark.parametrize("quadratic_kinetic", [True, False])
def test_free_particle_moves_by_total_time_times_momentum(dim, n_blocks, n_leapfrog, step_size,
                                                          quadratic_kinetic):
    """init_scale = 0 makes V = K = 0: H = |p|^2/2 moves q to q + (B L eps) p, exactly (and
    H = 0 without the quadratic kinetic energy leaves q still)."""
    flow = HamiltonianFlow(dim, backend.rng(14), n_blocks=n_blocks, n_leapfrog=n_leapfrog,
                           step_size=step_size, hidden=(4,), init_scale=0.0,
                           quadratic_kinetic=quadratic_kinetic)
    u = backend.rng(15).standard_normal((6, 2 * dim))
    q, p = u[:, :dim], u[:, dim:]
    t = n_blocks * n_leapfrog * step_size if quadratic_kinetic else 0.0
    y, ld = flow.inverse(u)
    np.testing.assert_allclose(y, np.concatenate([q + t * p, p], axis=1), atol=1e-12)
    np.testing.assert_allclose(ld, 0.0, atol=1e-15)
    traj = flow.trajectory(u)
    assert traj.shape == (n_blocks * n_leapfrog + 1, 6, 2 * dim)
    steps = np.arange(n_blocks * n_leapfrog + 1) * (step_size if quadratic_kinetic else 0.0)
    np.testing.assert_allclose(traj[:, :, :dim], q + steps[:, None, None] * p, atol=1e-12)


@pytest.mark.parametrize("block_scale", [True, False])
def test_flow_inverse_and_log_det_against_autograd_and_actnorm_scales(block_scale):
    flow = _random_flow(2, seed=2, block_scale=block_scale, n_blocks=3)
    assert len(flow.params["mid"]) == (2 if block_scale else 0)
    y = backend.rng(3).standard_normal((4, 4))
    u, ld = flow.forward(y)
    y_back, ld_inv = flow.inverse(u)
    assert np.max(np.abs(y_back - y)) < 1e-10 and np.max(np.abs(ld + ld_inv)) < 1e-10
    for row, ld_row in zip(y, ld):
        J = autograd.jacobian(lambda v: flow.forward(v[None, :])[0][0])(row)
        assert abs(np.linalg.slogdet(J)[1] - ld_row) < 1e-9
    # Eq. (12) + (86): the leapfrogs add 0, each actnorm sum(a), the same for every point
    scales = [flow.params["pre"], *flow.params["mid"], flow.params["post"]]
    np.testing.assert_allclose(ld, sum(np.sum(s["a"]) for s in scales), atol=1e-12)


def test_trajectory_ends_at_the_sample():
    flow = _random_flow(2, seed=16, scale=0.3, n_leapfrog=3, mean=np.array([1.0, -2.0]),
                        std=np.array([0.5, 3.0]))
    u = backend.rng(17).standard_normal((8, 4))
    x, p = flow.sample(8, backend.rng(17), return_momentum=True)      # the same u
    traj = flow.trajectory(u)
    assert traj.shape == (7, 8, 4)
    np.testing.assert_allclose(traj[-1], np.concatenate([x, p], axis=1), atol=1e-10)


def _exact_log_marginal(flow, x, half_width=12.0, n=2001):
    """log p(x) = log int p(x, p) dp by the trapezoid rule over p (d = 1)."""
    g = np.linspace(-half_width, half_width, n)
    lj = flow.log_joint(np.repeat(x, n, axis=0), g[:, None])
    m = lj.max()
    return m + np.log(np.trapezoid(np.exp(lj - m), g))


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.7, 2.5)])
def test_joint_density_integrates_to_one(mean, std):
    """In data units: with std != 1 a dropped - sum log std (the standardization) gives mass std."""
    flow = _random_flow(1, seed=4, mean=np.array([mean]), std=np.array([std]))
    g = np.linspace(-12, 12, 401)
    Q, P = np.meshgrid(mean + std * g, g)
    lj = flow.log_joint(Q.reshape(-1, 1), P.reshape(-1, 1))
    assert abs(np.exp(lj).sum() * std * (g[1] - g[0]) ** 2 - 1.0) < 0.01


def test_standardization_is_a_change_of_variables():
    """A flow with (mean, std) is the unit flow on (x - mean) / std: its ELBO is that flow's minus
    sum log std (same rng), its samples are mean + std * those (d = 3, std != 1)."""
    mean, std = np.array([1.0, -2.0, 0.5]), np.array([0.5, 3.0, 1.7])
    unit = _random_flow(3, seed=18, scale=0.3)
    flow = _random_flow(3, seed=18, scale=0.3, mean=mean, std=std)
    x = backend.rng(19).standard_normal((6, 3)) * std + mean
    np.testing.assert_allclose(flow.elbo(x, backend.rng(20), n_samples=4),
                               unit.elbo((x - mean) / std, backend.rng(20), n_samples=4)
                               - np.sum(np.log(std)), atol=1e-10)
    np.testing.assert_allclose(flow.sample(5, backend.rng(21)),
                               mean + std * unit.sample(5, backend.rng(21)), atol=1e-12)


def test_elbo_below_exact_log_likelihood_and_iwae_tightens():
    flow = _random_flow(1, seed=5, scale=0.3, mean=np.array([0.4]), std=np.array([1.5]))
    rng = backend.rng(6)
    for x0 in (-1.0, 1.5):
        x = np.array([[x0]])
        exact = _exact_log_marginal(flow, x)
        reps = np.repeat(x, 1000, axis=0)                            # 1000 independent estimates
        means = []
        for S in (1, 8, 32):
            b = flow.elbo(reps, rng, n_samples=S)
            se = b.std() / np.sqrt(b.size)                           # SE of the Monte-Carlo mean
            assert b.mean() <= exact + 5 * se, (x0, S, b.mean(), exact)
            means.append((b.mean(), se))
        (m1, s1), (m8, s8), (m32, s32) = means
        assert m1 < m8 - 5 * np.hypot(s1, s8) and m8 < m32 - 5 * np.hypot(s8, s32)
        assert exact - m32 < 0.5 * (exact - m1)                      # most of the gap closes


def test_momentum_draw_is_the_full_covariance_gaussian():
    """p = mu + C e and log r(p|x) against C assembled by hand, the Gaussian density of C C^T."""
    flow = _random_flow(3, seed=9)
    r10 = backend.rng(10)
    flow.params["r"] = nn.tree_map(lambda a: a + 0.5 * r10.standard_normal(a.shape),
                                   flow.params["r"])
    rng = backend.rng(11)
    x, e = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p, log_r = flow.momentum(x, e)
    mu, log_sigma, below = (backend.to_numpy(a) for a in flow.posterior(x))
    for i in range(4):
        C = np.diag(np.exp(log_sigma[i]))
        C[1, 0], C[2, 0], C[2, 1] = below[i]                         # below the diagonal, by rows
        np.testing.assert_allclose(p[i], mu[i] + C @ e[i], rtol=1e-12, atol=1e-12)
        S, r = C @ C.T, p[i] - mu[i]
        expected = -0.5 * r @ np.linalg.solve(S, r) - 0.5 * np.linalg.slogdet(2 * np.pi * S)[1]
        assert float(log_r[i]) == pytest.approx(expected, abs=1e-10)


def _blobs(n=256):
    return distributions.polygon_blobs(8, 2.0, 0.3).sample(n, backend.rng(0))


def test_trainer_passes_every_setting_and_the_data_standardization(monkeypatch):
    sizes = []
    real = nn.minibatch
    monkeypatch.setattr(nn, "minibatch", lambda d, b, r: sizes.append(b) or real(d, b, r))
    data = _blobs() * np.array([1.0, 3.0]) + np.array([0.5, -1.0])
    flow = train_hamiltonian_flow(data, backend.rng(1), n_blocks=3, n_leapfrog=3, step_size=0.3,
                                  hidden=(5,), r_hidden=(7,), init_scale=0.5, n_steps=4,
                                  batch_size=17, quadratic_kinetic=False, block_scale=False,
                                  progress=False)
    assert (flow.n_blocks, flow.n_leapfrog, flow.step_size, flow.init_scale) == (3, 3, 0.3, 0.5)
    assert not flow.quadratic_kinetic and flow.params["mid"] == []
    assert flow.params["V"][0][0]["W"].shape == (2, 5) and len(flow.params["K"]) == 3
    assert flow.params["r"][0]["W"].shape == (2, 7)
    assert sizes == [17] * 4 and len(flow.history) == 4
    np.testing.assert_allclose(flow.mean, np.mean(data, axis=0), atol=1e-12)
    np.testing.assert_allclose(flow.std, np.std(data, axis=0), atol=1e-12)


def test_trainer_uses_lr_and_clip():
    """lr 1e-12 or clip 1e-14 leave the parameters where they start: the same minibatch losses
    (the same rng, so the same batches) as each other; lr 3e-2 does move them."""
    data, kw = _blobs(), dict(n_blocks=1, hidden=(4,), r_hidden=(4,), n_steps=6, progress=False)
    frozen = train_hamiltonian_flow(data, backend.rng(2), lr=1e-12, **kw).history
    clipped = train_hamiltonian_flow(data, backend.rng(2), clip=1e-14, **kw).history
    moving = train_hamiltonian_flow(data, backend.rng(2), **kw).history
    np.testing.assert_allclose(clipped, frozen, rtol=1e-5)
    assert abs(moving[-1] - frozen[-1]) > 1e-2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverged_training_raises_instead_of_returning_nan_samples():
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        train_hamiltonian_flow(_blobs(2000), backend.rng(1), lr=200, n_steps=2, progress=False)


def _flow2():
    return _random_flow(2, seed=8)


BAD_CALLS = [
    (lambda: leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), abs, abs, 0.0), ValueError, "step_size"),
    (lambda: leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), abs, abs, np.nan), ValueError,
     "step_size"),
    (lambda: leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), abs, abs, "0.1"), ValueError,
     "step_size"),
    (lambda: leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), abs, abs, 0.1, 2.5), ValueError,
     "n_steps"),
    (lambda: leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), abs, abs, 0.1, 0), ValueError,
     "n_steps"),
    (lambda: leapfrog(np.zeros((2, 2)), np.zeros((2, 2)), distributions.polygon_blobs(3, 1, 1),
                      abs, 0.1), TypeError, "grad_V"),
    (lambda: leapfrog(np.zeros((2, 2)), np.zeros((2, 2)), abs, 3.0, 0.1), TypeError, "grad_K"),
    (lambda: leapfrog(np.zeros((2, 2)), np.zeros((3, 2)), abs, abs, 0.1), ValueError, "q and p"),
    (lambda: HamiltonianFlow(2.5, backend.rng(0)), ValueError, "dim=2.5"),
    (lambda: HamiltonianFlow(0, backend.rng(0)), ValueError, "dim=0"),
    (lambda: HamiltonianFlow(2, 0), TypeError, r"rng=0.*minigen.backend.rng\(0\)"),
    (lambda: HamiltonianFlow(2, backend.rng(0), n_blocks=0), ValueError, "n_blocks"),
    (lambda: HamiltonianFlow(2, backend.rng(0), n_leapfrog=2.5), ValueError, "n_leapfrog=2.5"),
    (lambda: HamiltonianFlow(2, backend.rng(0), step_size=-1.0), ValueError, "step_size"),
    (lambda: HamiltonianFlow(2, backend.rng(0), step_size=np.inf), ValueError, "step_size"),
    (lambda: HamiltonianFlow(2, backend.rng(0), hidden=8), ValueError, "hidden"),
    (lambda: HamiltonianFlow(2, backend.rng(0), r_hidden=(0,)), ValueError, r"r_hidden\[0\]"),
    (lambda: HamiltonianFlow(2, backend.rng(0), init_scale=np.nan), ValueError, "init_scale"),
    (lambda: HamiltonianFlow(2, backend.rng(0), init_scale=-1), ValueError, "init_scale"),
    (lambda: HamiltonianFlow(2, backend.rng(0), quadratic_kinetic="no"), ValueError,
     "quadratic_kinetic"),
    (lambda: HamiltonianFlow(2, backend.rng(0), block_scale=2), ValueError, "block_scale"),
    (lambda: HamiltonianFlow(2, backend.rng(0), mean=np.zeros(3)), ValueError, "mean"),
    (lambda: HamiltonianFlow(2, backend.rng(0), std=np.zeros(2)), ValueError, "std"),
    (lambda: HamiltonianFlow(2, backend.rng(0), std=np.array([1.0, np.nan])), ValueError, "std"),
    (lambda: _flow2().elbo(np.zeros((3, 3)), backend.rng(0)), ValueError, "x must have 2"),
    (lambda: _flow2().elbo(np.array([[0.0, np.nan]]), backend.rng(0)), ValueError, "x contains"),
    (lambda: _flow2().elbo(np.zeros((3, 2)), backend.rng(0), n_samples=0), ValueError,
     "n_samples"),
    (lambda: _flow2().elbo(np.zeros((3, 2)), backend.rng(0), n_samples=2.5), ValueError,
     "n_samples"),
    (lambda: _flow2().elbo(np.zeros((3, 2)), 0), TypeError, "rng"),
    (lambda: _flow2().sample(2.5, backend.rng(0)), ValueError, "n=2.5"),
    (lambda: _flow2().sample(0, backend.rng(0)), ValueError, "n=0"),
    (lambda: _flow2().sample(3, 0), TypeError, "rng"),
    (lambda: _flow2().sample(3, backend.rng(0), return_momentum=1), ValueError,
     "return_momentum"),
    (lambda: _flow2().trajectory(np.zeros((2, 3))), ValueError, "u must have 4"),
    (lambda: _flow2().trajectory(np.full((2, 4), np.nan)), ValueError, "u contains"),
    (lambda: _flow2().log_joint(np.zeros((2, 2)), np.full((2, 2), np.inf)), ValueError,
     "p contains"),
    (lambda: _flow2().log_joint(np.zeros((2, 2)), np.zeros((3, 2))), ValueError, "rows"),
]
TRAIN_BAD = [
    ({"lr": -1.0}, ValueError, "lr"), ({"lr": np.nan}, ValueError, "lr"),
    ({"clip": -1}, ValueError, "clip"), ({"n_steps": 2.5}, ValueError, "n_steps=2.5"),
    ({"n_steps": 0}, ValueError, "n_steps"), ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, ValueError, "batch_size"), ({"n_blocks": 2.5}, ValueError, "n_blocks"),
    ({"n_leapfrog": 0}, ValueError, "n_leapfrog"), ({"step_size": 0}, ValueError, "step_size"),
    ({"step_size": np.inf}, ValueError, "step_size"), ({"hidden": (0,)}, ValueError, "hidden"),
    ({"r_hidden": 8}, ValueError, "r_hidden"), ({"init_scale": np.nan}, ValueError, "init_scale"),
    ({"quadratic_kinetic": "no"}, ValueError, "quadratic_kinetic"),
    ({"block_scale": 2}, ValueError, "block_scale"), ({"callback": "x"}, TypeError, "callback"),
    ({"progress": "yes"}, ValueError, "progress"),
    ({"rng": 0}, TypeError, r"minigen.backend.rng\(0\)"),
    ({"data": np.array([[0.0, np.inf], [1.0, 2.0]])}, ValueError, "data contains"),
    ({"data": np.zeros(10)}, ValueError, "data must have shape"),
    ({"data": np.zeros((1, 2))}, ValueError, "data needs at least 2"),
    ({"data": np.ones((5, 2))}, ValueError, "data has a constant coordinate"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_CALLS)
def test_bad_calls(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("kw, error, pattern", TRAIN_BAD)
def test_bad_training_calls(kw, error, pattern):
    args = {"data": _blobs(64), "rng": backend.rng(0), "n_steps": 1, "progress": False, **kw}
    with pytest.raises(error, match=pattern):
        train_hamiltonian_flow(args.pop("data"), args.pop("rng"), **args)


@pytest.mark.slow
def test_trained_hamiltonian_flow_elbo_and_samples():
    target = distributions.polygon_blobs(8, 2.0, 0.3)
    rng = backend.rng(0)
    flow = train_hamiltonian_flow(target.sample(30_000, rng), rng)
    fresh = target.sample(20_000, backend.rng(1))
    elbo = flow.elbo(fresh, backend.rng(2))
    true_ll = target.log_prob(fresh)
    # SE of mean(true_ll - elbo) over 2e4 points: std / sqrt(2e4) ~ 0.01. The aim is 0.3 nats and
    # 2x the SW floor; over training seeds 0-5 the defaults give 0.16-0.24 nats (0.219 with this
    # seed) and 1.2-1.5x. Training is chaotic (a last-bit difference in arithmetic, as between
    # two CPUs, changes the trajectory and draws another value from that spread), so the bound
    # is the aim, not the spread. Two-sided: ELBO <= log p, so the gap is > 0 up to 5 SE.
    assert np.mean(true_ll) - np.mean(elbo) > -5 * 0.01, (np.mean(true_ll), np.mean(elbo))
    assert np.mean(true_ll) - np.mean(elbo) < 0.3, (np.mean(true_ll), np.mean(elbo))
    n = 5000                                        # the two-sample SW fluctuates ~30%: 3 chunks
    floor = np.mean([metrics.sliced_wasserstein(target.sample(n, backend.rng(10 + i)),
                                                target.sample(n, backend.rng(20 + i)),
                                                backend.rng(i))
                     for i in range(3)])
    gen = flow.sample(3 * n, backend.rng(3))
    sw = np.mean([metrics.sliced_wasserstein(gen[i * n:(i + 1) * n], fresh[i * n:(i + 1) * n],
                                             backend.rng(4 + i))
                  for i in range(3)])
    assert sw < 2.0 * floor, (sw, floor)
