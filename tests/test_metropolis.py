"""Metropolis-Hastings (Algorithm 1, Eq. 40-42) against exact discrete kernels and closed forms.

Statistical checks use independent chains (one state per chain), so the standard error of a
frequency p is sqrt(p (1 - p) / m) and of a mean sqrt(var / m); tolerances are 5 SE.
"""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.backend import xp
from minigen.distributions import polygon_blobs
from minigen.check import metropolis as check_mh
from minigen.mcmc import GaussianRandomWalk, metropolis_hastings, transition_matrix

PI3 = np.array([0.2, 0.3, 0.5])                          # 3-state target


def log_pi3(x):
    """States 0, 1, 2 embedded in R^1; log pi of the state (n,)."""
    k = xp.clip(xp.round(x[:, 0]), 0, 2).astype(int)
    return xp.log(xp.asarray(PI3))[k]


def std_normal(x):
    return -0.5 * xp.sum(x ** 2, axis=1)


class DiscreteProposal:
    """Q(x, y) = Qmat[x, y] on {0, 1, 2}: y = x + j mod 3, j = 1 w.p. q_up, j = 2 otherwise."""

    def __init__(self, q_up, honest=True):
        self.q_up, self.honest = q_up, honest

    def sample(self, x, rng):
        j = xp.where(rng.random((x.shape[0],)) < self.q_up, 1.0, 2.0)
        return (x + j[:, None]) % 3

    def log_density(self, y, x):
        if not self.honest:                        # pretend Q is symmetric: no Hastings term
            return xp.zeros(x.shape[0])
        j = (y[:, 0] - x[:, 0]) % 3
        return xp.log(xp.where(j == 1, self.q_up, 1.0 - self.q_up))


def cyclic_q(q_up):
    Q = np.zeros((3, 3))
    for x in range(3):
        Q[x, (x + 1) % 3], Q[x, (x + 2) % 3] = q_up, 1 - q_up
    return Q


def exact_kernel(Q, pi=PI3, hastings=True):
    """P[x, y] written from Eq. (40) and Algorithm 1, line 4, state by state: the oracle of
    exercise mode (minigen.check.metropolis, which shares no code with minigen.mcmc)."""
    return check_mh.kernel(Q, pi, hastings=hastings)


def empirical_kernel(q_up, honest, m=20000, seed=0):
    """One step from m chains in each state: frequencies of (x -> y)."""
    x0 = np.repeat(np.arange(3.0), m)[:, None]
    res = metropolis_hastings(log_pi3, x0, 1, 1.0, backend.rng(seed),
                              proposal=DiscreteProposal(q_up, honest))
    y = np.rint(backend.to_numpy(res.samples[0, :, 0])).astype(int)
    F = np.array([[np.mean(y[i * m:(i + 1) * m] == j) for j in range(3)] for i in range(3)])
    return F, m


@pytest.mark.parametrize("q_up", [0.5, 0.8])
def test_kernel_matches_exact_matrix_and_satisfies_detailed_balance(q_up):
    P = exact_kernel(cyclic_q(q_up))
    # Eq. (41): pi_x P_xy = pi_y P_yx, hence pi^T P = pi^T (Eq. 39 fixed point)
    flow = PI3[:, None] * P
    np.testing.assert_allclose(flow, flow.T, atol=1e-15)
    np.testing.assert_allclose(PI3 @ P, PI3, atol=1e-15)
    F, m = empirical_kernel(q_up, honest=True)
    se = np.sqrt(np.maximum(P * (1 - P), 1e-4) / m)       # binomial SE of each frequency
    assert np.all(np.abs(F - P) < 5 * se), (F, P)


def test_without_hastings_correction_the_kernel_breaks_detailed_balance():
    q_up = 0.8
    P_wrong = exact_kernel(cyclic_q(q_up), hastings=False)
    F, m = empirical_kernel(q_up, honest=False, seed=1)
    se = np.sqrt(np.maximum(P_wrong * (1 - P_wrong), 1e-4) / m)
    assert np.all(np.abs(F - P_wrong) < 5 * se)           # the sampler does what Eq. (42) says
    assert abs(PI3 @ P_wrong - PI3).max() > 0.02          # ... and pi is no longer its fixed point


