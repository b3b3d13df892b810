"""The curse of dimension: white noise lives on a thin shell, and density estimates starve.

    x_i ~ N(0, sigma^2 / d) iid,  p(x) ∝ exp(-d |x|^2 / (2 sigma^2))                   (Eq. 1)
    |x|^2 = (sigma^2 / d) chi^2_d:  E |x|^2 = sigma^2,  Var |x|^2 = 2 sigma^4 / d    (Eq. 2-3)
    a grid of cells of side eps on [0, 1]^d needs n >= eps^-d points                  (Eq. 5)
Eq. (2)-(3) hold exactly at every d: the mass sits on a shell of radius sigma and width ~ 1/sqrt(d).
A Gaussian kernel density estimate p_n(x) = 1/n sum_i N(x; x_i, h^2 Id) pays for it: its
cross-entropy E_p[-log p_n] exceeds the entropy H(p) by KL(p || p_n), which for fixed n tends
(slowly) to 1/2 nat per dimension as d grows. Notes §2.3, Eq. (1)-(5), footnote 17.
Bandwidths: Scott 1992 (Multivariate Density Estimation); Silverman 1986 (Density Estimation).
"""
import math
from typing import NamedTuple

from minigen import backend
from minigen.backend import xp

# largest (rows x columns) block held at once: 2^22 float64 = 32 MiB
CHUNK_ENTRIES = 2 ** 22
RULES = ("scott", "silverman")


def white_noise(n, d, rng, *, sigma=1.0):
    """n draws of the white noise of Eq. (1): x_i ~ N(0, sigma^2 / d) iid. Returns (n, d)."""
    n, d = backend.check_int(n, "n"), backend.check_int(d, "d")
    sigma = backend.check_positive(sigma, "sigma")
    rng = backend.check_rng(rng)
    return (sigma / math.sqrt(d)) * rng.standard_normal((n, d))                  # Eq. (1)


