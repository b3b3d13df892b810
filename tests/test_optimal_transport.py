"""Optimal transport (notes §4.2) against exact small computations and closed forms.

Oracles: brute force over the n! permutations (n <= 7) for the assignment, and SciPy's
linear_sum_assignment at n = 60; Sinkhorn's marginals, its Gibbs form P = e^{(f + g - C)/eps}
(the 2x2 closed form), its cost within [OT, OT + eps log n] and -> OT as eps -> 0; W_p on the
line = the assignment on the line (equal sizes) and on replicated points (unequal sizes); the
normal closed form W2^2 = (m1 - m2)^2 + (s1 - s2)^2. Each comes with the wrong variant it rejects.
"""
import itertools
import math

import numpy as np
import pytest

from conftest import assert_on_backend, host
from minigen import backend
from minigen.transport.optimal_transport import (assignment, cost_matrix, sinkhorn,
                                                 wasserstein_1d)


def brute_force(C):
    """min over permutations of sum_i C[i, s(i)], and one minimiser, by enumeration."""
    n = len(C)
    best = min(itertools.permutations(range(n)), key=lambda s: C[np.arange(n), list(s)].sum())
    return C[np.arange(n), list(best)].sum(), np.array(best)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
def test_assignment_equals_brute_force(n):
    g = np.random.default_rng(n)
    for kind in range(4):
        C = {0: g.random((n, n)), 1: g.integers(0, 3, (n, n)).astype(float),   # ties
             2: host(cost_matrix(g.standard_normal((n, 2)), g.standard_normal((n, 2)))),
             3: -g.standard_normal((n, n)) * 100}[kind]
        s = host(assignment(C))
        assert sorted(s.tolist()) == list(range(n))                 # a permutation
        best, _ = brute_force(C)
        assert C[np.arange(n), s].sum() == pytest.approx(best, abs=1e-12 * max(1, abs(best)))
        # wrong variant: the greedy row-by-row choice misses the optimum on some of these
    greedy_gap = 0.0
    for _ in range(20):
        C = g.random((n, n))
        free, total = list(range(n)), 0.0
        for i in range(n):
            j = min(free, key=lambda j: C[i, j])
            free.remove(j)
            total += C[i, j]
        greedy_gap = max(greedy_gap, total - brute_force(C)[0])
    assert n < 3 or greedy_gap > 1e-3


def test_assignment_matches_scipy_at_n_60():
    from scipy.optimize import linear_sum_assignment
    C = np.random.default_rng(0).random((60, 60))
    rows, cols = linear_sum_assignment(C)
    s = host(assignment(C))
    assert C[np.arange(60), s].sum() == pytest.approx(C[rows, cols].sum(), abs=1e-10)


def test_assignment_on_each_backend(backend_name):
    C = np.random.default_rng(1).random((6, 6))
    s = assignment(backend.asarray(C))
    assert C[np.arange(6), host(s)].sum() == pytest.approx(brute_force(C)[0], abs=1e-12)
    res = sinkhorn(backend.asarray(np.ones(6) / 6), np.ones(6) / 6, C, 0.05)
    assert_on_backend(res.plan, "plan")
    small = sinkhorn(np.ones(6) / 6, np.ones(6) / 6, C, 1e-3)     # eps-scaling and Newton steps
    assert small.cost == pytest.approx(brute_force(C)[0] / 6, abs=1e-3 * math.log(6))
    assert_on_backend(small.f, "f")
    assert wasserstein_1d(backend.asarray(C[0]), C[1], 2) > 0


