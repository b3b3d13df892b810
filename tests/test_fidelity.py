"""minigen.metrics.fidelity against hand-computed balls, exact combinatorics and closed forms.

Oracles: 1-D cases whose k-NN balls are worked out by hand in the comments; the exact
E[coverage] = 1 - prod_{i<k} (N - 1 - i) / (N + M - 1 - i) and E[density] = 1 of Naeem et al.
2020 for two samples of one continuous law, computed exactly by averaging over every split of
one pooled set (given the pooled set, each split is equally likely); a plain-Python loop over
points (``by_loops``), with switches for the known-wrong variants that each test must reject;
the moments of Gaussians (Eq. 67), exact on sigma points. Statistical tests: >= 5 SE.
"""
import itertools
import math

import numpy as np
import pytest

from conftest import assert_on_backend, host

from minigen import backend, distributions, metrics
from minigen.metrics import fidelity
from minigen.metrics import density_coverage, moment_matching, monomials, precision_recall


def dev(a):
    return backend.asarray(np.asarray(a, dtype=float))


def col(values):
    """1-D points as an (n, 1) array."""
    return np.asarray(values, dtype=float)[:, None]


def by_loops(real, fake, k, mistake=None):
    """(precision, recall, density, coverage) by loops over points, distances |a - b|.

    mistake: "own" (a point is its own neighbour), "k+1" (the (k+1)-th neighbour), "strict"
    (|y - x| < r), "swapped" (precision and recall exchanged): the known-wrong variants."""
    def radii(x):
        r = []
        for i in range(len(x)):
            d = sorted(float(np.linalg.norm(x[i] - x[j])) for j in range(len(x))
                       if j != i or mistake == "own")
            r.append(d[k if mistake == "k+1" else k - 1])
        return r

    def inside(y, x, r):
        dist = float(np.linalg.norm(y - x))
        return dist < r if mistake == "strict" else dist <= r

    r, s = radii(real), radii(fake)
    n_in = [sum(inside(y, x, ri) for x, ri in zip(real, r)) for y in fake]
    precision = float(np.mean([n > 0 for n in n_in]))
    recall = float(np.mean([any(inside(x, y, sj) for y, sj in zip(fake, s)) for x in real]))
    density = sum(n_in) / (k * len(fake))
    coverage = float(np.mean([any(inside(y, x, ri) for y in fake) for x, ri in zip(real, r)]))
    if mistake == "swapped":
        precision, recall = recall, precision
    return precision, recall, density, coverage


WRONG = ("own", "k+1", "strict", "swapped")

# real {0, 1, 3, 7}; k = 1: r = 1, 1, 2, 4, balls [-1, 1], [0, 2], [1, 5], [3, 11];
#   k = 2: r = 3, 2, 3, 6, balls [-3, 3], [-1, 3], [0, 6], [1, 13]; k = 3: r = 7, 6, 4, 7.
# fake {0.5, 2.5, 12, 13.5}; k = 1: s = 2, 2, 1.5, 1.5, balls [-1.5, 2.5], [0.5, 4.5],
#   [10.5, 13.5], [12, 15]; k = 2: s = 11.5, 9.5, 9.5, 11. No point lies on a sphere.
REAL, FAKE = col([0, 1, 3, 7]), col([0.5, 2.5, 12, 13.5])
HAND = {   # k -> (precision, recall, density, coverage)
    # k = 1: 0.5 and 2.5 in real balls, 12 and 13.5 not; 0, 1, 3 in fake balls, 7 not;
    # 0.5 in 2 balls, 2.5 in 1: density 3 / (1 * 4); B(7, 4) = [3, 11] holds no fake point
    1: (2 / 4, 3 / 4, 3 / 4, 3 / 4),
    # k = 2: 0.5 in 3 balls (not B(7, 6)), 2.5 in 4, 12 in B(7, 6), 13.5 in none: density
    # 8 / (2 * 4); B(-11, 12) around 0.5 holds every real point; every real ball holds 0.5 or 2.5
    2: (3 / 4, 1.0, 1.0, 1.0),
}


@pytest.mark.parametrize("k", sorted(HAND))
def test_hand_computed_balls(k):
    # rejects: a point counted as its own neighbour (k = 1: radius 0, precision 0; k = 2: the
    # k = 1 balls), the (k+1)-th neighbour (k = 1: the k = 2 balls; k = 2: B(7, 7) holds 13.5),
    # precision and recall swapped; no ties here, so < and <= agree
    pr, dc = precision_recall(dev(REAL), dev(FAKE), k), density_coverage(dev(REAL), dev(FAKE), k)
    assert tuple(pr) + tuple(dc) == pytest.approx(HAND[k], abs=1e-12)
    assert by_loops(REAL, FAKE, k) == pytest.approx(HAND[k], abs=1e-12)
    for mistake in ("own", "k+1", "swapped"):
        assert by_loops(REAL, FAKE, k, mistake)[:2] != pytest.approx(HAND[k][:2]), mistake
    assert by_loops(REAL, FAKE, k, "strict") == pytest.approx(HAND[k])   # no point on a sphere