def test_chains_reach_the_stationary_law():
    m = 20000
    res = metropolis_hastings(log_pi3, np.zeros((m, 1)), 60, 1.0, backend.rng(2),
                              proposal=DiscreteProposal(0.8), thin=60)
    y = np.rint(backend.to_numpy(res.final[:, 0])).astype(int)
    freq = np.bincount(y, minlength=3) / m
    assert np.all(np.abs(freq - PI3) < 5 * np.sqrt(PI3 * (1 - PI3) / m)), freq


# --- transition_matrix: exact small computations ------------------------------------------------

Q_ASYM = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3], [0.4, 0.4, 0.2]])


def test_transition_matrix_by_hand_on_a_non_symmetric_proposal():
    # P[x, y] = Q(x, y) min(1, Q(y, x) pi(y) / (Q(x, y) pi(x))), computed by hand for pi = PI3:
    # (0 -> 1) 0.5 min(1, 0.1 .3 / (.5 .2)) = 0.15   (0 -> 2) 0.3 min(1, .4 .5 / (.3 .2)) = 0.3
    # (1 -> 0) 0.1 min(1, 0.5 .2 / (.1 .3)) = 0.1    (1 -> 2) 0.3 min(1, .4 .5 / (.3 .3)) = 0.3
    # (2 -> 0) 0.4 min(1, 0.3 .2 / (.4 .5)) = 0.12   (2 -> 1) 0.4 min(1, .3 .3 / (.4 .5)) = 0.18
    by_hand = np.array([[0.55, 0.15, 0.30], [0.10, 0.60, 0.30], [0.12, 0.18, 0.70]])
    P = backend.to_numpy(transition_matrix(PI3, Q_ASYM))
    np.testing.assert_allclose(P, by_hand, atol=1e-14)
    np.testing.assert_allclose(P, exact_kernel(Q_ASYM), atol=1e-14)
    # unnormalized pi gives the same kernel (only ratios of pi enter Algorithm 1, l. 4)
    np.testing.assert_allclose(backend.to_numpy(transition_matrix(7 * PI3, Q_ASYM)), P,
                               atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1])
def test_transition_matrix_is_a_reversible_kernel_of_pi(seed):
    g = np.random.default_rng(seed)
    S = 6
    pi = g.random(S) + 0.1
    Q = g.random((S, S)) * (g.random((S, S)) < 0.7)       # zeros: some moves have no way back
    Q = Q / Q.sum(axis=1, keepdims=True)
    P = backend.to_numpy(transition_matrix(pi, Q))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-13)          # a Markov kernel
    assert np.all(P >= -1e-15)
    flow = pi[:, None] * P                                               # Eq. (41)
    np.testing.assert_allclose(flow, flow.T, atol=1e-13)
    np.testing.assert_allclose(pi @ P, pi, atol=1e-13)                   # Eq. (39)
    np.testing.assert_allclose(P, exact_kernel(Q, pi), atol=1e-13)
    one_way = (Q > 0) & (Q.T == 0)                       # y reachable from x, x not from y
    assert one_way.any() and np.all(P[one_way] == 0)


# --- the chain ----------------------------------------------------------------------------------

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
    res = metropolis_hastings(lambda x: -0.5 * x[:, 0] ** 2, np.zeros((n, 1)), 100, None,
                              backend.rng(3), proposal=ShiftedIndependence(m, s, honest),
                              thin=100)
    z = backend.to_numpy(res.final[:, 0])
    # SE of the mean sqrt(var/n); SE of the variance var sqrt(2/n) (Gaussian law)
    assert abs(z.mean() - mean_ok) < 5 * math.sqrt(var_ok / n)
    assert abs(z.var() - var_ok) < 5 * var_ok * math.sqrt(2 / n)


