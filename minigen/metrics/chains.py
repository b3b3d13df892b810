"""Markov-chain diagnostics: acceptance, autocorrelation, integrated time, ESS, MCSE.

Chains x[t, j] (n steps, m chains), notes §3.2, Eq. (40)-(42): with c_j(t) the autocovariance of
chain j, W = mean_j var_j and var+ = (n-1)/n W + var_j(mean_j),
rho_t = 1 - (W - mean_j c_j(t)) / var+,
tau = -1 + 2 sum_k (rho_2k + rho_2k+1) over Geyer's initial positive and monotone sequence,
ESS = n m / tau, MCSE = sqrt(var+ / ESS).  Geyer 1992; Vehtari et al. 2021, arXiv:1903.08008.
"""
from minigen.backend import check_int, xp
from minigen.metrics._inputs import _array


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