def test_a_point_on_the_sphere_is_inside():
    # real {0, 1, 3, 7}, k = 1: fake -1 lies on B(0, 1), 11 on B(7, 4), 13 outside every ball:
    # precision 2/3 with <=, 0 with < (the wrong variant). Fake radii 12, 2, 2: B(-1, 12) holds
    # every real point, recall 1. Coverage: B(0, 1) and B(7, 4) hold a fake point: 2/4
    fake = col([-1, 11, 13])
    assert precision_recall(REAL, fake, 1) == pytest.approx((2 / 3, 1.0), abs=1e-12)
    assert density_coverage(REAL, fake, 1) == pytest.approx((2 / 3, 2 / 4), abs=1e-12)
    assert by_loops(REAL, fake, 1, "strict")[:2] == pytest.approx((0.0, 1.0))
    # recall on a sphere: real {4, 8, 9}; fake {0, 4}, s = 4, 4: 8 lies on B(4, 4), 9 outside
    assert precision_recall(col([4, 8, 9]), col([0, 4]), 1).recall == pytest.approx(2 / 3)
    assert by_loops(col([4, 8, 9]), col([0, 4]), 1, "strict")[1] == pytest.approx(1 / 3)


def test_a_point_is_not_its_own_neighbour_but_its_duplicate_is():
    # real {0, 0, 6, 10}, k = 1: r = 0, 0 (the duplicate), 4, 4: balls {0}, {0}, [2, 10], [6, 14];
    # fake {0, 0.5, 3}: 0 is at distance 0 <= 0 of both copies, 0.5 in no ball, 3 in [2, 10]
    real, fake = col([0, 0, 6, 10]), col([0, 0.5, 3])
    p, _ = precision_recall(real, fake, 1)
    d, c = density_coverage(real, fake, 1)
    assert (p, d, c) == pytest.approx((2 / 3, 3 / 3, 3 / 4), abs=1e-12)
    # own neighbour counted: radii 0, only 0 is inside (1/3); strict <: B(0, 0) is empty (1/3)
    assert by_loops(real, fake, 1, "own")[0] == by_loops(real, fake, 1, "strict")[0] == 1 / 3


@pytest.mark.parametrize("k", [1, 3, 6])
def test_random_clouds_match_the_loops(k):
    g = np.random.default_rng(k)
    real, fake = g.standard_normal((40, 3)), 0.5 + 1.3 * g.standard_normal((31, 3))
    got = tuple(precision_recall(real, fake, k)) + tuple(density_coverage(real, fake, k))
    assert got == pytest.approx(by_loops(real, fake, k), abs=1e-12)
    assert tuple(precision_recall(fake, real, k)) == pytest.approx(got[1::-1], abs=1e-12)


def test_blocks_of_rows_give_the_same_numbers(monkeypatch):
    # MAX_PAIRS = 7: distance matrices computed one or two rows at a time
    g = np.random.default_rng(9)
    real, fake = g.standard_normal((25, 2)), g.standard_normal((20, 2))
    whole = precision_recall(real, fake, 4) + density_coverage(real, fake, 4)
    monkeypatch.setattr(fidelity, "MAX_PAIRS", 7)
    assert precision_recall(real, fake, 4) + density_coverage(real, fake, 4) == whole


def coverage_formula(N, M, k):
    return 1.0 - math.prod((N - 1 - i) / (N + M - 1 - i) for i in range(k))


@pytest.mark.parametrize("N, M", [(5, 5), (4, 6)])
def test_coverage_and_density_of_one_law_exactly_by_all_splits(N, M):
    # for i.i.d. real and fake points, given the pooled set every split into N real and M fake is
    # equally likely: the mean over all C(N + M, N) splits of one pooled set (no ties) is the
    # exact expectation. A point counted as its own neighbour gives the formula at k - 1, the
    # (k+1)-th neighbour the formula at k + 1: both rejected by the distinct values below.
    z = np.random.default_rng(3).standard_normal((N + M, 2))
    for k in range(1, N):
        dens, cov = [], []
        for chosen in itertools.combinations(range(N + M), N):
            is_real = np.isin(np.arange(N + M), chosen)
            d, c = density_coverage(z[is_real], z[~is_real], k)
            dens.append(d)
            cov.append(c)
        assert np.mean(cov) == pytest.approx(coverage_formula(N, M, k), rel=1e-12)
        assert np.mean(dens) == pytest.approx(1.0, rel=1e-12)
        assert coverage_formula(N, M, k) not in (coverage_formula(N, M, k - 1),
                                                 coverage_formula(N, M, k + 1))