def test_random_walk_on_gaussian_and_shapes():
    n = 4000
    res = metropolis_hastings(std_normal, np.zeros((n, 2)), 200, 1.5, backend.rng(4), thin=50)
    assert res.samples.shape == (4, n, 2) and res.accept_rate.shape == (n,)
    assert res.final.shape == (n, 2)
    np.testing.assert_array_equal(backend.to_numpy(res.samples[-1]), backend.to_numpy(res.final))
    z = backend.to_numpy(res.final)
    assert np.all(np.abs(z.mean(0)) < 5 * math.sqrt(1 / n))
    assert np.all(np.abs(z.var(0) - 1) < 5 * math.sqrt(2 / n))
    a = backend.to_numpy(res.accept_rate)
    assert 0.3 < a.mean() < 0.8 and np.all((a >= 0) & (a <= 1))


@pytest.mark.parametrize("s", [0.5, 2.0])
def test_first_step_acceptance_has_the_closed_form(s):
    # From x = 0 on N(0, 1), y ~ N(0, s^2): E min(1, pi(y)/pi(0)) = E exp(-y^2/2) = 1/sqrt(1 + s^2)
    m = 40000
    res = metropolis_hastings(lambda x: -0.5 * x[:, 0] ** 2, np.zeros((m, 1)), 1, s,
                              backend.rng(6))
    p = 1.0 / math.sqrt(1 + s * s)
    got = float(np.mean(backend.to_numpy(res.accept_rate)))
    assert abs(got - p) < 5 * math.sqrt(p * (1 - p) / m), (got, p)     # binomial SE


def test_proposal_object_equals_the_built_in_random_walk_and_thin_keeps_every_thin_th_state():
    x0 = polygon_blobs(4, 2.0, 0.5).sample(30, backend.rng(7))
    target = polygon_blobs(4, 2.0, 0.5)
    a = metropolis_hastings(target.log_prob, x0, 12, 0.8, backend.rng(8))
    b = metropolis_hastings(target.log_prob, x0, 12, None, backend.rng(8),
                            proposal=GaussianRandomWalk(0.8))
    c = metropolis_hastings(target.log_prob, x0, 12, 0.8, backend.rng(8), thin=4)
    for u, v in zip(a, b):                               # same draws, same symmetric Q (Eq. 42)
        np.testing.assert_array_equal(backend.to_numpy(u), backend.to_numpy(v))
    np.testing.assert_array_equal(backend.to_numpy(c.samples), backend.to_numpy(a.samples[3::4]))
    np.testing.assert_array_equal(backend.to_numpy(c.accept_rate),
                                  backend.to_numpy(a.accept_rate))


def test_one_target_evaluation_per_step():
    calls = []

    def counted(x):
        calls.append(x.shape[0])
        return std_normal(x)
    metropolis_hastings(counted, np.zeros((7, 3)), 25, 0.5, backend.rng(5))
    assert calls == [7] * 26                              # x0 once, then one call per step


def test_minus_inf_outside_the_support_is_a_rejection_not_an_error():
    # uniform law on [-1, 1]: variance 1/3, SE of a variance of m uniform draws sqrt(4/45 / m)
    m = 20000
    res = metropolis_hastings(lambda x: xp.where(xp.abs(x[:, 0]) <= 1, 0.0, -math.inf),
                              np.zeros((m, 1)), 100, 0.8, backend.rng(9), thin=100)
    z = backend.to_numpy(res.final[:, 0])
    assert np.all(np.abs(z) <= 1) and abs(z.var() - 1 / 3) < 5 * math.sqrt(4 / 45 / m)


# --- no silent NaN ------------------------------------------------------------------------------

def nan_on_call(k, chain, value=math.nan):
    """std_normal, except that the k-th call (call 1 is x0, call j + 1 is step j) returns value
    at one chain."""
    calls = [0]

    def log_prob(x):
        calls[0] += 1
        out = std_normal(x)
        return xp.where(xp.arange(x.shape[0]) == chain, value, out) if calls[0] == k else out
    return log_prob


