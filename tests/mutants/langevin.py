"""ULA, MALA and annealed Langevin written from Eq. (118)-(122) in plain NumPy, with switchable
mistakes, and correct variants written otherwise."""
import functools

import numpy as np


def ula(score, x0, n_steps, step_size, rng, beta=1.0, mistake=None):
    x = np.array(x0, dtype=float)
    n, d = x.shape
    h = step_size
    noise_std = {"dt_for_sqrt_dt": h * np.sqrt(2 / beta), "no_factor_2": np.sqrt(h / beta),
                 "sqrt_2beta": np.sqrt(2 * h * beta)}.get(mistake, np.sqrt(2 * h / beta))
    drift_sign = -1.0 if mistake == "drift_sign" else 1.0
    drift_scale = beta if mistake == "drift_beta" else 1.0
    s0 = score(x)
    xi0 = rng.standard_normal((n, d))
    out = np.empty((n_steps, n, d))
    for k in range(n_steps):
        s = s0 if mistake == "stale_score" else score(x)
        if mistake == "reused_noise":
            xi = xi0
        elif mistake == "global_rng":
            xi = np.random.standard_normal((n, d))
        else:
            xi = xi0 if k == 0 else rng.standard_normal((n, d))
        x = x + drift_sign * drift_scale * h * s + noise_std * xi          # Eq. (122)
        out[k] = x
    return out


def ula_presampled(score, x0, n_steps, step_size, rng, beta=1.0):
    """Correct, written otherwise: all the noise of the run drawn in one call, coordinate-major
    (another assignment of the draws to the chains), added first."""
    x = np.array(x0, dtype=float)
    n, d = x.shape
    xi = rng.standard_normal((n_steps, d, n)).transpose(0, 2, 1) * np.sqrt(2.0 * step_size / beta)
    out = []
    for k in range(n_steps):
        x = xi[k] + x + step_size * score(x)
        out.append(x)
    return np.stack(out)


def _sq(a):
    return np.sum(a * a, axis=1)


def mala(log_prob, score, x0, n_steps, step_size, rng, mistake=None, order="noise_first"):
    x = np.array(x0, dtype=float)
    n, d = x.shape
    h = step_size
    lp, s = log_prob(x), score(x)
    c = np.sqrt(h) if mistake == "proposal_variance" else np.sqrt(2 * h)
    out = np.empty((n_steps, n, d))
    for k in range(n_steps):
        if order == "uniform_first":
            u = rng.random(n)
        noise = np.random.standard_normal((n, d)) if mistake == "global_rng" else \
            rng.standard_normal((n, d))
        y = x + h * s + c * noise                                          # Eq. (122) proposal
        lp_y, s_y = log_prob(y), score(y)
        log_q_xy = -_sq(y - x - h * s) / (4 * h)
        s_back = s if mistake == "reverse_mean_sx" else s_y
        log_q_yx = -_sq(x - y - h * s_back) / (4 * h)
        log_r = lp_y - lp
        if mistake != "no_hastings":
            log_r = log_r + log_q_yx - log_q_xy                            # Algorithm 1, l. 4
        if order != "uniform_first":
            u = rng.random(n)
        accept = np.ones(n, bool) if mistake == "ula" else np.log(u) < log_r
        x = np.where(accept[:, None], y, x)
        lp = np.where(accept, lp_y, lp)
        if mistake != "stale_score":
            s = np.where(accept[:, None], s_y, s)
        out[k] = x
    return out


def mala_densities(log_prob, score, x0, n_steps, step_size, rng):
    """Correct, written otherwise: Gaussian densities with their constants, no cache (log pi and
    the score recomputed at every step), accept when E > -log r with E ~ Exp(1) drawn first
    (-log u is Exp(1))."""
    x = np.array(x0, dtype=float)
    n, d = x.shape
    var = 2.0 * step_size

    def q(b, a):                    # density of proposing b from a
        m = a + step_size * score(a)
        return np.exp(-np.sum((b - m) ** 2, axis=1) / (2 * var)) / (2 * np.pi * var) ** (d / 2)
    out = []
    for _ in range(n_steps):
        e = rng.exponential(size=n)
        y = x + step_size * score(x) + np.sqrt(var) * rng.standard_normal((n, d))
        ratio = np.exp(log_prob(y) - log_prob(x)) * q(x, y) / q(y, x)
        x = np.where((np.exp(-e) <= ratio)[:, None], y, x)
        out.append(x)
    return np.stack(out)


