"""Metropolis-Hastings (Algorithm 1, Eq. 40-42) against exact discrete kernels and closed-form moments.

Statistical checks use independent chains (one state per chain), so the standard error of a frequency
p is sqrt(p (1 - p) / m) and of a mean sqrt(var / m); tolerances are 5 SE.
"""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.mcmc.metropolis import metropolis_hastings

PI3 = np.array([0.2, 0.3, 0.5])                          # 3-state target


def log_pi3(x):
    """States 0, 1, 2 embedded in R^1; log pi of the state (n,)."""
    k = xp.clip(xp.round(x[:, 0]), 0, 2).astype(int)
    return xp.log(xp.asarray(PI3))[k]


class DiscreteProposal:
    """Q(x, y) = Qmat[x, y] on {0, 1, 2}: y = x + j mod 3, j = 1 w.p. q_up, j = 2 otherwise."""

    def __init__(self, q_up, honest=True):
        self.q_up, self.honest = q_up, honest

    def sample(self, x, rng):
        j = xp.where(rng.random((x.shape[0],)) < self.q_up, 1.0, 2.0)
        return (x + j[:, None]) % 3

    def log_density(self, y, x):
        if not self.honest:                               # pretend Q is symmetric: drops the Hastings term
            return xp.zeros(x.shape[0])
        j = (y[:, 0] - x[:, 0]) % 3
        return xp.log(xp.where(j == 1, self.q_up, 1.0 - self.q_up))


def exact_kernel(q_up, hastings=True):
    """P[x, y] written from Eq. (40) and Algorithm 1, line 4, state by state (no code shared with the sampler)."""
    Q = np.zeros((3, 3))
    for x in range(3):
        Q[x, (x + 1) % 3], Q[x, (x + 2) % 3] = q_up, 1 - q_up
    P = np.zeros((3, 3))
    for x in range(3):
        for y in range(3):
            if y != x:
                r = PI3[y] / PI3[x] * (Q[y, x] / Q[x, y] if hastings else 1.0)
                P[x, y] = Q[x, y] * min(1.0, r)
        P[x, x] = 1.0 - P[x].sum()
    return P


def empirical_kernel(q_up, honest, m=20000, seed=0):
    """One step from m chains in each state: frequencies of (x -> y) and their standard errors."""
    x0 = np.repeat(np.arange(3.0), m)[:, None]
    res = metropolis_hastings(log_pi3, x0, 1, 1.0, backend.rng(seed), proposal=DiscreteProposal(q_up, honest))
    y = np.rint(backend.to_numpy(res.samples[0, :, 0])).astype(int)
    F = np.array([[np.mean(y[i * m:(i + 1) * m] == j) for j in range(3)] for i in range(3)])
    return F, m


@pytest.mark.parametrize("q_up", [0.5, 0.8])
def test_kernel_matches_exact_matrix_and_satisfies_detailed_balance(q_up):
    P = exact_kernel(q_up)
    # Eq. (41): pi_x P_xy = pi_y P_yx, hence pi^T P = pi^T (Eq. 39 fixed point)
    flow = PI3[:, None] * P
    np.testing.assert_allclose(flow, flow.T, atol=1e-15)
    np.testing.assert_allclose(PI3 @ P, PI3, atol=1e-15)
    F, m = empirical_kernel(q_up, honest=True)
    se = np.sqrt(np.maximum(P * (1 - P), 1e-4) / m)       # binomial SE of each frequency
    assert np.all(np.abs(F - P) < 5 * se), (F, P)


def test_without_hastings_correction_the_kernel_breaks_detailed_balance():
    q_up = 0.8
    P_wrong = exact_kernel(q_up, hastings=False)
    F, m = empirical_kernel(q_up, honest=False, seed=1)
    se = np.sqrt(np.maximum(P_wrong * (1 - P_wrong), 1e-4) / m)
    assert np.all(np.abs(F - P_wrong) < 5 * se)           # the sampler does what Eq. (42) says ...
    assert abs(PI3 @ P_wrong - PI3).max() > 0.02          # ... and pi is no longer its fixed point