def test_coverage_and_density_of_one_law_by_monte_carlo():
    # N = M = 20, k = 3, 1000 repetitions: E[coverage] = 0.894, E[density] = 1; SE from the
    # sample std over repetitions (coverage ~0.07 / sqrt(1000) = 0.002), tolerance 5 SE
    N, k, reps = 20, 3, 1000
    g = np.random.default_rng(4)
    out = np.array([density_coverage(g.standard_normal((N, 2)), g.standard_normal((N, 2)), k)
                    for _ in range(reps)])
    se = out.std(axis=0, ddof=1) / math.sqrt(reps)
    assert abs(out[:, 1].mean() - coverage_formula(N, N, k)) < 5 * se[1]
    assert abs(out[:, 0].mean() - 1.0) < 5 * se[0]
    # the own-neighbour and (k+1)-th variants sit >= 10 SE away
    assert abs(coverage_formula(N, N, k - 1) - coverage_formula(N, N, k)) > 10 * se[1]
    assert abs(coverage_formula(N, N, k + 1) - coverage_formula(N, N, k)) > 10 * se[1]


BLOBS = distributions.polygon_blobs(8, 2.0, 0.2)
N_BLOBS = 2000


def test_precision_and_recall_of_one_law_are_close_to_1():
    # N = M = 2000 on the 8 blobs, k = 5: 0.991 and 0.9965 here (binomial SE of a fraction near
    # 0.99: 0.0022; the bound 0.97 sits > 9 SE below). Not exactly 1: a point that is among the
    # k nearest neighbours of no point of the other set is missed (~0.1% for k = 5 on a uniform
    # 2-D law, more in the tails).
    p, r = precision_recall(BLOBS.sample(N_BLOBS, backend.rng(0)),
                            BLOBS.sample(N_BLOBS, backend.rng(1)))
    assert p > 0.97 and r > 0.97


def test_a_generator_on_4_of_8_modes_has_recall_one_half():
    # fake points from the 4 even modes: every one lies in the real support (precision 0.9885
    # here, SE 0.0024: as for one law), half the real points have no fake point near them
    # (recall 0.481 here: binomial SE sqrt(1/4 / N) = 0.011 of the count in the covered modes,
    # tolerance 5 SE = 0.056). Swapped precision and recall would give (~1/2, ~1).
    half = distributions.GaussianMixture(BLOBS.means[::2], BLOBS.stds[::2])
    real = BLOBS.sample(N_BLOBS, backend.rng(2))
    p, r = precision_recall(real, half.sample(N_BLOBS, backend.rng(3)))
    assert p > 0.97
    assert abs(r - 0.5) < 5 * math.sqrt(0.25 / N_BLOBS)
    # coverage: the same count; (density stays ~1: every fake point lies where the data lie)
    assert abs(density_coverage(real, half.sample(N_BLOBS, backend.rng(3))).coverage - 0.5) \
        < 5 * math.sqrt(0.25 / N_BLOBS)


def sigma_points(mu, S):
    """2d points mu +- sqrt(d) L e_a (L L^T = S): mean mu and covariance S exactly (1/n)."""
    mu, S = np.asarray(mu, float), np.asarray(S, float)
    d = len(mu)
    L = np.linalg.cholesky(S) * math.sqrt(d)
    return np.concatenate([mu + L.T, mu - L.T])


MU1, S1 = np.array([1.0, -2.0]), np.array([[2.0, 0.6], [0.6, 0.5]])
MU2, S2 = np.array([0.5, 0.0]), np.array([[1.0, -0.3], [-0.3, 1.5]])


def gaussian_moments(mu, S):
    """E Phi for the monomials of degree <= 2: x1, x2, x1^2, x1 x2, x2^2 (not centred)."""
    second = S + np.outer(mu, mu)
    return np.array([mu[0], mu[1], second[0, 0], second[0, 1], second[1, 1]])


def test_moment_matching_on_sigma_points_is_the_gaussian_closed_form():
    # rejects centred second moments (S for S + mu mu^T: mu != 0 here), 1 / (n - 1), and a
    # missing cross term x1 x2 (4 features, not 5)
    mm = moment_matching(sigma_points(MU1, S1), sigma_points(MU2, S2))
    e1, e2 = gaussian_moments(MU1, S1), gaussian_moments(MU2, S2)
    np.testing.assert_allclose(host(mm.real_moments), e1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(mm.fake_moments), e2, rtol=1e-12, atol=1e-12)
    assert mm.distance == pytest.approx(math.sqrt(np.sum((e1 - e2) ** 2)), rel=1e-12)


