"""HMC written from the leapfrog of Eq. (12) and Algorithm 1 in plain NumPy, with switchable
mistakes, and correct variants written otherwise."""
import functools

import numpy as np


def _leapfrog(q, p, score, eps, n):
    """n leapfrog steps of H = -log pi(q) + |p|^2 / 2, written out (no merged kicks)."""
    for _ in range(n):
        p = p + 0.5 * eps * score(q)
        q = q + eps * p
        p = p + 0.5 * eps * score(q)
    return q, p


def hmc(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng, mistake=None,
        order="momentum_first"):
    x = np.array(x0, dtype=float)
    n, d = x.shape
    lp = log_prob(x)
    p_once = rng.standard_normal((n, d))
    out = np.empty((n_steps, n, d))
    for k in range(n_steps):
        if order == "uniform_first":
            u = rng.random(n)
        if mistake == "no_refresh":
            p = p_once                                     # drawn once, before the loop
        elif mistake == "global_rng":
            p = np.random.standard_normal((n, d))
        else:
            p = p_once if k == 0 else rng.standard_normal((n, d))
        y, p_y = _leapfrog(x, p, score, step_size, n_leapfrog)
        lp_y = log_prob(y)
        kinetic = 0.5 * (np.sum(p * p, axis=1) - np.sum(p_y * p_y, axis=1))
        log_r = lp_y - lp
        if mistake == "kinetic_sign":
            log_r = log_r - kinetic
        elif mistake != "no_kinetic":
            log_r = log_r + kinetic                        # -H(y, p_y) + H(x, p)
        if order != "uniform_first":
            u = rng.random(n)
        accept = np.ones(n, bool) if mistake == "no_accept" else np.log(u) < log_r
        x = np.where(accept[:, None], y, x)
        if mistake != "stale_log_prob":
            lp = np.where(accept, lp_y, lp)
        out[k] = x
    return out


def hmc_hamiltonian(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng):
    """Correct, written otherwise: the Hamiltonian as a function, no cache, the momentum drawn
    coordinate-major, accept when an Exp(1) variable drawn first exceeds H(y) - H(x)."""
    x = np.array(x0, dtype=float)
    n, d = x.shape

    def H(q, p):
        return -log_prob(q) + 0.5 * np.einsum("ij,ij->i", p, p)
    out = []
    for _ in range(n_steps):
        e = rng.exponential(size=n)
        p = rng.standard_normal((d, n)).T
        q, m = x.copy(), p - 0.5 * step_size * (-score(x))
        for j in range(n_leapfrog):
            q = q + step_size * m
            m = m + (step_size if j < n_leapfrog - 1 else 0.5 * step_size) * score(q)
        x = np.where((H(q, m) - H(x, p) < e)[:, None], q, x)
        out.append(x)
    return np.stack(out)


def variant(fn, **flags):
    f = functools.partial(fn, **flags)
    return functools.update_wrapper(f, fn)


def hmc_chain_by_chain(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng):
    """Correct but unvectorized: a Python loop over chains."""
    out = [hmc(log_prob, score, x0[i:i + 1], n_steps, step_size, n_leapfrog, rng)
           for i in range(len(x0))]
    return np.concatenate(out, axis=1)


MUTANTS = {   # mistake -> (the properties that must fail, the named mistake)
    "no_accept": ({"acceptance", "one_step_moments"}, "no accept/reject"),
    "no_kinetic": ({"acceptance", "one_step_moments"}, "kinetic energy forgotten"),
    "kinetic_sign": ({"acceptance", "one_step_moments"}, "sign of the kinetic"),
    "no_refresh": ({"momentum_refresh"}, "momentum drawn once"),
    "stale_log_prob": ({"momentum_refresh"}, ""),
    "global_rng": ({"contract"}, ""),
}