def test_float32_backend_uses_its_own_tolerance():
    previous = backend.get_backend()
    backend.set_backend("numpy", dtype="float32")
    try:
        C = _cloud(5, 0)
        res = sinkhorn(np.ones(5) / 5, np.ones(5) / 5, C, 0.1)
        assert res.plan.dtype == np.float32
        assert np.abs(host(res.plan).sum(axis=1) - 0.2).sum() < 1e-4
    finally:
        backend.set_backend(previous)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="square"):
        assignment(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        assignment(np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="b must"):
        sinkhorn(np.ones(2) / 2, np.ones(3), np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="eps"):
        sinkhorn(np.ones(2) / 2, np.ones(2) / 2, np.ones((2, 2)), 0.0)
    with pytest.raises(ValueError, match="x must be 1-D"):
        wasserstein_1d(np.ones((3, 2)), np.ones(3))
    with pytest.raises(RuntimeError, match="max_iter"):
        sinkhorn(np.ones(5) / 5, np.ones(5) / 5, np.random.default_rng(0).random((5, 5)),
                 1e-3, max_iter=3)


def _cloud(n, seed):
    g = np.random.default_rng(seed)
    x, y = g.standard_normal((n, 2)), g.standard_normal((n, 2)) * 0.5 + [1.5, 0.0]
    return host(cost_matrix(x, y))


@pytest.mark.parametrize("eps", [2.0, 0.3, 0.05])
def test_sinkhorn_marginals_and_gibbs_form(eps):
    g = np.random.default_rng(3)
    C = g.random((5, 7)) * 2
    a, b = g.random(5) + 0.1, g.random(7) + 0.1
    a, b = a / a.sum(), b / b.sum()
    res = sinkhorn(a, b, C, eps, tol=1e-12)
    P = host(res.plan)
    assert np.abs(P.sum(axis=1) - a).sum() <= 1e-12 and np.abs(P.sum(axis=0) - b).max() < 1e-14
    # Gibbs form: log P + C / eps is f_i + g_j, so its double differences vanish
    L = np.log(P) + C / eps
    dd = L - L[:1] - L[:, :1] + L[0, 0]
    assert np.abs(dd).max() < 1e-8
    # wrong variant: exp(-C eps) for exp(-C / eps) leaves a double difference of order C / eps
    L_wrong = np.log(P) + C * eps
    assert np.abs(L_wrong - L_wrong[:1] - L_wrong[:, :1] + L_wrong[0, 0]).max() > 0.1
    assert res.cost == pytest.approx((P * C).sum(), rel=1e-12)
    assert np.allclose(P, np.exp((host(res.f)[:, None] + host(res.g)[None] - C) / eps))


@pytest.mark.parametrize("eps", [2.0, 0.5, 0.1])
def test_sinkhorn_two_by_two_closed_form(eps):
    # a = b = (1/2, 1/2), C = [[0, 1], [1, 0]]: P = [[p, 1/2 - p], [1/2 - p, p]] and the Gibbs
    # form gives p / (1/2 - p) = e^{1/eps}
    P = host(sinkhorn(np.ones(2) / 2, np.ones(2) / 2, np.array([[0.0, 1.0], [1.0, 0.0]]), eps,
                      tol=1e-13).plan)
    p = 0.5 / (1 + math.exp(-1 / eps))
    assert P == pytest.approx(np.array([[p, 0.5 - p], [0.5 - p, p]]), abs=1e-12)
    assert abs(P[0, 0] - 0.5 / (1 + math.exp(-eps))) > 1e-2        # wrong: e^{eps}


@pytest.mark.parametrize("n,seed", [(5, 0), (7, 1), (6, 2)])
def test_sinkhorn_cost_decreases_to_the_assignment(n, seed):
    C = _cloud(n, seed)
    ot = brute_force(C)[0] / n
    u = np.ones(n) / n
    costs = []
    for eps in (1.0, 0.3, 0.1, 0.03, 0.01, 0.003):
        c = sinkhorn(u, u, C, eps, tol=1e-10).cost
        # 0 <= <C, P_eps> - OT <= eps (H(a) + H(b) - H(P*)) = eps log n for a permutation P*
        assert -1e-9 <= c - ot <= eps * math.log(n) + 1e-9, (eps, c, ot)
        costs.append(c)
    assert all(c1 <= c0 + 1e-9 for c0, c1 in zip(costs[:-1], costs[1:]))
    assert costs[-1] - ot < 1e-3 * max(1.0, ot)
    # wrong variant: the independent plan a b^T (eps = inf) is far above OT
    assert (C.mean() - ot) > 0.1


def test_sinkhorn_without_log_domain_agrees_then_raises_a_clear_error():
    C = _cloud(6, 4)
    u = np.ones(6) / 6
    ref = sinkhorn(u, u, C, 0.5, tol=1e-12)
    kern = sinkhorn(u, u, C, 0.5, tol=1e-12, log_domain=False)
    assert host(kern.plan) == pytest.approx(host(ref.plan), abs=1e-12)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="log_domain=True"):
        sinkhorn(u, u, C, 0.005, log_domain=False)            # C / eps ~ 2000: e^-2000 = 0
    small = sinkhorn(u, u, C, 0.005)                            # the log domain is fine there
    assert np.all(np.isfinite(host(small.plan)))