def squared_norms(n, d, rng, *, sigma=1.0, chunk=None):
    """|x|^2 for n white-noise vectors of Eq. (1) in dimension d: (n,), mean sigma^2 (Eq. 2).

    Drawn in blocks of ``chunk`` rows (default: CHUNK_ENTRIES // d), so d = 10^4, n = 10^6 fits in
    memory; the draws are the same as white_noise(n, d, rng, sigma=sigma) row by row."""
    n, d = backend.check_int(n, "n"), backend.check_int(d, "d")
    sigma = backend.check_positive(sigma, "sigma")
    rng = backend.check_rng(rng)
    rows = max(1, CHUNK_ENTRIES // d) if chunk is None else backend.check_int(chunk, "chunk")
    out = []
    for start in range(0, n, rows):
        x = (sigma / math.sqrt(d)) * rng.standard_normal((min(rows, n - start), d))  # Eq. (1)
        out.append(xp.sum(x * x, axis=1))                                       # z = |x|^2
    return xp.concatenate(out)


def shell_moments(d, *, sigma=1.0):
    """(E |x|^2, Var |x|^2) = (sigma^2, 2 sigma^4 / d) for x of Eq. (1): exact for every d."""
    d = backend.check_int(d, "d")
    sigma = backend.check_positive(sigma, "sigma")
    return sigma ** 2, 2.0 * sigma ** 4 / d                                     # Eq. (2), (3)


def shell_density(z, d, *, sigma=1.0):
    """Density of |x|^2 at z > 0, x of Eq. (1): z = (sigma^2 / d) u with u ~ chi^2_d, so
    p(z) = (d / sigma^2) chi2_d(d z / sigma^2), chi2_d(u) = u^{d/2-1} e^{-u/2} / (2^{d/2} Γ(d/2))
    (footnote 17). z: array of any shape, entries > 0. Returns the same shape."""
    d = backend.check_int(d, "d")
    sigma = backend.check_positive(sigma, "sigma")
    z = backend.check_finite(backend.asarray(z, "z"), "z")
    if not bool(xp.all(z > 0)):
        raise ValueError(f"z must be > 0 (|x|^2 has a density on (0, inf)); got min z = "
                         f"{float(xp.min(z))}")
    u = d * z / sigma ** 2
    log_chi2 = (0.5 * d - 1.0) * xp.log(u) - 0.5 * u - 0.5 * d * math.log(2.0) \
        - math.lgamma(0.5 * d)                                                  # footnote 17
    return (d / sigma ** 2) * xp.exp(log_chi2)


def log10_cells(eps, d):
    """log10 of the number eps^-d of cells of side eps in [0, 1]^d: the n of Eq. (5) (float)."""
    eps = backend.check_number(eps, "eps", 0.0, 1.0, low_open=True)
    d = backend.check_int(d, "d")
    return -d * math.log10(eps)                                                 # Eq. (5)


def kde_bandwidth(data, rule="scott"):
    """The bandwidth h (float) of a Gaussian KDE of data (n, d) by a normal-reference rule:
        scott:      h = s n^{-1/(d+4)}
        silverman:  h = s (4 / ((d + 2) n))^{1/(d+4)}   (the AMISE optimum for Gaussian data)
    s^2 = the mean over coordinates of the (1 / (n - 1)) sample variances; n >= 2."""
    data = backend.as_points(data, "data")
    rule = backend.check_choice(rule, "rule", RULES)
    n, d = data.shape
    if n < 2:
        raise ValueError(f"data needs n >= 2 points for a bandwidth; got shape {tuple(data.shape)}")
    s = math.sqrt(float(xp.sum((data - xp.mean(data, axis=0)) ** 2)) / ((n - 1) * d))
    factor = n ** (-1.0 / (d + 4)) if rule == "scott" else (4.0 / ((d + 2) * n)) ** (1 / (d + 4))
    return s * factor


def kde_log_prob(x, data, *, bandwidth="scott", chunk=None):
    """log p_n(x) of the Gaussian KDE p_n(x) = 1/n sum_i N(x; data_i, h^2 Id).

    x: (m, d), data: (n, d). bandwidth: h > 0, or a rule of kde_bandwidth ("scott",
    "silverman"). Rows of x go in blocks of ``chunk`` (default CHUNK_ENTRIES // n), so only a
    (chunk, n) distance matrix is held. Returns (m,)."""
    data = backend.as_points(data, "data")
    x = backend.as_points(x, "x", data.shape[1])
    n, d = data.shape
    h = (kde_bandwidth(data, bandwidth) if isinstance(bandwidth, str)
         else backend.check_positive(bandwidth, "bandwidth"))
    rows = max(1, CHUNK_ENTRIES // n) if chunk is None else backend.check_int(chunk, "chunk")
    norm = math.log(n) + 0.5 * d * math.log(2.0 * math.pi * h * h)
    sq_data = xp.sum(data * data, axis=1)[None, :]                              # (1, n)
    out = []
    for start in range(0, x.shape[0], rows):
        xb = x[start:start + rows]
        d2 = xp.sum(xb * xb, axis=1)[:, None] - 2.0 * (xb @ data.T) + sq_data  # (b, n)
        a = -xp.maximum(d2, 0.0) / (2.0 * h * h)
        top = xp.max(a, axis=1)                                                 # logsumexp
        out.append(top + xp.log(xp.sum(xp.exp(a - top[:, None]), axis=1)) - norm)
    return xp.concatenate(out)


class KDEGap(NamedTuple):
    """What kde_gap returns; all in nats per point (divide by d for nats per dimension)."""
    nll: float        # mean of -log p_n(x) over the fresh points: the cross-entropy estimate
    nll_se: float     # its standard error (std / sqrt(n_test))
    entropy: float    # H(N(0, Id)) = (d / 2) log(2 pi e), exact
    gap: float        # mean of log p(x) - log p_n(x): KL(p || p_n), the same gap, paired
    gap_se: float     # its standard error (much smaller than nll_se: log p is known)
    bandwidth: float  # the h used


def kde_gap(d, n, rng, *, n_test=2000, bandwidth="scott"):
    """The price of a KDE in dimension d: fit p_n to n points of N(0, Id), score n_test fresh ones.

    E_p[-log p_n(x)] = H(p) + KL(p || p_n). With a rule bandwidth, KL / d falls to 0 as n grows
    at fixed d (like n^{-4/(d+4)}) but tends to 1/2 as d grows at fixed n: every fresh point
    is at distance ~ sqrt(2 d) from every data point (Eq. 2-3), h -> 1 and
    -log p_n(x) / d -> 1/h^2 + log(2 pi h^2) / 2; slowly, since the nearest of the n kernels
    gains ~ sqrt(log n / d) per dimension. Data and fresh points are drawn in this order from
    rng. Returns a KDEGap (SEs given the data set)."""
    d, n = backend.check_int(d, "d"), backend.check_int(n, "n", low=2)
    n_test = backend.check_int(n_test, "n_test", low=2)
    rng = backend.check_rng(rng)
    if isinstance(bandwidth, str):
        backend.check_choice(bandwidth, "rule", RULES)
    else:
        bandwidth = backend.check_positive(bandwidth, "bandwidth")
    data = rng.standard_normal((n, d))
    x = rng.standard_normal((n_test, d))
    h = kde_bandwidth(data, bandwidth) if isinstance(bandwidth, str) else bandwidth
    nll = -kde_log_prob(x, data, bandwidth=h)                                   # (n_test,)
    log_p = -0.5 * xp.sum(x * x, axis=1) - 0.5 * d * math.log(2.0 * math.pi)    # N(0, Id)
    diff = log_p + nll                                                          # (n_test,)
    se = lambda a: float(xp.std(a)) / math.sqrt(n_test)                         # noqa: E731
    return KDEGap(float(xp.mean(nll)), se(nll), 0.5 * d * math.log(2.0 * math.pi * math.e),
                  float(xp.mean(diff)), se(diff), h)
