"""Distances between two sample sets, and the mode statistics of samples of a known mixture.

Notes §4.4: d^2 = ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^{1/2})  (Eq. 69);
SW_2^2 = E_theta W_2^2(<theta, x>, <theta, y>), W_2 of Eq. (60) with m = 2 (Bonneel et al. 2015);
MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y), k = exp(-|a - b|^2 / 2h^2) (Gretton et al. 2012);
mode counts on a mixture with known modes measure fidelity (65) and diversity (66); without known
modes, minigen.metrics.fidelity measures them from the samples alone.
"""
from typing import NamedTuple

from minigen.backend import check_int, check_positive, check_rng, xp
from minigen.metrics._inputs import _array, _pair, _sq_dist

# reverse_kl_modes: probabilities below this are raised to it, so log 0 never occurs
PROB_FLOOR = 1e-12


def _weights(weights, K):
    if weights is None:
        return xp.ones(K) / K
    w = _array(weights, "weights", (1,), f"({K},)")
    if w.shape[0] != K or bool(xp.any(w < 0)) or not float(xp.sum(w)) > 0:
        raise ValueError(f"weights: need {K} non-negative numbers with a positive sum, got {w}")
    return w / xp.sum(w)


def _modes(samples, means):
    """samples (n, d), means (K, d) -> x, squared distances (n, K), nearest-mode one-hot (n, K)."""
    x, mu = _pair(samples, means, ("samples", "means"), 1)
    d2 = _sq_dist(x, mu)
    return x, d2, xp.argmin(d2, axis=1)[:, None] == xp.arange(mu.shape[0])[None, :]


def _within(d2, std, n_std):
    """(n, K) mask: sample i lies within n_std * std_k of mean k (std: scalar or (K,))."""
    check_positive(n_std, "n_std")
    s = _array(std, "std", (0, 1), f"scalar or ({d2.shape[1]},)")
    if bool(xp.any(s <= 0)) or (s.ndim == 1 and s.shape[0] != d2.shape[1]):
        raise ValueError(f"std={s}: must be positive, a scalar or one per mode ({d2.shape[1]})")
    return d2 <= (n_std * s) ** 2


class ModeOccupancy(NamedTuple):
    """What mode_occupancy returns (a tuple: freq, tv = mode_occupancy(...) also works)."""
    freq: object             # (K,) backend array: fraction of samples whose nearest mode is k
    total_variation: float   # 1/2 sum_k |freq_k - w_k|


def mode_occupancy(samples, means, weights=None):
    """samples (n, d), means (K, d), weights (K,) or None (uniform) -> ModeOccupancy(freq, tv)."""
    x, d2, nearest = _modes(samples, means)
    w = _weights(weights, d2.shape[1])
    freq = xp.mean(nearest.astype(x.dtype), axis=0)
    return ModeOccupancy(freq, float(0.5 * xp.sum(xp.abs(freq - w))))


def mode_coverage(samples, means, std, n_std=3.0, min_count=1):
    """Diversity (66): number of modes (int) with >= min_count samples within n_std * std of it."""
    x, d2, _ = _modes(samples, means)
    check_int(min_count, "min_count")
    counts = xp.sum(_within(d2, std, n_std), axis=0)                 # (K,)
    return int(xp.sum(counts >= min_count))


def high_quality_fraction(samples, means, std, n_std=3.0):
    """Fraction (float) of samples within n_std * std of some mode: fidelity (65)."""
    x, d2, _ = _modes(samples, means)
    return float(xp.mean(xp.any(_within(d2, std, n_std), axis=1).astype(x.dtype)))


