"""The optimal-transport exercises written as a student would, in plain NumPy, with switchable
mistakes: sinkhorn (entropic plan, notes §4.2) and wasserstein_1d (Eq. 59 on the line); plus
correct variants written otherwise."""
import functools
import math

import numpy as np


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


def _lse(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


# ---- sinkhorn ------------------------------------------------------------------------------
def sinkhorn(a, b, cost, eps, mistake=None):
    a, b, C = (np.asarray(v, dtype=float) for v in (a, b, cost))
    if mistake == "no_log":                     # the textbook kernel iteration
        K = np.exp(-C / eps)
        v = np.ones(len(b))
        for _ in range(20_000):
            u = a / (K @ v)
            v = b / (K.T @ u)
            P = u[:, None] * K * v[None]
            if np.abs(P.sum(axis=1) - a).sum() < 1e-10:
                break
        return P
    # potentials F, G in cost units, P = exp(s (F + G - C)), s = 1 / eps; eps halved from max C
    F, G = np.zeros(len(a)), np.zeros(len(b))
    schedule = [C.max() / 2 ** k for k in range(60) if C.max() / 2 ** k > eps] + [eps]
    for e in schedule:
        s = {"sign": -1.0 / e, "eps_times": e, "eps_ignored": 1.0}.get(mistake, 1.0 / e)
        # rows_only: after one sweep F is fixed (G never moves), so 500 sweeps suffice
        for _ in range(20_000 if e == eps and mistake != "rows_only" else 500):
            F = (np.log(a) - _lse(s * (G[None] - C), axis=1)) / s
            if mistake != "rows_only":
                G = (np.log(b) - _lse(s * (F[:, None] - C), axis=0)) / s
            P = np.exp(s * (F[:, None] + G[None] - C))
            if np.abs(P.sum(axis=0) - b).sum() + np.abs(P.sum(axis=1) - a).sum() < 1e-11:
                break
    return P


def sinkhorn_columns_first(a, b, cost, eps):
    """Correct, written otherwise: the column update first, potentials in cost units, a fixed
    eps-halving schedule and a fixed number of sweeps at the end."""
    a, b, C = (np.asarray(v, dtype=float) for v in (a, b, cost))
    f, g = np.zeros(len(a)), np.zeros(len(b))
    e = max(C.max(), eps)
    while True:
        for _ in range(3000 if e == eps else 200):
            g = eps_lse_update(b, f[:, None] - C, e, 0)
            f = eps_lse_update(a, g[None] - C, e, 1)
        if e == eps:
            break
        e = max(e / 2, eps)
    return np.exp((f[:, None] + g[None] - C) / eps)


def eps_lse_update(w, z, e, axis):
    return e * (np.log(w) - _lse(z / e, axis=axis))


SINKHORN = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "sign": ({"gibbs_form"}, "kernel's sign"),
    "eps_times": ({"gibbs_form"}, "exp(-C eps)"),
    "eps_ignored": ({"gibbs_form"}, "eps ignored"),
    "rows_only": ({"marginals"}, ""),
    "no_log": ({"no_overflow"}, "not in the log domain"),
}


# ---- wasserstein_1d ------------------------------------------------------------------------
def wasserstein_1d(x, y, p, mistake=None):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if mistake == "unsorted":
        return float(np.mean(np.abs(x - y) ** p) ** (1 / p))
    x, y = np.sort(x), np.sort(y)
    if mistake == "truncate":
        k = min(len(x), len(y))
        return float(np.mean(np.abs(x[:k] - y[:k]) ** p) ** (1 / p))
    # the quantile functions on the merged grid of jumps i/n, j/m
    u = np.unique(np.concatenate([np.arange(1, len(x) + 1) / len(x),
                                  np.arange(1, len(y) + 1) / len(y), [0.0]]))
    mid = 0.5 * (u[1:] + u[:-1])
    qx = x[np.minimum((mid * len(x)).astype(int), len(x) - 1)]
    qy = y[np.minimum((mid * len(y)).astype(int), len(y) - 1)]
    wp = np.sum(np.diff(u) * np.abs(qx - qy) ** p)
    if mistake == "sum":
        wp = wp * len(x)
    return float(wp if mistake == "no_root" else wp ** (1 / p))


def wasserstein_1d_by_cdf(x, y, p):
    """Correct, written otherwise: for p = 1 the integral of |F - G| over x; else repeat both
    samples to a common size lcm(n, m) and match the order statistics."""
    x, y = np.sort(np.asarray(x, float)), np.sort(np.asarray(y, float))
    if p == 1:
        z = np.sort(np.concatenate([x, y]))
        F = np.searchsorted(x, z[:-1], side="right") / len(x)
        G = np.searchsorted(y, z[:-1], side="right") / len(y)
        return float(np.sum(np.abs(F - G) * np.diff(z)))
    L = math.lcm(len(x), len(y))
    return float(np.mean(np.abs(np.repeat(x, L // len(x)) - np.repeat(y, L // len(y))) ** p)
                 ** (1 / p))


WASSERSTEIN = {
    "unsorted": ({"contract"}, "no sorting"),
    "no_root": ({"equal_sizes"}, "p-th root missing"),
    "sum": ({"equal_sizes"}, "a sum"),
    "truncate": ({"unequal_sizes"}, "truncated"),
}

MUTANTS = {"sinkhorn": (sinkhorn, SINKHORN), "wasserstein_1d": (wasserstein_1d, WASSERSTEIN)}
CORRECT = {"sinkhorn": [sinkhorn, sinkhorn_columns_first],
           "wasserstein_1d": [wasserstein_1d, wasserstein_1d_by_cdf]}