@pytest.mark.parametrize("p", [1, 2, 3])
def test_wasserstein_1d_equals_the_assignment_on_the_line(p):
    g = np.random.default_rng(p)
    for n in (1, 4, 7):
        x, y = g.standard_normal(n), g.exponential(size=n)
        C = np.abs(x[:, None] - y[None]) ** p
        assert wasserstein_1d(x, y, p) == pytest.approx((brute_force(C)[0] / n) ** (1 / p),
                                                        rel=1e-12)
        if n > 1 and p > 1:     # wrong variants: unsorted pairing, and the p-th root missing
            assert wasserstein_1d(x, y, p) < np.mean(np.abs(x - y) ** p) ** (1 / p) - 1e-9 or \
                np.allclose(np.sort(x) - np.sort(y), x - y)
            assert abs(wasserstein_1d(x, y, p) - brute_force(C)[0] / n) > 1e-6
    big_x, big_y = g.standard_normal(200), g.standard_normal(200) + 1
    C = np.abs(big_x[:, None] - big_y[None]) ** p
    s = host(assignment(C))
    assert wasserstein_1d(big_x, big_y, p) == pytest.approx(C[np.arange(200), s].mean() ** (1 / p),
                                                            rel=1e-10)


@pytest.mark.parametrize("n,m", [(2, 3), (3, 2), (2, 4), (1, 5), (3, 6)])
def test_wasserstein_1d_unequal_sizes_by_replication(n, m):
    # weights 1/n and 1/m: replicate each x_i lcm/n times and each y_j lcm/m times, then the
    # uniform assignment on lcm points is the exact Kantorovich optimum
    g = np.random.default_rng(10 * n + m)
    x, y = g.standard_normal(n), g.standard_normal(m)
    L = math.lcm(n, m)
    xr, yr = np.repeat(x, L // n), np.repeat(y, L // m)
    for p in (1, 2):
        C = np.abs(xr[:, None] - yr[None]) ** p
        s = host(assignment(C))
        exact = C[np.arange(L), s].mean() ** (1 / p)
        assert wasserstein_1d(x, y, p) == pytest.approx(exact, rel=1e-12)
        # wrong variant: truncating to the first min(n, m) sorted points
        k = min(n, m)
        trunc = np.mean(np.abs(np.sort(x)[:k] - np.sort(y)[:k]) ** p) ** (1 / p)
        assert abs(trunc - exact) > 1e-3 or n == m
    assert wasserstein_1d(x, x[::-1].copy(), 2) == 0.0
    assert wasserstein_1d(x[:, None], y[:, None], 1) == pytest.approx(wasserstein_1d(x, y, 1))


def test_wasserstein_1d_between_normals_closed_form():
    # W2^2(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2; from R = 10 replicate pairs of
    # n = 20 000 samples the mean estimate is compared to it within 5 SE (replicate SE) plus the
    # empirical measure's own bias, E W2^2(empirical, law) ~ O(log n / n) < 2e-3 here
    m1, s1, m2, s2 = 0.3, 1.0, -0.5, 0.6
    exact = (m1 - m2) ** 2 + (s1 - s2) ** 2
    est, wrong = [], []
    for r in range(10):
        g = np.random.default_rng(100 + r)
        x, y = m1 + s1 * g.standard_normal(20_000), m2 + s2 * g.standard_normal(20_000)
        est.append(wasserstein_1d(x, y, 2) ** 2)
        wrong.append(np.mean((x - y) ** 2))                 # unsorted: (m1-m2)^2 + s1^2 + s2^2
    se = np.std(est, ddof=1) / np.sqrt(len(est))
    assert abs(np.mean(est) - exact) < 5 * se + 2e-3
    assert abs(np.mean(wrong) - exact) > 10 * (5 * se + 2e-3)
    assert abs((m1 - m2) ** 2 + (s1 ** 2 - s2 ** 2) - exact) > 0.1    # variances for stds