def annealed(score, x0, betas, step_size, rng, mistake=None):
    x = np.array(x0, dtype=float)
    n, d = x.shape
    b = np.asarray(betas, dtype=float)
    if mistake == "reversed":
        b = b[::-1]
    xi0 = rng.standard_normal((n, d))
    out = np.empty((len(b), n, d))
    for t in range(len(b)):
        beta_t = b[t - 1] if mistake == "off_by_one" else b[t]
        var = 2 * step_size * beta_t if mistake == "temperature" else 2 * step_size / beta_t
        if mistake == "global_rng":
            xi = np.random.standard_normal((n, d))
        else:
            xi = xi0 if t == 0 or mistake == "reused_noise" else rng.standard_normal((n, d))
        x = x + step_size * score(x) + np.sqrt(var) * xi                   # Eq. (121)-(122)
        out[t] = x
    return out


def annealed_as_ula_steps(score, x0, betas, step_size, rng):
    """Correct, written otherwise: one ULA step per temperature (ula_presampled, beta = beta_t)."""
    x, out = np.array(x0, dtype=float), []
    for beta_t in np.asarray(betas, dtype=float):
        x = ula_presampled(score, x, 1, step_size, rng, beta=float(beta_t))[0]
        out.append(x)
    return np.stack(out)


def variant(fn, **flags):
    f = functools.partial(fn, **flags)
    return functools.update_wrapper(f, fn)


def ula_chain_by_chain(score, x0, n_steps, step_size, rng, beta=1.0):
    """Correct but unvectorized: a Python loop over chains."""
    out = [ula(score, x0[i:i + 1], n_steps, step_size, rng, beta) for i in range(len(x0))]
    return np.concatenate(out, axis=1)


def mala_chain_by_chain(log_prob, score, x0, n_steps, step_size, rng):
    out = [mala(log_prob, score, x0[i:i + 1], n_steps, step_size, rng) for i in range(len(x0))]
    return np.concatenate(out, axis=1)


def annealed_chain_by_chain(score, x0, betas, step_size, rng):
    out = [annealed(score, x0[i:i + 1], betas, step_size, rng) for i in range(len(x0))]
    return np.concatenate(out, axis=1)


MUTANTS = {   # exercise -> mistake -> (the properties that must fail, the named mistake)
    "langevin": {
        "dt_for_sqrt_dt": ({"one_step_covariance"}, "dt for sqrt(dt)"),
        "no_factor_2": ({"one_step_covariance"}, "factor 2"),
        "sqrt_2beta": ({"one_step_covariance"}, "sqrt(2 beta)"),
        "drift_sign": ({"one_step_mean"}, "sign of the drift"),
        "drift_beta": ({"one_step_mean"}, "multiplied by beta"),
        "stale_score": ({"stationary_variance"}, ""),
        "reused_noise": ({"stationary_variance"}, ""),
        "global_rng": ({"contract"}, ""),
    },
    "mala": {
        "no_hastings": ({"acceptance", "one_step_moments"}, "no Hastings term"),
        "proposal_variance": ({"acceptance", "one_step_moments"}, "proposal noise sqrt(h)"),
        "reverse_mean_sx": ({"acceptance", "one_step_moments"}, "s(x) instead of s(y)"),
        "ula": ({"acceptance", "one_step_moments"}, "no accept/reject"),
        "stale_score": ({"invariance"}, ""),
        "global_rng": ({"contract"}, ""),
    },
    "annealed_langevin": {
        "temperature": ({"one_step_covariance"}, "temperature"),
        "reversed": ({"one_step_covariance"}, "reverse order"),
        "off_by_one": ({"one_step_covariance"}, "off by one"),
        "reused_noise": ({"variance_recursion"}, ""),
        "global_rng": ({"contract"}, ""),
    },
}
