"""Sample-quality and Markov-chain diagnostics.

Chains x[t, j] (n steps, m chains), notes §3.2, Eq. (40)-(42): with c_j(t) the autocovariance of
chain j, W = mean_j var_j and var+ = (n-1)/n W + var_j(mean_j),
rho_t = 1 - (W - mean_j c_j(t)) / var+,
tau = -1 + 2 sum_k (rho_2k + rho_2k+1) over Geyer's initial positive and monotone sequence,
ESS = n m / tau, MCSE = sqrt(var+ / ESS).  Geyer 1992; Vehtari et al. 2021, arXiv:1903.08008.
Samples, notes §4.4: d^2 = ||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^{1/2})  (Eq. 69);
SW_2^2 = E_theta W_2^2(<theta, x>, <theta, y>), W_2 of Eq. (60) with m = 2 (Bonneel et al. 2015);
MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y), k = exp(-|a - b|^2 / 2h^2) (Gretton et al. 2012);
mode counts on a mixture with known modes measure fidelity (65) and diversity (66).
"""
from typing import NamedTuple

from minigen.backend import asarray, check_finite, check_int, check_positive, check_rng, xp

# reverse_kl_modes: probabilities below this are raised to it, so log 0 never occurs
PROB_FLOOR = 1e-12


def _array(a, name, ndims, shape_doc, min_len=0):
    a = asarray(a, name)
    if a.ndim not in ndims or (a.ndim and a.shape[0] < min_len):
        raise ValueError(f"{name}: expected shape {shape_doc}, got shape {tuple(a.shape)}")
    return check_finite(a, name)


def _pair(x, y, names=("x", "y"), min_n=2, same_n=False):
    """Two point sets (m, d), (n, d) with m, n >= min_n, the same d (and m = n if same_n)."""
    x, y = (_array(a, s, (2,), f"(n >= {min_n}, d)", min_n) for a, s in zip((x, y), names))
    if x.shape[1] != y.shape[1] or (same_n and x.shape != y.shape):
        raise ValueError(f"{names[0]} {tuple(x.shape)} and {names[1]} {tuple(y.shape)}: "
                         f"need the same {'shape' if same_n else 'd'}")
    return x, y


def _chains(x, min_steps):
    """x: (n, m) or (n, m, d) -> (n, m, d) array and whether d was given."""
    x = _array(x, "x", (2, 3), f"(n_steps >= {min_steps}, n_chains[, d])", min_steps)
    return (x if x.ndim == 3 else x[:, :, None]), x.ndim == 3


def _out(a, has_d):
    return a if has_d else float(a[0])


def _centre(x):
    """Chain means (m, d) and centred draws; a constant chain is centred to exactly 0."""
    stuck = xp.all(x == x[:1], axis=0)                               # (m, d)
    mean = xp.where(stuck, x[0], xp.mean(x, axis=0))
    return mean, xp.where(stuck, 0.0, x - mean)


def _autocov(xc):
    """c_j(t) = 1/n sum_s xc_s xc_{s+t} for every chain, by FFT with zero padding: (n, m, d)."""
    # size >= 2n - 1: no wrap-around
    n, size = xc.shape[0], 1 << (2 * xc.shape[0] - 1).bit_length()
    f = xp.fft.rfft(xc, n=size, axis=0)
    return xp.real(xp.fft.irfft(f * xp.conj(f), n=size, axis=0))[:n] / n


def acceptance_rate(samples):
    """samples: (n_steps, n_chains, d) -> (n_chains,) fraction of the n_steps - 1 moves that
    changed the state (Algorithm 1, line 6: a rejected proposal leaves x_i = x_{i-1})."""
    s = _array(samples, "samples", (3,), "(n_steps >= 2, n_chains, d)", 2)
    return xp.mean(xp.any(s[1:] != s[:-1], axis=2).astype(s.dtype), axis=0)   # (n_chains,)