class NaNProposal:
    def sample(self, x, rng):
        return x + math.nan

    def log_density(self, y, x):
        return xp.zeros(x.shape[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(log_prob=nan_on_call(5, 2)), r"at step 4, 1 of 3 chains .* NaN at 1 and \+inf at 0"),
    (dict(log_prob=nan_on_call(2, 0, math.inf)), r"at step 1, 1 of 3 chains .*\+inf at 1"),
    (dict(proposal=NaNProposal()), r"at step 1, 3 of 3 chains .* 3 proposals are not finite"),
])
def test_non_finite_ratio_raises_with_step_count_and_reason(kwargs, message):
    args = dict(log_prob=std_normal, x0=np.zeros((3, 2)), n_steps=10, step_size=0.5,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(FloatingPointError, match=message):
        metropolis_hastings(**args)


# --- bad input ----------------------------------------------------------------------------------

GM = polygon_blobs(4, 2.0, 0.5)
BAD = [
    (dict(x0=np.zeros(5)), ValueError, "x0"),
    (dict(x0=np.zeros((2, 2, 2))), ValueError, "x0"),
    (dict(x0=np.full((3, 2), math.nan)), ValueError, "x0"),
    (dict(x0="zeros"), TypeError, "x0"),
    (dict(step_size=0.0), ValueError, "step_size"),
    (dict(step_size=-1.0), ValueError, "step_size"),
    (dict(step_size=math.nan), ValueError, "step_size"),
    (dict(step_size=math.inf), ValueError, "step_size"),
    (dict(step_size=None), ValueError, "step_size"),
    (dict(step_size=math.nan, proposal=GaussianRandomWalk(0.5)), ValueError, "step_size"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(n_steps=2.5), ValueError, "n_steps"),
    (dict(n_steps=10.0), ValueError, "n_steps"),
    (dict(thin=0), ValueError, "thin"),
    (dict(thin=20), ValueError, "thin"),
    (dict(thin=2.5), ValueError, "thin"),
    (dict(thin=True), ValueError, "thin"),
    (dict(rng=0), TypeError, r"rng=minigen.backend.rng\(0\)"),
    (dict(rng=None), TypeError, "rng"),
    (dict(log_prob=GM), TypeError, "log_prob=target.log_prob"),
    (dict(log_prob="log_prob"), TypeError, "log_prob"),
    (dict(log_prob=lambda x: xp.zeros((x.shape[0], 1))), ValueError, "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], math.nan)), ValueError, "log_prob"),
    (dict(log_prob=lambda x: xp.full(x.shape[0], -math.inf)), ValueError, "log_prob"),
    (dict(proposal=object()), TypeError, "proposal"),
    (dict(progress="yes"), ValueError, "progress"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD)
def test_bad_input(kwargs, error, name):
    args = dict(log_prob=std_normal, x0=np.zeros((3, 2)), n_steps=10, step_size=0.5,
                rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        metropolis_hastings(**args)


@pytest.mark.parametrize("pi, Q, name", [
    ([0.2, 0.3, 0.5], Q_ASYM * 2, "^Q must"),                               # rows sum to 2
    ([0.2, 0.3, 0.5], Q_ASYM - 0.2, "^Q must"),                             # negative entries
    ([0.2, 0.3, 0.5], np.eye(2), "^Q must"),
    ([0.2, math.nan, 0.5], Q_ASYM, "^pi must"),
    ([0.2, 0.0, 0.5], Q_ASYM, "^pi must"),
    ([[0.2, 0.3, 0.5]], Q_ASYM, "^pi must"),
])
def test_bad_transition_matrix_input(pi, Q, name):
    with pytest.raises(ValueError, match=name):
        transition_matrix(pi, Q)


def test_hyperparameters_are_keyword_only():
    with pytest.raises(TypeError):
        metropolis_hastings(std_normal, np.zeros((3, 2)), 10, 0.5, backend.rng(0), None, 2)
