"""Checks of minigen.metrics against closed forms and direct computations.

Oracles are written here with plain NumPy loops and formulas (or SciPy where installed), never with
the functions under test. Statistical checks use fixed seeds and a tolerance of at least 5 standard
errors, with the standard error stated next to each tolerance.
"""
import math

import numpy as np
import pytest

from minigen import backend, metrics
from minigen.check.metrics import sphere_moments

# AR(1) coefficient: tau = (1 + phi) / (1 - phi) = 19, rho_k = phi^k
PHI = 0.9
N_STEPS, N_CHAINS = 4000, 200      # N = 800 000 draws
# exact identities, up to rounding of the backend dtype
TIGHT = 1e5 * np.finfo(backend.float_dtype()).eps


def dev(a):
    """A host array moved to the active backend."""
    return backend.asarray(np.asarray(a, dtype=float))


def host(a):
    return np.asarray(backend.to_numpy(a), dtype=float)


def ar1(phi, n_steps, n_chains, seed):
    """x_t = phi x_{t-1} + sqrt(1 - phi^2) eps_t, started from the stationary law N(0, 1)."""
    eps = np.random.default_rng(seed).standard_normal((n_steps, n_chains))
    x = np.empty_like(eps)
    x[0] = eps[0]
    for t in range(1, n_steps):
        x[t] = phi * x[t - 1] + math.sqrt(1.0 - phi ** 2) * eps[t]
    return x


@pytest.fixture(scope="module")
def chain():
    return ar1(PHI, N_STEPS, N_CHAINS, seed=0)


# ---------------------------------------------------------------- chains

def test_acceptance_rate_counts_moves():
    s = np.zeros((5, 3, 2))
    s[:, 0, 0] = np.arange(5)               # moves at every step
    s[3:, 2, 1] = 1.0                        # one move out of 4, in one coordinate only
    np.testing.assert_allclose(host(metrics.acceptance_rate(dev(s))), [1.0, 0.0, 0.25])


def test_autocorrelation_matches_direct_sums():
    assert np.allclose(host(metrics.autocorrelation(dev([[1.0], [-1.0], [1.0], [-1.0]]))),
                       [1.0, -0.75, 0.5, -0.25])
    x = np.random.default_rng(1).standard_normal((30, 3, 2))
    xc = x - x.mean(axis=0)
    # the chain-averaged autocovariance
    c = np.array([[sum(xc[s, j] * xc[s + k, j] for s in range(30 - k)) / 30 for j in range(3)]
                  for k in range(11)]).mean(axis=1)                # (11, 2)
    np.testing.assert_allclose(host(metrics.autocorrelation(dev(x), max_lag=10)), c / c[0],
                               atol=TIGHT)