def test_chains_reach_the_stationary_law():
    m = 20000
    res = metropolis_hastings(log_pi3, np.zeros((m, 1)), 60, 1.0, backend.rng(2),
                              proposal=DiscreteProposal(0.8), thin=60)
    y = np.rint(backend.to_numpy(res.final[:, 0])).astype(int)
    freq = np.bincount(y, minlength=3) / m
    assert np.all(np.abs(freq - PI3) < 5 * np.sqrt(PI3 * (1 - PI3) / m)), freq


class ShiftedIndependence:
    """Independence proposal y ~ N(m, s^2) (1-D): Q(x, y) = q(y) is not symmetric."""

    def __init__(self, mean, std, honest=True):
        self.mean, self.std, self.honest = mean, std, honest

    def sample(self, x, rng):
        return self.mean + self.std * rng.standard_normal(x.shape)

    def log_density(self, y, x):
        if not self.honest:
            return xp.zeros(y.shape[0])
        return -0.5 * ((y[:, 0] - self.mean) / self.std) ** 2


@pytest.mark.parametrize("honest", [True, False])
def test_asymmetric_proposal_needs_the_hastings_ratio(honest):
    # Target N(0, 1), proposal q = N(1, 2^2). With the Hastings ratio: mean 0, variance 1.
    # Without it, pi(x) q(y) min(1, pi(y)/pi(x)) is reversible w.r.t. pi q:
    # the chain samples N(m / (1 + s^2), s^2 / (1 + s^2)) = N(0.2, 0.8).
    m, s, n = 1.0, 2.0, 20000
    mean_ok, var_ok = (0.0, 1.0) if honest else (m / (1 + s * s), s * s / (1 + s * s))
    res = metropolis_hastings(lambda x: -0.5 * x[:, 0] ** 2, np.zeros((n, 1)), 100, 1.0, backend.rng(3),
                              proposal=ShiftedIndependence(m, s, honest), thin=100)
    z = backend.to_numpy(res.final[:, 0])
    # SE of the mean sqrt(var/n); SE of the variance var sqrt(2/n) (Gaussian law)
    assert abs(z.mean() - mean_ok) < 5 * math.sqrt(var_ok / n)
    assert abs(z.var() - var_ok) < 5 * var_ok * math.sqrt(2 / n)


def test_random_walk_on_gaussian_and_shapes():
    n = 4000
    res = metropolis_hastings(lambda x: -0.5 * xp.sum(x ** 2, axis=1), np.zeros((n, 2)), 200, 1.5,
                              backend.rng(4), thin=50)
    assert res.samples.shape == (4, n, 2) and res.accept_rate.shape == (n,) and res.final.shape == (n, 2)
    np.testing.assert_array_equal(backend.to_numpy(res.samples[-1]), backend.to_numpy(res.final))
    z = backend.to_numpy(res.final)
    assert np.all(np.abs(z.mean(0)) < 5 * math.sqrt(1 / n))
    assert np.all(np.abs(z.var(0) - 1) < 5 * math.sqrt(2 / n))
    a = backend.to_numpy(res.accept_rate)
    assert 0.3 < a.mean() < 0.8 and np.all((a >= 0) & (a <= 1))


def test_one_target_evaluation_per_step():
    calls = []

    def counted(x):
        calls.append(x.shape[0])
        return -0.5 * xp.sum(x ** 2, axis=1)
    metropolis_hastings(counted, np.zeros((7, 3)), 25, 0.5, backend.rng(5))
    assert calls == [7] * 26                              # x0 once, then one call per step


@pytest.mark.parametrize("kwargs, name", [
    (dict(x0=np.zeros(5)), "x0"),
    (dict(x0=np.zeros((2, 2, 2))), "x0"),
    (dict(step_size=0.0), "step_size"),
    (dict(step_size=-1.0), "step_size"),
    (dict(step_size=float("nan")), "step_size"),
    (dict(n_steps=0), "n_steps"),
    (dict(n_steps=2.5), "n_steps"),
    (dict(thin=0), "thin"),
    (dict(thin=20), "thin"),
    (dict(log_prob=lambda x: xp.zeros((x.shape[0], 1))), "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], float("nan"))), "log_prob"),
    (dict(proposal=object()), "proposal"),
])
def test_bad_input(kwargs, name):
    args = dict(log_prob=lambda x: -xp.sum(x ** 2, axis=1), x0=np.zeros((3, 2)), n_steps=10,
                step_size=0.5, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        metropolis_hastings(**args)
