"""Metropolis-Hastings written from Algorithm 1 in plain NumPy, with switchable mistakes."""
import functools

import numpy as np


def mh(log_prob, x0, n_steps, step_size, rng, proposal=None, mistake=None, order="proposal"):
    x = np.array(x0, dtype=float)
    n, d = x.shape
    lp = log_prob(x)
    out = np.empty((n_steps, n, d))
    for k in range(n_steps):
        if order == "uniform_first":
            log_u = np.log(rng.random(n))
        if proposal is None:
            scale = step_size ** 2 if mistake == "variance" else step_size
            noise = np.random.standard_normal((n, d)) if mistake == "global_rng" else \
                rng.standard_normal((n, d))
            y = x + scale * noise
            log_q_ratio = 0.0
        else:
            y = proposal.sample(x, rng)
            log_q_ratio = proposal.log_density(x, y) - proposal.log_density(y, x)
            if mistake == "no_hastings":
                log_q_ratio = 0.0
            elif mistake == "swapped_density":
                log_q_ratio = -log_q_ratio
        lp_y = log_prob(y)
        log_r = (lp_x_minus_y(lp, lp_y) if mistake == "inverted" else lp_y - lp) + log_q_ratio
        if mistake == "always_accept":
            log_r = np.zeros(n)
        if order != "uniform_first":
            log_u = np.log(rng.random(n))
        accept = log_u < log_r
        if mistake == "per_coordinate":                 # one uniform per coordinate
            x = np.where(np.log(rng.random((n, d))) < log_r[:, None], y, x)
        x = np.where(accept[:, None], y, x) if mistake != "per_coordinate" else x
        if mistake != "stale_cache":
            lp = np.where(accept, lp_y, lp)
        out[k] = x
    return out


def lp_x_minus_y(lp_x, lp_y):
    return lp_x - lp_y


def variant(**flags):
    f = functools.partial(mh, **flags)
    return functools.update_wrapper(f, mh)


def presampled(log_prob, x0, n_steps, step_size, rng, proposal=None):
    """Correct, written otherwise: every noise draw of the run taken in one call up front."""
    if proposal is not None:
        return mh(log_prob, x0, n_steps, step_size, rng, proposal)
    x = np.array(x0, dtype=float)
    n, d = x.shape
    z = rng.standard_normal((n_steps, n, d))
    u = rng.random((n_steps, n))
    lp, out = log_prob(x), []
    for k in range(n_steps):
        y = x + step_size * z[k]
        lp_y = log_prob(y)
        accept = u[k] < np.exp(np.minimum(0.0, lp_y - lp))
        x, lp = np.where(accept[:, None], y, x), np.where(accept, lp_y, lp)
        out.append(x)
    return np.stack(out)


def chain_by_chain(log_prob, x0, n_steps, step_size, rng, proposal=None):
    """Correct but unvectorized: a Python loop over chains."""
    out = [mh(log_prob, x0[i:i + 1], n_steps, step_size, rng, proposal) for i in range(len(x0))]
    return np.concatenate(out, axis=1)


MUTANTS = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "no_hastings": ({"hastings_correction"}, "Hastings factor"),
    "swapped_density": ({"hastings_correction"}, "log_density arguments swapped"),
    "inverted": ({"symmetric_kernel", "hastings_correction", "random_walk_acceptance"},
                 "acceptance ratio inverted"),
    "always_accept": ({"symmetric_kernel", "hastings_correction", "random_walk_acceptance"},
                      "every proposal accepted"),
    "variance": ({"random_walk_acceptance"}, "step_size used as a variance"),
    "stale_cache": ({"invariance"}, ""),
    "global_rng": ({"contract"}, ""),
    "per_coordinate": ({"whole_moves"}, "each coordinate accepted separately"),
}