def geyer_tau_by_loops(x):
    """The multi-chain estimator written with loops: direct-sum autocovariances, Geyer's pairs."""
    n, m = x.shape
    xc = x - x.mean(axis=0)
    acov = np.array([[np.dot(xc[: n - t, j], xc[t:, j]) / n for j in range(m)]
                     for t in range(n)])                           # (n, m)
    W = x.var(axis=0, ddof=1).mean()
    var_plus = (n - 1) / n * W + x.mean(axis=0).var(ddof=1)
    rho = [1.0] + [1.0 - (W - acov[t].mean()) / var_plus for t in range(1, n)]
    total, previous = 0.0, math.inf
    for k in range(n // 2):
        pair = min(rho[2 * k] + rho[2 * k + 1], previous)     # monotone
        if rho[2 * k] + rho[2 * k + 1] <= 0:                  # positive
            break
        total, previous = total + pair, pair
    return min(max(-1.0 + 2.0 * total, 1.0), n * m)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_integrated_time_matches_loop_computation(seed):
    # chains with different means for seed > 11
    x = ar1(0.6, 60, 3, seed) + np.arange(3) * 0.3 * (seed - 11)
    assert metrics.integrated_autocorr_time(dev(x)) == pytest.approx(geyer_tau_by_loops(x),
                                                                     rel=TIGHT)


def test_ar1_autocorrelation_is_phi_power_k(chain):
    # Bartlett: sd(rho_k) <= sqrt((1 + phi^2) / (1 - phi^2) / N) = 0.0035; 5 SE = 0.017, plus the
    # O(k / n + tau / n) <= 0.006 bias of the 1/n estimator with estimated means: tolerance 0.025.
    rho = host(metrics.autocorrelation(dev(chain), max_lag=20))
    np.testing.assert_allclose(rho, PHI ** np.arange(21), atol=0.025)
    assert metrics.autocorrelation(dev(chain[:, :, None]), max_lag=3).shape == (4, 1)


def test_ar1_integrated_time_and_ess(chain):
    # Sokal: var(tau_hat) ~ 2 (2M + 1) / N tau^2 with window M <= 100 lags: SE = 0.43 (0.40 measured
    # over 20 seeds); tolerance 5 SE = 2.2.
    tau = metrics.integrated_autocorr_time(dev(chain))
    assert abs(tau - 19.0) < 2.2
    ess = metrics.effective_sample_size(dev(chain))
    assert abs(N_STEPS * N_CHAINS / ess - 19.0) < 2.2
    # the AR(1) has unit variance, so MCSE = sqrt(tau / N); its relative SE is about half that of
    # tau_hat, 0.43 / 19 / 2 = 1.1%: tolerance 7%.
    assert abs(metrics.mcse(dev(chain)) / math.sqrt(19.0 / (N_STEPS * N_CHAINS)) - 1.0) < 0.07


def test_ess_of_iid_draws_is_n():
    # iid: tau_hat - 1 has SE ~ 0.014 (measured over 20 seeds); ESS <= N is a guarantee.
    x = np.random.default_rng(2).standard_normal((5000, 8, 2))
    ess = host(metrics.effective_sample_size(dev(x)))
    assert ess.shape == (2,)
    assert np.all(ess <= 40000) and np.all(ess > 0.9 * 40000)
    # MCSE = sqrt(var+ / ESS), var+ = (n - 1) / n W + B / n
    # (W: mean chain variance, B / n: variance of chain means)
    var_plus = 4999 / 5000 * x.var(axis=0, ddof=1).mean(axis=0) + x.mean(axis=0).var(axis=0, ddof=1)
    np.testing.assert_allclose(host(metrics.mcse(dev(x))), np.sqrt(var_plus / ess), rtol=TIGHT)


def test_ess_never_exceeds_number_of_draws():
    n, m = 400, 4
    antithetic = np.tile((-1.0) ** np.arange(n)[:, None], (1, m))    # tau_hat < 1 before clipping
    negative = ar1(-0.5, n, m, seed=3)                                # tau = 1/3 < 1
    for x in (antithetic, negative):
        assert metrics.effective_sample_size(dev(x)) <= n * m
        assert metrics.integrated_autocorr_time(dev(x)) >= 1.0


def test_ess_of_stuck_chains_is_tiny():
    n, m = 500, 4
    # each chain stuck at its own value
    apart = np.tile(np.arange(m, dtype=float), (n, 1)) * 0.1
    assert metrics.effective_sample_size(dev(apart)) <= m
    same = np.full((n, m), 0.1)                                      # all chains stuck at one value
    assert metrics.effective_sample_size(dev(same)) == 1.0
    assert metrics.integrated_autocorr_time(dev(same)) == n * m
    assert metrics.effective_sample_size(dev(same[:, :1])) == 1.0
    assert metrics.mcse(dev(same)) == 0.0
    # one free coordinate (iid, 8000 draws: ESS / N has SE 0.025 measured) beside a stuck one
    mixed = np.stack([np.random.default_rng(4).standard_normal((4 * n, m)),
                      np.full((4 * n, m), 0.1)], axis=2)
    ess = host(metrics.effective_sample_size(dev(mixed)))
    assert ess[0] > 0.8 * 4 * n * m and ess[1] == 1.0
    assert np.all(host(metrics.autocorrelation(dev(same), max_lag=3)) == 1.0)


# ---------------------------------------------------------------- modes

MEANS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
POINTS = np.array([[0.0, 0.0], [0.5, 0.0], [0.0, -1.0],   # 3 within 1 of mode 0
                   [12.0, 0.0],                          # 2 away from mode 1
                   [-20.0, -20.0]])                       # nearest to mode 0, far from all


def test_mode_occupancy():
    freq, tv = metrics.mode_occupancy(dev(POINTS), dev(MEANS))
    np.testing.assert_allclose(host(freq), [0.8, 0.2, 0.0])
    assert tv == pytest.approx(0.5 * (abs(0.8 - 1 / 3) + abs(0.2 - 1 / 3) + 1 / 3))
    matched = metrics.mode_occupancy(dev(POINTS), dev(MEANS), weights=dev([4.0, 1.0, 0.0]))
    assert matched.total_variation == pytest.approx(0.0, abs=TIGHT)


def test_mode_coverage_and_high_quality_fraction():
    x, mu = dev(POINTS), dev(MEANS)
    assert metrics.mode_coverage(x, mu, std=1.0) == 2
    assert metrics.mode_coverage(x, mu, std=1.0, min_count=2) == 1
    assert metrics.mode_coverage(x, mu, std=1.0, n_std=1.5) == 1
    # mode 1 now needs distance < 1.5
    assert metrics.mode_coverage(x, mu, std=dev([1.0, 0.5, 1.0])) == 1
    assert metrics.high_quality_fraction(x, mu, std=1.0) == pytest.approx(0.8)
    assert metrics.high_quality_fraction(x, mu, std=1.0, n_std=0.1) == pytest.approx(0.2)


def test_reverse_kl_modes():
    x, mu = dev(POINTS), dev(MEANS)
    kl = 0.8 * math.log(0.8 * 3) + 0.2 * math.log(0.2 * 3)
    assert metrics.reverse_kl_modes(x, mu) == pytest.approx(kl)
    kl_hq = 0.75 * math.log(0.75 * 3) + 0.25 * math.log(0.25 * 3)      # the outlier is left out
    assert metrics.reverse_kl_modes(x, mu, std=1.0) == pytest.approx(kl_hq)
    assert metrics.reverse_kl_modes(dev(POINTS[:3]), mu) == pytest.approx(math.log(3))   # collapse
    in_mode_2 = dev([[0.0, 10.0], [0.0, 0.0]])                           # half the mass where w = 0
    assert metrics.reverse_kl_modes(in_mode_2, mu, weights=dev([0.5, 0.5, 0.0])) == pytest.approx(
        0.5 * math.log(0.5 / 0.5) + 0.5 * math.log(0.5 / 1e-12))
    assert metrics.reverse_kl_modes(dev([[50.0, 50.0]]), mu, std=1.0) == math.inf


# ---------------------------------------------------------------- distances between samples

def test_sliced_wasserstein():
    x = np.random.default_rng(5).standard_normal((500, 2))
    assert metrics.sliced_wasserstein(dev(x), dev(x), backend.rng(0)) == 0.0
    # y = x + v: every projection shifts by <theta, v>, so SW2^2 is the mean over the directions
    # of theta^T v v^T theta, of mean |v|^2 / 2 = 12.5 in 2D and variance (sphere_moments) 78.1:
    # with 4000 directions SE(SW2^2) = 0.14; tolerance 5 SE.
    v = np.array([3.0, 4.0])
    n_proj = 4000
    sw = metrics.sliced_wasserstein(dev(x), dev(x + v), backend.rng(1), n_projections=n_proj)
    mean, var = sphere_moments(np.outer(v, v), 2)
    assert abs(sw ** 2 - mean) < 5 * math.sqrt(var / n_proj)
    # in 1D sliced W2 is W2 of Eq. (60): sorted points matched in order
    assert metrics.sliced_wasserstein(dev([[0.0], [1.0], [2.0]]), dev([[5.0], [3.0], [4.0]]),
                                      backend.rng(2)) == pytest.approx(3.0)


def rbf_mmd2_by_loops(x, y, h):
    def k(a, b):
        return math.exp(-float(np.sum((a - b) ** 2)) / (2 * h * h))
    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return kxx + kyy - 2 * sum(k(a, b) for a in x for b in y) / (m * n)


def test_mmd_matches_direct_sums():
    r = np.random.default_rng(6)
    x, y = r.standard_normal((12, 2)), r.standard_normal((9, 2)) + 0.5
    assert metrics.mmd_rbf(dev(x), dev(y), bandwidth=0.7) == pytest.approx(
        rbf_mmd2_by_loops(x, y, 0.7), rel=TIGHT)
    z = np.concatenate([x, y])
    h = math.sqrt(np.median([np.sum((z[i] - z[j]) ** 2)
                             for i in range(21) for j in range(i + 1, 21)]))
    assert metrics.mmd_rbf(dev(x), dev(y)) == pytest.approx(rbf_mmd2_by_loops(x, y, h), rel=TIGHT)


def test_mmd_of_gaussians():
    # For N(mu, s^2 I) in d dims and bandwidth h:
    #     E k = (h^2 / (h^2 + 2 s^2))^(d/2) exp(-|dmu|^2 / (2 (h^2 + 2 s^2))),
    # so MMD^2 = 2 c (1 - exp(-|dmu|^2 / (2 (h^2 + 2 s^2)))), c = (h^2 / (h^2 + 2 s^2))^(d/2).
    # SE measured over 50 seeds, n = 800: 0.00076 (equal laws) and 0.0091 (shift 1): tolerances
    # 0.004, 0.046.
    r = np.random.default_rng(7)
    x, y, z = (r.standard_normal((800, 2)) for _ in range(3))
    assert abs(metrics.mmd_rbf(dev(x), dev(y), bandwidth=1.0)) < 0.004
    exact = 2 * (1 / 3) * (1 - math.exp(-1 / 6))
    assert abs(metrics.mmd_rbf(dev(x), dev(z + [1.0, 0.0]), bandwidth=1.0) - exact) < 0.046


def sqrtm_2x2(a):
    """Square root of a 2x2 SPD matrix: (A + sqrt(det A) I) / sqrt(tr A + 2 sqrt(det A))."""
    s = math.sqrt(np.linalg.det(a))
    return (a + s * np.eye(2)) / math.sqrt(np.trace(a) + 2 * s)


def frechet_closed_form(mu1, s1, mu2, s2):
    """Eq. (69), with (S1 S2)^{1/2} = S1^{1/2} (S1^{1/2} S2 S1^{1/2})^{1/2} S1^{-1/2}
    (the same trace)."""
    r = sqrtm_2x2(s1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(sqrtm_2x2(r @ s2 @ r)))


def test_frechet_equals_eq69_on_sample_moments():
    r = np.random.default_rng(8)
    x = r.standard_normal((300, 2)) @ np.array([[1.0, 0.4], [0.0, 0.7]])
    y = r.exponential(size=(200, 2))                                     # any law: moments only
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    s1, s2 = np.cov(x.T), np.cov(y.T)
    fd = metrics.frechet_distance(dev(x), dev(y))
    assert fd == pytest.approx(frechet_closed_form(mu1, s1, mu2, s2), rel=TIGHT)
    # 1D: (mu_x - mu_y)^2 + (sigma_x - sigma_y)^2, the first line of Eq. (69)
    assert metrics.frechet_distance(dev(x[:, :1]), dev(y[:, :1])) == pytest.approx(
        (mu1[0] - mu2[0]) ** 2 + (x[:, 0].std(ddof=1) - y[:, 0].std(ddof=1)) ** 2, rel=TIGHT)
    assert metrics.frechet_distance(dev(x), dev(x)) == pytest.approx(0.0, abs=TIGHT)


def test_frechet_matches_scipy_sqrtm_in_5d():
    sl = pytest.importorskip("scipy.linalg")
    r = np.random.default_rng(9)
    x, y = r.standard_normal((100, 5)) @ r.standard_normal((5, 5)), r.standard_normal((80, 5)) + 1.0
    s1, s2 = np.cov(x.T), np.cov(y.T)
    exact = np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(s1 + s2 - 2 * sl.sqrtm(s1 @ s2).real)
    assert metrics.frechet_distance(dev(x), dev(y)) == pytest.approx(exact, rel=TIGHT)


def test_frechet_between_gaussians_large_sample():
    # SE measured over 50 seeds with n = 20000 per set: 0.018; tolerance 5 SE = 0.09.
    mu1, mu2 = np.zeros(2), np.array([1.0, -0.5])
    s1, s2 = np.array([[1.0, 0.3], [0.3, 0.5]]), np.array([[0.6, -0.2], [-0.2, 1.2]])
    r = np.random.default_rng(10)
    x = mu1 + r.standard_normal((20000, 2)) @ np.linalg.cholesky(s1).T
    y = mu2 + r.standard_normal((20000, 2)) @ np.linalg.cholesky(s2).T
    exact = frechet_closed_form(mu1, s1, mu2, s2)
    assert abs(metrics.frechet_distance(dev(x), dev(y)) - exact) < 0.09


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: metrics.acceptance_rate(dev(np.zeros((5, 3)))), "samples"),
    (lambda: metrics.effective_sample_size(dev(np.zeros((2, 3)))), "x"),
    (lambda: metrics.integrated_autocorr_time(dev([[np.nan, 1.0]] * 5)), "x"),
    (lambda: metrics.autocorrelation(dev(np.zeros((5, 2))), max_lag=5), "max_lag"),
    (lambda: metrics.mode_occupancy(dev(POINTS), dev(MEANS), weights=dev([1.0, -1.0, 1.0])),
     "weights"),
    (lambda: metrics.mode_occupancy(dev(POINTS), dev(MEANS[:, :1])), "means"),
    (lambda: metrics.mode_coverage(dev(POINTS), dev(MEANS), std=0.0), "std"),
    (lambda: metrics.mode_coverage(dev(POINTS), dev(MEANS), std=1.0, min_count=0), "min_count"),
    (lambda: metrics.high_quality_fraction(dev(POINTS), dev(MEANS), std=dev([1.0, 1.0])), "std"),
    (lambda: metrics.reverse_kl_modes(dev(POINTS), dev(MEANS), std=1.0, n_std=-1.0), "n_std"),
    (lambda: metrics.sliced_wasserstein(dev(POINTS), dev(POINTS[:4]), backend.rng(0)), "x"),
    (lambda: metrics.sliced_wasserstein(dev(POINTS), dev(POINTS), backend.rng(0),
                                        n_projections=0), "n_projections"),
    (lambda: metrics.mmd_rbf(dev(POINTS), dev(POINTS), bandwidth=-1.0), "bandwidth"),
    (lambda: metrics.frechet_distance(dev(POINTS), dev(np.zeros((4, 3)))), "x"),
    (lambda: metrics.frechet_distance(dev(POINTS[0]), dev(POINTS)), "x"),
])
def test_bad_input_raises(call, name):
    with pytest.raises(ValueError, match=name):
        call()
