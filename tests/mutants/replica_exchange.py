"""The replica-exchange swap of Eq. (43) written in plain NumPy, with switchable mistakes, and
correct variants written otherwise."""
import functools

import numpy as np


def swap(log_prob, x, betas, rng, parity, mistake=None):
    x = np.array(x, dtype=float)
    R, n, d = x.shape
    b = np.asarray(betas, dtype=float)
    if mistake == "temperatures":
        b = 1.0 / b
    lp = log_prob(x.reshape(R * n, d)).reshape(R, n)
    first = 1 - parity if mistake == "wrong_parity" else parity
    u_shared = rng.random(n)
    new = x.copy()
    for i in range(first, R - 1, 2):
        j = i + 1
        log_rho = (b[i] - b[j]) * (lp[j] - lp[i])                        # Eq. (43)
        if mistake == "inverted":
            log_rho = -log_rho
        elif mistake == "no_betas":
            log_rho = lp[j] - lp[i]
        elif mistake == "one_factor":
            log_rho = b[i] * (lp[j] - lp[i])
        if mistake == "global_rng":
            u = np.random.random(n)
        else:
            u = u_shared if mistake == "shared_uniform" or i == first else rng.random(n)
        accept = np.log(u) < log_rho
        new[i, accept], new[j, accept] = x[j, accept], x[i, accept]
    return new


def swap_vectorized(log_prob, x, betas, rng, parity):
    """Correct, written otherwise: every pair at once by slicing, the uniforms drawn first and
    chain-major, the ratio as a product of tempered densities compared with u."""
    x = np.array(x, dtype=float)
    R, n, d = x.shape
    i, j = slice(parity, R - 1, 2), slice(parity + 1, R, 2)
    P = len(range(R)[i])
    u = rng.random((n, P)).T
    b = np.asarray(betas, dtype=float)[:, None]                          # (R, 1)
    lp = log_prob(x.reshape(R * n, d)).reshape(R, n)
    ratio = np.exp(b[i] * lp[j] + b[j] * lp[i] - b[i] * lp[i] - b[j] * lp[j])
    s = (u < ratio)[:, :, None]                                          # (P, n, 1)
    new = x.copy()
    new[i], new[j] = np.where(s, x[j], x[i]), np.where(s, x[i], x[j])
    return new


def variant(**flags):
    f = functools.partial(swap, **flags)
    return functools.update_wrapper(f, swap)


def chain_by_chain(log_prob, x, betas, rng, parity):
    """Correct but unvectorized: a Python loop over chains."""
    return np.concatenate([swap(log_prob, x[:, c:c + 1], betas, rng, parity)
                           for c in range(x.shape[1])], axis=1)


MUTANTS = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "inverted": ({"swap_probability"}, "ratio inverted"),
    "no_betas": ({"swap_probability"}, "betas not applied"),
    "one_factor": ({"swap_probability"}, "only replica i's factor"),
    "temperatures": ({"swap_probability"}, "temperatures"),
    "wrong_parity": ({"pairing"}, "other parity"),
    "shared_uniform": ({"swap_probability"}, "one uniform shared"),
    "global_rng": ({"contract"}, ""),
}