def autocorrelation(x, max_lag=None):
    """Normalized autocorrelation rho_k = c(k) / c(0), c the chain-averaged autocovariance.

    x: (n_steps, n_chains) -> (max_lag + 1,), or (n_steps, n_chains, d) -> (max_lag + 1, d).
    A coordinate whose chains are all constant has rho_k = 1 at every lag (never decorrelates)."""
    x3, has_d = _chains(x, 2)
    n = x3.shape[0]
    max_lag = n - 1 if max_lag is None else check_int(max_lag, "max_lag", 0, n - 1)
    c = xp.mean(_autocov(_centre(x3)[1]), axis=1)[: max_lag + 1]    # (L, d)
    ok = c[:1] > 0
    rho = xp.where(ok, c / xp.where(ok, c[:1], 1.0), 1.0)
    return rho if has_d else rho[:, 0]


def _tau(x3):
    """Integrated autocorrelation time (d,), in [1, n m], and the variance estimate var+ (d,)."""
    n, m, d = x3.shape
    mean, xc = _centre(x3)
    c = _autocov(xc)                                                 # (n, m, d)
    # W: the mean within-chain variance; B_n: the variance of the chain means, B / n
    W = xp.mean(c[0], axis=0) * n / (n - 1)
    B_n = xp.var(mean, axis=0, ddof=1) if m > 1 else 0.0 * W
    var_plus = (n - 1) / n * W + B_n
    ok = var_plus > 0
    rho = 1.0 - (W - xp.mean(c, axis=1)) / xp.where(ok, var_plus, 1.0)   # (n, d): rho_t
    rho = xp.concatenate([xp.ones((1, d), dtype=rho.dtype), rho[1:]], axis=0)
    K = n // 2
    # Geyer's pairs rho_2k + rho_2k+1
    P = rho[0:2 * K:2] + rho[1:2 * K:2]                              # (K, d)
    keep = xp.cumprod((P > 0).astype(P.dtype), axis=0)               # initial positive sequence
    # initial monotone sequence: the running minimum of P, in log2 K steps
    s = 1
    while s < K:
        P = xp.concatenate([P[:s], xp.minimum(P[s:], P[:-s])], axis=0)
        s *= 2
    tau = xp.clip(-1.0 + 2.0 * xp.sum(P * keep, axis=0), 1.0, n * m)  # 1 <= ESS <= n m
    # all chains equal and constant: ESS = 1
    return xp.where(ok, tau, float(n * m)), var_plus


def integrated_autocorr_time(x):
    """Integrated autocorrelation time tau = 1 + 2 sum_t rho_t, in [1, n_steps n_chains].

    x: (n_steps, n_chains[, d]) -> float or (d,). Chains constant at different values give
    tau ~ 2 n_steps (ESS ~ n_chains / 2); chains all constant at one value are defined to have
    tau = n_steps n_chains (ESS = 1)."""
    x3, has_d = _chains(x, 4)
    return _out(_tau(x3)[0], has_d)


def effective_sample_size(x):
    """ESS = n_steps n_chains / tau, in [1, n_steps n_chains].

    x: (n_steps, n_chains[, d]) -> float or (d,)."""
    x3, has_d = _chains(x, 4)
    return _out(x3.shape[0] * x3.shape[1] / _tau(x3)[0], has_d)


def mcse(x):
    """Monte-Carlo standard error of the mean, sqrt(var+ / ESS), var+ as in the module docstring.

    x: (n_steps, n_chains[, d]) -> float or (d,); exactly 0 when all chains stay at one value."""
    x3, has_d = _chains(x, 4)
    tau, var_plus = _tau(x3)
    return _out(xp.sqrt(var_plus * tau / (x3.shape[0] * x3.shape[1])), has_d)


def _sq_dist(a, b):
    """|a_i - b_k|^2 with one matmul, (n, K): no (n, K, d) temporary."""
    d2 = xp.sum(a * a, axis=1)[:, None] - 2.0 * (a @ b.T) + xp.sum(b * b, axis=1)[None, :]
    return xp.maximum(d2, 0.0)


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
    """Squared Fréchet distance d^2 of Eq. (69) (the FID formula), x (m, d), y (n, d) -> float >= 0.

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