def reverse_kl_modes(samples, means, weights=None, n_std=3.0, std=None):
    """KL(q || w) = sum_k q_k log(q_k / w_k) (float), q the nearest-mode frequencies of the samples.

    With std given, only samples within n_std * std of their nearest mode count (inf if none does).
    Terms with q_k = 0 are 0; inside the log q_k and w_k are floored at PROB_FLOOR (a mode of
    weight 0 gives a large finite value). Collapse onto one of K equal modes gives log K."""
    x, d2, hits = _modes(samples, means)
    w = _weights(weights, d2.shape[1])
    if std is not None:
        hits = hits & _within(d2, std, n_std)
    counts = xp.sum(hits.astype(x.dtype), axis=0)
    if not float(xp.sum(counts)) > 0:
        return float("inf")
    q = counts / xp.sum(counts)
    return float(xp.sum(q * xp.log(xp.maximum(q, PROB_FLOOR) / xp.maximum(w, PROB_FLOOR))))


def sliced_wasserstein(x, y, rng, n_projections=128):
    """Sliced W_2 (float, not squared) between x (n, d) and y (n, d), equal n (else ValueError).

    SW_2^2 = mean over random unit theta of 1/n sum_i (sort<theta, x>_i - sort<theta, y>_i)^2:
    in 1D, W_2 of Eq. (60) matches the order statistics."""
    x, y = _pair(x, y, same_n=True)
    check_int(n_projections, "n_projections")
    check_rng(rng)
    theta = rng.standard_normal((x.shape[1], n_projections)).astype(x.dtype)
    theta = theta / xp.sqrt(xp.sum(theta ** 2, axis=0))              # uniform on the sphere
    px, py = xp.sort(x @ theta, axis=0), xp.sort(y @ theta, axis=0)  # (n, P)
    return float(xp.sqrt(xp.mean((px - py) ** 2)))


def mmd_rbf(x, y, bandwidth=None):
    """Unbiased MMD^2 (float, may be slightly negative) between x (m, d) and y (n, d), m, n >= 2.

    bandwidth=None: h^2 = median of the squared pairwise distances of the pooled sample (the
    median heuristic)."""
    x, y = _pair(x, y)
    m, n = x.shape[0], y.shape[0]
    z = xp.concatenate([x, y], axis=0)
    d2 = _sq_dist(z, z)                                              # (m + n, m + n)
    # the median heuristic, or h = 1 when all points are equal
    h2 = (check_positive(bandwidth, "bandwidth") ** 2 if bandwidth is not None
          else float(xp.median(d2[xp.triu_indices(m + n, k=1)])) or 1.0)
    k = xp.exp(-d2 / (2.0 * h2))
    kxx, kyy = k[:m, :m], k[m:, m:]
    # the unbiased U-statistic: diagonal terms i = j left out
    return float((xp.sum(kxx) - xp.trace(kxx)) / (m * (m - 1))
                 + (xp.sum(kyy) - xp.trace(kyy)) / (n * (n - 1)) - 2.0 * xp.mean(k[:m, m:]))


def frechet_distance(x, y):
    """Squared Fréchet distance d^2 of Eq. (69) (the FID formula): x (m, d), y (n, d) -> float.

    Tr (S_x S_y)^{1/2} = Tr (R S_y R)^{1/2} with R = S_x^{1/2}: both matrices have the same
    eigenvalues, and the second is symmetric, so eigh applies. Covariances use 1 / (n - 1)."""
    x, y = _pair(x, y)
    mu_x, mu_y = xp.mean(x, axis=0), xp.mean(y, axis=0)
    s_x = (x - mu_x).T @ (x - mu_x) / (x.shape[0] - 1)
    s_y = (y - mu_y).T @ (y - mu_y) / (y.shape[0] - 1)
    lam, v = xp.linalg.eigh(s_x)
    r = (v * xp.sqrt(xp.maximum(lam, 0.0))) @ v.T                    # R = S_x^{1/2}
    m = r @ s_y @ r
    tr_sqrt = xp.sum(xp.sqrt(xp.maximum(xp.linalg.eigh(0.5 * (m + m.T))[0], 0.0)))
    d2 = xp.sum((mu_x - mu_y) ** 2) + xp.trace(s_x) + xp.trace(s_y) - 2.0 * tr_sqrt   # Eq. (69)
    return max(float(d2), 0.0)
