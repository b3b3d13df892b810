"""Hamiltonian flows: leapfrog is volume preserving, symplectic, second order and reversible; the ELBO
is below the exact log-likelihood (computed by quadrature over the momentum) and tightens with more
importance samples.

Oracles: autograd Jacobians, the closed-form energy of a quadratic Hamiltonian, numerical
integration of the exact joint density p(q, p) = N(T^{-1}(q, p); 0, I) |det| over p.
"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from minigen import backend, distributions, metrics, nn
from minigen.flows.hamiltonian import HamiltonianFlow, leapfrog, train_hamiltonian_flow

A = np.array([[2.0, 0.5], [0.5, 1.0]])       # H(q, p) = q^T A q / 2 + p^T B p / 2
B = np.array([[1.0, 0.2], [0.2, 0.5]])


def _quad_step(y, eps, n_steps=1):
    q, p = leapfrog(y[None, :2], y[None, 2:], lambda q: q @ A, lambda p: p @ B, eps, n_steps)
    return anp.concatenate([q, p], axis=1)[0]


def _energy(y):
    q, p = y[..., :2], y[..., 2:]
    return 0.5 * np.einsum("...i,ij,...j", q, A, q) + 0.5 * np.einsum("...i,ij,...j", p, B, p)


def test_leapfrog_volume_preserving_and_symplectic():
    y = np.array([0.3, -1.0, 0.7, 0.2])
    J = autograd.jacobian(lambda v: _quad_step(v, 0.4, n_steps=3))(y)
    assert abs(np.linalg.det(J) - 1.0) < 1e-10
    Omega = np.block([[np.zeros((2, 2)), np.eye(2)], [-np.eye(2), np.zeros((2, 2))]])
    np.testing.assert_allclose(J.T @ Omega @ J, Omega, atol=1e-10)


def test_leapfrog_nonlinear_learned_hamiltonian_has_unit_jacobian():
    rng = backend.rng(0)
    flow = HamiltonianFlow(2, rng, n_blocks=2, n_leapfrog=3, hidden=(8,))
    flow.params = nn.tree_map(lambda a: a + rng.standard_normal(a.shape), flow.params)
    for gV, gK in flow._blocks(flow.params):
        J = autograd.jacobian(lambda v: anp.concatenate(leapfrog(v[None, :2], v[None, 2:], gV, gK, 0.3, 2), 1)[0])(
            np.array([0.1, -0.4, 1.2, 0.5]))
        assert abs(np.linalg.det(J) - 1.0) < 1e-10


def test_leapfrog_energy_error_is_second_order():
    y0 = np.array([1.0, 0.5, -0.3, 0.8])
    errors = []
    for eps in (0.1, 0.05, 0.025):
        ys = [y0]
        for _ in range(int(round(4.0 / eps))):                      # the same time span T = 4
            ys.append(_quad_step(ys[-1], eps))
        errors.append(np.max(np.abs(_energy(np.array(ys)) - _energy(y0))))
    ratios = errors[0] / errors[1], errors[1] / errors[2]
    assert all(3.5 < r < 4.5 for r in ratios), ratios               # O(eps^2): halving eps divides by 4


def test_leapfrog_is_exactly_reversible():
    rng = backend.rng(1)
    q, p = rng.standard_normal((20, 2)), rng.standard_normal((20, 2))
    gV, gK = (lambda q: q @ A + np.sin(q)), (lambda p: p @ B)
    q1, p1 = leapfrog(q, p, gV, gK, 0.2, 10)
    q2, p2 = leapfrog(q1, p1, gV, gK, -0.2, 10)                     # backwards in time
    assert np.max(np.abs(q2 - q)) < 1e-12 and np.max(np.abs(p2 - p)) < 1e-12
    q3, p3 = leapfrog(q1, -p1, gV, gK, 0.2, 10)                     # momentum flip
    assert np.max(np.abs(q3 - q)) < 1e-12 and np.max(np.abs(p3 + p)) < 1e-12


def _random_flow(dim, seed, scale=0.7):
    rng = backend.rng(seed)
    flow = HamiltonianFlow(dim, rng, n_blocks=2, n_leapfrog=2, hidden=(8,), r_hidden=(8,))
    flow.params = nn.tree_map(lambda a: a + scale * rng.standard_normal(a.shape), flow.params)
    return flow


def test_flow_inverse_and_log_det_against_autograd():
    flow = _random_flow(2, seed=2)
    y = backend.rng(3).standard_normal((4, 4))
    u, ld = flow.forward(y)
    y_back, ld_inv = flow.inverse(u)
    assert np.max(np.abs(y_back - y)) < 1e-10 and np.max(np.abs(ld + ld_inv)) < 1e-10
    for row, ld_row in zip(y, ld):
        J = autograd.jacobian(lambda v: flow.forward(v[None, :])[0][0])(row)
        assert abs(np.linalg.slogdet(J)[1] - ld_row) < 1e-9        # only the two actnorms contribute


def _exact_log_marginal(flow, x, half_width=12.0, n=2001):
    """log p(x) = log int p(x, p) dp by the trapezoid rule over p (d = 1)."""
    g = np.linspace(-half_width, half_width, n)
    lj = flow.log_joint(np.repeat(x, n, axis=0), g[:, None])
    m = lj.max()
    return m + np.log(np.trapezoid(np.exp(lj - m), g))


def test_joint_density_integrates_to_one():
    flow = _random_flow(1, seed=4)
    g = np.linspace(-12, 12, 401)
    Q, P = np.meshgrid(g, g)
    lj = flow.log_joint(Q.reshape(-1, 1), P.reshape(-1, 1))
    assert abs(np.exp(lj).sum() * (g[1] - g[0]) ** 2 - 1.0) < 0.01


def test_elbo_below_exact_log_likelihood_and_iwae_tightens():
    flow = _random_flow(1, seed=5, scale=0.3)
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
        assert exact - m32 < 0.5 * (exact - m1)                      # most of the gap closes by S = 32


def test_momentum_draw_is_the_full_covariance_gaussian():
    """p = mu + C e and log r(p|x) against C assembled by hand and the Gaussian density with Sigma = C C^T."""
    flow = _random_flow(3, seed=9)
    flow.params["r"] = nn.tree_map(lambda a: a + 0.5 * backend.rng(10).standard_normal(a.shape), flow.params["r"])
    rng = backend.rng(11)
    x, e = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    p, log_r = flow.momentum(x, e)
    mu, log_sigma, below = (backend.to_numpy(a) for a in flow.posterior(x))
    for i in range(4):
        C = np.diag(np.exp(log_sigma[i]))
        C[1, 0], C[2, 0], C[2, 1] = below[i]                         # below the diagonal, row by row
        np.testing.assert_allclose(backend.to_numpy(p)[i], mu[i] + C @ e[i], rtol=1e-12, atol=1e-12)
        S, r = C @ C.T, backend.to_numpy(p)[i] - mu[i]
        expected = -0.5 * r @ np.linalg.solve(S, r) - 0.5 * np.linalg.slogdet(2 * np.pi * S)[1]
        assert float(log_r[i]) == pytest.approx(expected, abs=1e-10)


def test_bad_input():
    rng = backend.rng(7)
    with pytest.raises(ValueError, match="step_size"):
        leapfrog(np.zeros((2, 1)), np.zeros((2, 1)), lambda q: q, lambda p: p, 0.0)
    with pytest.raises(ValueError, match="step_size"):
        HamiltonianFlow(2, rng, step_size=-1.0)
    flow = _random_flow(2, seed=8)
    with pytest.raises(ValueError, match="shape"):
        flow.elbo(np.zeros((3, 3)), rng)
    with pytest.raises(ValueError, match="NaN"):
        flow.elbo(np.array([[0.0, np.nan]]), rng)
    with pytest.raises(ValueError, match="NaN"):
        train_hamiltonian_flow(np.array([[0.0, np.nan], [1.0, 2.0]]), rng, n_steps=1)
    with pytest.raises(ValueError, match="n_samples"):
        flow.elbo(np.zeros((3, 2)), rng, n_samples=0)


@pytest.mark.slow
def test_trained_hamiltonian_flow_elbo_and_samples():
    target = distributions.polygon_blobs(8, 2.0, 0.3)
    rng = backend.rng(0)
    flow = train_hamiltonian_flow(target.sample(30_000, rng), rng)
    fresh = target.sample(20_000, backend.rng(1))
    elbo = flow.elbo(fresh, backend.rng(2))
    true_ll = target.log_prob(fresh)
    # SE of mean(true_ll - elbo) over 2e4 points: std / sqrt(2e4) ~ 0.01. The aim is 0.3 nats and 2x the
    # SW floor; over training seeds 0-5 the defaults give 0.16-0.24 nats (0.219 with this seed) and
    # 1.2-1.5x. Training is chaotic (a last-bit difference in arithmetic, as between two CPUs, changes the
    # trajectory and draws another value from that spread), so the bound is the aim, not the spread.
    # Two-sided: ELBO <= log p (the bound of the module docstring), so the gap is > 0 up to 5 SE.
    assert np.mean(true_ll) - np.mean(elbo) > -5 * 0.01, (np.mean(true_ll), np.mean(elbo))
    assert np.mean(true_ll) - np.mean(elbo) < 0.3, (np.mean(true_ll), np.mean(elbo))
    n = 5000                                        # the two-sample SW fluctuates ~30%: average 3 chunks
    floor = np.mean([metrics.sliced_wasserstein(target.sample(n, backend.rng(10 + i)),
                                                target.sample(n, backend.rng(20 + i)), backend.rng(i))
                     for i in range(3)])
    gen = flow.sample(3 * n, backend.rng(3))
    sw = np.mean([metrics.sliced_wasserstein(gen[i * n:(i + 1) * n], fresh[i * n:(i + 1) * n], backend.rng(4 + i))
                  for i in range(3)])
    assert sw < 2.0 * floor, (sw, floor)
