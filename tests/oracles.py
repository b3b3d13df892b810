"""Oracles shared by several test files (independent of the code under test)."""
import numpy as np

from minigen import backend
from minigen.metrics import sliced_wasserstein


def sw_ratio(out, target, n_chunks=3, n_ref=10, seed=100):
    """Sliced W2 of generated points to the target over the two-sample floor, both averaged.

    The two-sample sliced W2 fluctuates by ~30% from draw to draw (mode counts are multinomial;
    measured on the 8 blobs, n = 5000), so `out` is split in n_chunks parts of n points, each
    compared with n_ref fresh true samples of n points, and the floor is the mean over n_ref pairs
    of true samples: SE of the floor ~10%, of the numerator ~15%, so a sampler of the exact law
    gives 1 +- 0.2.
    """
    n = out.shape[0] // n_chunks

    def sw(a, b):
        # the same projections everywhere
        return sliced_wasserstein(a, b, backend.rng(seed), n_projections=64)
    truth = [target.sample(n, backend.rng(seed + 1 + k)) for k in range(2 * n_ref)]
    floor = np.mean([sw(truth[2 * k], truth[2 * k + 1]) for k in range(n_ref)])
    chunks = [out[c * n:(c + 1) * n] for c in range(n_chunks)]
    return np.mean([sw(chunk, truth[k]) for chunk in chunks for k in range(n_ref)]) / floor


def _mixture_path_terms(means, stds, weights, x, t):
    """Per-component pieces of p_t for x_t = t x1 + (1 - t) x0, x0 ~ N(0, I), x1 ~ the mixture.

    Given the component k, x_t ~ N(t mu_k, sigma_k(t)^2 I) with sigma_k^2 = (1 - t)^2 + t^2 s_k^2.
    Returns (log of w_k N(x; t mu_k, sigma_k^2 I): (n, K), residual x - t mu_k: (n, K, d),
    sigma_k^2: (K,)).
    """
    xp = backend.xp
    mu = backend.asarray(means, "means")                             # (K, d)
    s = backend.asarray(stds, "stds").reshape(-1)                     # (K,)
    k, d = mu.shape
    w = xp.ones(k) / k if weights is None else backend.asarray(weights, "weights").reshape(-1)
    var = (1.0 - t) ** 2 + t ** 2 * s ** 2                            # (K,)
    r = x[:, None, :] - t * mu[None, :, :]                            # (n, K, d)
    log_wn = (xp.log(w / xp.sum(w)) - 0.5 * d * xp.log(2 * np.pi * var)
              - 0.5 * xp.sum(r ** 2, axis=2) / var)                   # (n, K)
    return log_wn, r, var, mu, s


def _logsumexp_rows(a):
    xp = backend.xp
    m = xp.max(a, axis=1, keepdims=True)
    return m[:, 0] + xp.log(xp.sum(xp.exp(a - m), axis=1))


def mixture_flow_velocity(means, stds, weights=None):
    """The exact marginal velocity of x_t = t x1 + (1 - t) x0, x0 ~ N(0, I), x1 ~ mixture.

    The mixture is sum_k w_k N(mu_k, s_k^2 I); means: (K, d), stds: (K,), weights: (K,) or None
    (uniform; normalized). Conditionally on the component k, (x1 - x0, x_t) is Gaussian, so
        E[x1 - x0 | x_t = x, k] = mu_k + (t s_k^2 - (1 - t)) / sigma_k(t)^2 (x - t mu_k)
    and V_t(x) = sum_k r_k(x, t) E[x1 - x0 | x, k], r_k the posterior weights of the components
    under p_t. Returns velocity(x: (n, d), t: float) -> (n, d), written in backend.xp (so autograd
    and both backends can run it); p_0 = N(0, I), p_1 = the mixture.
    """
    def velocity(x, t):
        xp = backend.xp
        log_wn, r, var, mu, s = _mixture_path_terms(means, stds, weights, x, t)
        resp = xp.exp(log_wn - _logsumexp_rows(log_wn)[:, None])      # (n, K)
        gain = (t * s ** 2 - (1.0 - t)) / var                         # (K,)
        cond = mu[None, :, :] + gain[None, :, None] * r               # (n, K, d)
        return xp.sum(resp[:, :, None] * cond, axis=1)
    return velocity


def mixture_flow_log_prob(means, stds, weights=None):
    """log p_t(x) of the same path: the mixture sum_k w_k N(t mu_k, ((1-t)^2 + t^2 s_k^2) I).

    Returns log_prob(x: (n, d), t: float) -> (n,); t = 0 gives N(0, I), t = 1 the mixture.
    """
    def log_prob(x, t):
        return _logsumexp_rows(_mixture_path_terms(means, stds, weights, x, t)[0])
    return log_prob