def test_moment_matching_of_gaussian_samples():
    # 40 000 draws of N(MU1, S1): each moment within 5 SE (SE: the sample std of the feature over
    # sqrt(n)) of its closed form
    n = 40_000
    x = MU1 + np.random.default_rng(5).standard_normal((n, 2)) @ np.linalg.cholesky(S1).T
    mm = moment_matching(x, sigma_points(MU1, S1))
    x1, x2 = x.T
    se = np.std(np.stack([x1, x2, x1 * x1, x1 * x2, x2 * x2]), axis=1) / math.sqrt(n)
    assert np.all(np.abs(host(mm.real_moments) - gaussian_moments(MU1, S1)) < 5 * se)


def test_moment_matching_is_zero_for_identical_sets_and_takes_features():
    x = np.random.default_rng(6).standard_normal((50, 3))
    assert moment_matching(x, x).distance == 0.0
    assert moment_matching(x, x[::-1]).distance == pytest.approx(0.0, abs=1e-12)
    # Phi = identity: the distance between the means, the first term of Eq. (69)
    mm = moment_matching(col([0, 2]), col([4, 5, 6]), features=lambda v: v)
    assert (host(mm.real_moments), host(mm.fake_moments), mm.distance) == ([1.0], [5.0], 4.0)


def test_monomials_in_order():
    # x = (2, 3), degree 3: x1, x2, x1^2, x1 x2, x2^2, x1^3, x1^2 x2, x1 x2^2, x2^3
    np.testing.assert_array_equal(host(monomials(dev([[2.0, 3.0]]), degree=3)),
                                  [[2, 3, 4, 6, 9, 8, 12, 18, 27]])
    assert monomials(np.zeros((4, 5))).shape == (4, 5 + 15)          # C(5 + 2, 2) - 1


def test_on_every_backend(backend_name):
    pr = precision_recall(dev(REAL), dev(FAKE), 1)
    dc = density_coverage(dev(REAL), dev(FAKE), 2)
    assert tuple(pr) + tuple(dc) == pytest.approx(HAND[1][:2] + HAND[2][2:], abs=1e-6)
    assert all(type(v) is float for v in tuple(pr) + tuple(dc))
    mm = moment_matching(dev(sigma_points(MU1, S1)), dev(sigma_points(MU2, S2)))
    assert_on_backend(mm.real_moments, "real_moments")
    assert_on_backend(mm.fake_moments, "fake_moments")
    assert mm.distance == pytest.approx(
        math.sqrt(np.sum((gaussian_moments(MU1, S1) - gaussian_moments(MU2, S2)) ** 2)), rel=1e-5)
    assert metrics.precision_recall is precision_recall


X5 = np.arange(10.0).reshape(5, 2)
BAD = [
    (lambda: precision_recall(X5, X5, 0), ValueError, r"k must be an integer in \[1, 4\]; got k=0"),
    (lambda: precision_recall(X5, X5[:3], 3), ValueError, r"k must be .*\[1, 2\]; got k=3"),
    (lambda: precision_recall(X5, X5, 2.0), ValueError, "got k=2.0"),
    (lambda: precision_recall(X5, X5, True), ValueError, "got k=True"),
    (lambda: density_coverage(X5, X5[:1], 4), None, None),             # fine: fake needs no balls
    (lambda: density_coverage(X5, X5, 5), ValueError, r"k must be .*\[1, 4\]; got k=5"),
    (lambda: precision_recall(X5, X5[:1], 1), ValueError, "at least 2 points"),
    (lambda: density_coverage(X5[:1], X5, 1), ValueError, "at least 2 points"),
    (lambda: precision_recall(X5[:, 0], X5), ValueError, r"real must have shape \(n, d\)"),
    (lambda: precision_recall(X5, X5[:, :1]), ValueError, "fake must have 2 columns"),
    (lambda: density_coverage(X5, X5 * np.nan), ValueError, "fake contains NaN"),
    (lambda: precision_recall("x", X5), TypeError, "real: expected an array"),
    (lambda: moment_matching(X5, X5, features=3), TypeError, "features must be a function"),
    (lambda: moment_matching(X5, X5, features=lambda x: x[:, 0]), ValueError,
     r"features\(real\) must return an array of shape \(5, m\)"),
    (lambda: moment_matching(X5, X5, features=lambda x: x / 0.0), ValueError,
     r"features\(real\) contains NaN"),
    (lambda: moment_matching(X5, X5[:4], features=lambda x: x[:, :x.shape[0] - 3]), ValueError,
     "need the same m"),
    (lambda: monomials(X5, degree=0), ValueError, "degree must be an integer >= 1"),
]


@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_inputs_raise_errors_naming_the_parameter(call, error, message):
    if error is None:
        call()
        return
    with pytest.raises(error, match=message), np.errstate(all="ignore"):
        call()
