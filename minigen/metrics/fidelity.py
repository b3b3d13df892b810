"""Fidelity and diversity from samples alone: precision, recall, density, coverage, moments.

Notes §4.4: fidelity asks Support(p_G) ⊂ Support(p_data) (Eq. 65), diversity the converse
(Eq. 66). Real points x_i (N), fake points y_j (M); B(x_i, r_i) is the ball whose radius r_i is the
distance from x_i to its k-th nearest *other* real point, and |y - x_i| <= r_i counts as inside.
precision = 1/M sum_j 1[y_j in some B(x_i, r_i)], recall = 1/N sum_i 1[x_i in some B(y_j, s_j)]
(s_j from the fake set): Kynkäänniemi et al. 2019, arXiv:1904.06991.
density = 1/(k M) sum_j sum_i 1[y_j in B(x_i, r_i)], coverage = 1/N sum_i 1[some y_j in
B(x_i, r_i)]: Naeem et al. 2020, arXiv:2002.09797. Moments (Eq. 67-68): 1/N sum_i Phi(x_i) against
1/M sum_j Phi(y_j), for features Phi; the Fréchet distance (Eq. 69) is in metrics.samples.
"""
import itertools
from typing import NamedTuple

from minigen.backend import as_points, check_callable, check_finite, check_int, xp
from minigen.metrics._inputs import _sq_dist

# distance-matrix entries held at once: larger sets are compared in blocks of rows
MAX_PAIRS = 10_000_000
# Squared distances come from |a|^2 - 2 a.b + |b|^2 (one matmul): a point exactly on a sphere is
# found so for small-integer coordinates; otherwise a tie is decided up to rounding.


class PrecisionRecall(NamedTuple):
    """What precision_recall returns (a tuple: p, r = precision_recall(...) also works)."""
    precision: float         # fidelity (65): fraction of fake points in the real manifold
    recall: float            # diversity (66): fraction of real points in the fake manifold


class DensityCoverage(NamedTuple):
    """What density_coverage returns (a tuple)."""
    density: float           # 1 on average when p_G = p_data; > 1 where fakes crowd the data
    coverage: float          # fraction of real balls that hold at least one fake point


class MomentMatching(NamedTuple):
    """What moment_matching returns (a tuple)."""
    real_moments: object     # (m,) backend array: 1/N sum_i Phi(x_i), Eq. (67)
    fake_moments: object     # (m,) backend array: 1/M sum_j Phi(y_j)
    distance: float          # |real_moments - fake_moments|, 0 iff Eq. (68) holds


def _blocks(n, m):
    """Row ranges [i0, i1) of an (n, m) distance matrix, about MAX_PAIRS entries each."""
    step = max(1, MAX_PAIRS // m)
    return [(i0, min(i0 + step, n)) for i0 in range(0, n, step)]


def _sets(real, fake, fake_balls):
    """real (N, d), fake (M, d), checked: k-NN balls of a set need >= 2 points (1 <= k < n)."""
    real = as_points(real, "real")
    fake = as_points(fake, "fake", d=real.shape[1])
    if min(real.shape[0], fake.shape[0] if fake_balls else 2) < 2:
        raise ValueError(f"real {tuple(real.shape)}, fake {tuple(fake.shape)}: k-nearest-"
                         "neighbour balls need at least 2 points in each set")
    return real, fake


def _knn_radius2(x, k):
    """r_i^2 (n,): the squared distance from x_i to its k-th nearest other point of x (n, d).

    x_i is not its own neighbour; a duplicate of x_i is (at distance 0)."""
    n = x.shape[0]
    r2 = []
    for i0, i1 in _blocks(n, n):
        d2 = _sq_dist(x[i0:i1], x)                                   # (b, n)
        own = xp.arange(i0, i1)[:, None] == xp.arange(n)[None, :]
        d2 = xp.where(own, xp.inf, d2)                               # not its own neighbour
        r2.append(xp.partition(d2, k - 1, axis=1)[:, k - 1])         # the k-th smallest
    return xp.concatenate(r2)


def _balls(real, fake, r2, s2=None):
    """One pass over blocks of real points against every fake point, <= on the radius.

    Returns n_in (M,): the number of real balls B(x_i, r_i) holding y_j; covered (N,): whether
    B(x_i, r_i) holds some y_j; with s2 (M,), in_fake (N,): whether x_i is in some B(y_j, s_j)."""
    n_in, covered, in_fake = 0, [], []
    for i0, i1 in _blocks(real.shape[0], fake.shape[0]):
        d2 = _sq_dist(real[i0:i1], fake)                             # (b, M)
        inside = d2 <= r2[i0:i1, None]                               # y_j in B(x_i, r_i)
        n_in = n_in + xp.sum(inside, axis=0)
        covered.append(xp.any(inside, axis=1))
        if s2 is not None:
            in_fake.append(xp.any(d2 <= s2[None, :], axis=1))        # x_i in B(y_j, s_j)
    return n_in, xp.concatenate(covered), (xp.concatenate(in_fake) if s2 is not None else None)


def precision_recall(real, fake, k=5):
    """Improved precision and recall (Kynkäänniemi et al. 2019), module docstring.

    real: (N, d), fake: (M, d); k: int in [1, min(N, M) - 1], the neighbour that sets each
    radius (x_i itself excluded; a point at distance exactly r is inside). Returns
    PrecisionRecall(precision, recall), floats in [0, 1]. When the laws agree both are close to
    1, not equal: a point among the k nearest neighbours of no point of the other set is missed
    (about 0.1% of a uniform 2-D law for k = 5, more in its tails)."""
    real, fake = _sets(real, fake, True)
    k = check_int(k, "k", 1, min(real.shape[0], fake.shape[0]) - 1)
    n_in, _, in_fake = _balls(real, fake, _knn_radius2(real, k), _knn_radius2(fake, k))
    precision = xp.mean((n_in > 0).astype(real.dtype))              # fidelity, Eq. (65)
    recall = xp.mean(in_fake.astype(real.dtype))                     # diversity, Eq. (66)
    return PrecisionRecall(float(precision), float(recall))


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al. 2020), module docstring: real balls only.

    real: (N, d) with N >= 2, fake: (M, d); k: int in [1, N - 1]. Returns
    DensityCoverage(density, coverage): density >= 0 (expectation 1 when p_G = p_data),
    coverage in [0, 1] (expectation 1 - prod_{i<k} (N - 1 - i) / (N + M - 1 - i) then)."""
    real, fake = _sets(real, fake, False)
    k = check_int(k, "k", 1, real.shape[0] - 1)
    n_in, covered, _ = _balls(real, fake, _knn_radius2(real, k))
    density = xp.sum(n_in) / (k * fake.shape[0])
    coverage = xp.mean(covered.astype(real.dtype))
    return DensityCoverage(float(density), float(coverage))


def monomials(x, degree=2):
    """Phi(x): every monomial x_a1 ... x_ap of degree 1 <= p <= degree, a1 <= ... <= ap.

    x: (n, d) -> (n, m), m = C(d + degree, degree) - 1; degree 2 gives the d coordinates, then
    x_a x_b for a <= b (the means and second moments: the Gaussian part of Eq. (69))."""
    x = as_points(x, "x")
    degree = check_int(degree, "degree")
    cols = []
    for p in range(1, degree + 1):
        for idx in itertools.combinations_with_replacement(range(x.shape[1]), p):
            cols.append(xp.prod(x[:, list(idx)], axis=1))            # x_a1 ... x_ap, (n,)
    return xp.stack(cols, axis=1)


def _moments(features, x, name):
    """1/n sum_i Phi(x_i) (m,), Eq. (67), after checking that Phi(x) is (n, m) and finite."""
    phi = features(x)
    if getattr(phi, "ndim", None) != 2 or phi.shape[0] != x.shape[0]:
        raise ValueError(f"features({name}) must return an array of shape ({x.shape[0]}, m); "
                         f"got {type(phi).__name__} of shape {getattr(phi, 'shape', None)}")
    return xp.mean(check_finite(phi, f"features({name})"), axis=0)   # Eq. (67)


def moment_matching(real, fake, features=None):
    """Compare E_data Phi and E_G Phi (Eq. 67-68) by their empirical means.

    real: (N, d), fake: (M, d); features: a function (n, d) -> (n, m), default monomials of
    degree <= 2 (means and second moments, not centred). Returns MomentMatching(real_moments,
    fake_moments, distance): the two (m,) means and their Euclidean distance, 0 when Eq. (68)
    holds exactly (for the default, iff the two sets share their means and covariances)."""
    real = as_points(real, "real")
    fake = as_points(fake, "fake", d=real.shape[1])
    features = monomials if features is None else check_callable(features, "features",
                                                                  "(n, d) -> (n, m)")
    mu_real, mu_fake = _moments(features, real, "real"), _moments(features, fake, "fake")
    if mu_real.shape != mu_fake.shape:
        raise ValueError(f"features gave {mu_real.shape[0]} features of real and "
                         f"{mu_fake.shape[0]} of fake: need the same m")
    distance = xp.sqrt(xp.sum((mu_real - mu_fake) ** 2))             # Eq. (68) as a distance
    return MomentMatching(mu_real, mu_fake, float(distance))
