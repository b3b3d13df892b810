"""The score-diffusion exercises written as a student would, in plain NumPy, with switchable
mistakes: ou_sample (Th. 8), ou_euler_step (Eq. 122), reverse_sde (Eq. 135), tweedie_denoise
(Eq. 142); plus correct variants written otherwise and unvectorized ones."""
import functools
import math

import numpy as np

SQRT2 = math.sqrt(2.0)


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


# ---- ou_sample -----------------------------------------------------------------------------
def ou_sample(x0, t, rng, kappa=1.0, sigma=SQRT2, mistake=None):
    x0 = np.asarray(x0, dtype=float)
    k = 1.0 if mistake == "kappa_ignored" else kappa
    s = SQRT2 if mistake == "sigma_ignored" else sigma
    decay = {"no_decay": 1.0, "variance_decay": math.exp(-2 * k * t)}.get(mistake,
                                                                         math.exp(-k * t))
    e = 1 - math.exp(-(1 if mistake == "missing_2" else 2) * k * t)
    var = {"sigma_not_squared": s * e / (2 * k), "no_denominator": s ** 2 * e}.get(
        mistake, s ** 2 * e / (2 * k))
    std = {"variance_as_std": var, "no_sqrt": s * e / (2 * k)}.get(mistake, math.sqrt(var))
    if mistake == "global_rng":
        z = np.random.standard_normal(x0.shape)
    elif mistake == "shared_noise":
        z = rng.standard_normal((x0.shape[0], 1))
    elif mistake == "uniform":
        z = math.sqrt(3) * (2 * rng.random(x0.shape) - 1)
    else:
        z = rng.standard_normal(x0.shape)
    return decay * x0 + std * z


def ou_sample_by_normal(x0, t, rng, kappa=1.0, sigma=SQRT2):
    """Correct, written otherwise: rng.normal with the mean and std of Eq. (124), the draws
    taken coordinate by coordinate (another order)."""
    x0 = np.asarray(x0, dtype=float)
    std = sigma * np.sqrt(-np.expm1(-2 * kappa * t) / (2 * kappa))
    return rng.normal(np.exp(-kappa * t) * x0.T, std).T


def ou_sample_by_point(x0, t, rng, kappa=1.0, sigma=SQRT2):
    """Correct, unvectorized: a Python loop over the points."""
    x0 = np.asarray(x0, dtype=float)
    decay, std = math.exp(-kappa * t), sigma * math.sqrt(-math.expm1(-2 * kappa * t) / (2 * kappa))
    out = np.empty(x0.shape)
    for i in range(len(x0)):
        out[i] = decay * x0[i] + std * rng.standard_normal(x0.shape[1])
    return out


OU_SAMPLE = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "variance_as_std": ({"variance"}, "variance used as std"),
    "no_sqrt": ({"variance"}, "square root missing"),
    "missing_2": ({"variance"}, "the 2 missing"),
    "kappa_ignored": ({"mean", "variance"}, "kappa ignored"),
    "sigma_ignored": ({"variance"}, "sigma^2 / 2 missing"),
    "sigma_not_squared": ({"variance"}, "sigma for sigma^2"),
    "no_denominator": ({"variance"}, "1 / (2 kappa) missing"),
    "no_decay": ({"mean"}, "x_0 not decayed"),
    "variance_decay": ({"mean"}, "e^{-2 kappa t} on x_0"),
    "shared_noise": ({"variance"}, "one noise draw shared"),
    "uniform": ({"gaussian"}, "uniform noise"),
}


# ---- ou_euler_step -------------------------------------------------------------------------
def ou_euler_step(x, dt, rng, kappa=1.0, sigma=SQRT2, mistake=None):
    x = np.asarray(x, dtype=float)
    k = 1.0 if mistake == "kappa_ignored" else kappa
    drift = {"drift_sign": k * x, "no_drift": 0 * x}.get(mistake, -k * x)
    scale = {"dt_for_sqrt_dt": sigma * dt, "sigma_squared": sigma ** 2 * math.sqrt(dt),
             "langevin_noise": sigma * math.sqrt(2 * dt)}.get(mistake, sigma * math.sqrt(dt))
    xi = np.random.standard_normal(x.shape) if mistake == "global_rng" else \
        rng.standard_normal(x.shape)
    if mistake == "exact":
        return math.exp(-k * dt) * x + sigma * math.sqrt(-math.expm1(-2 * k * dt) / (2 * k)) * xi
    return x + drift * dt + scale * xi                                        # Eq. (122)


def ou_euler_step_by_normal(x, dt, rng, kappa=1.0, sigma=SQRT2):
    """Correct, written otherwise: x (1 - kappa dt) plus rng.normal of std sigma sqrt(dt), the
    draws taken coordinate by coordinate (another order)."""
    x = np.asarray(x, dtype=float)
    return x * (1 - kappa * dt) + rng.normal(0.0, sigma * np.sqrt(dt), size=x.shape[::-1]).T


def ou_euler_step_by_point(x, dt, rng, kappa=1.0, sigma=SQRT2):
    """Correct, unvectorized: a Python loop over the points."""
    x = np.asarray(x, dtype=float)
    out = np.empty(x.shape)
    for i in range(len(x)):
        out[i] = x[i] - kappa * x[i] * dt + sigma * math.sqrt(dt) * rng.standard_normal(x.shape[1])
    return out


OU_EULER_STEP = {
    "dt_for_sqrt_dt": ({"one_step_covariance"}, "dt for sqrt(dt)"),
    "drift_sign": ({"one_step_mean"}, "drift sign"),
    "kappa_ignored": ({"one_step_mean"}, "kappa ignored"),
    "no_drift": ({"one_step_mean"}, "no drift"),
    "sigma_squared": ({"one_step_covariance"}, "sigma^2 for sigma"),
    "langevin_noise": ({"one_step_covariance"}, "sqrt(2 dt)"),
    "exact": ({"one_step_mean", "one_step_covariance"}, "the exact OU transition"),
}


# ---- reverse_sde ---------------------------------------------------------------------------
def reverse_sde(score, x_T, times, rng, alpha=1.0, mistake=None):
    x = np.asarray(x_T, dtype=float)
    times = [float(t) for t in times]
    for t, t_next in zip(times[:-1], times[1:]):
        h = t - t_next                                             # reverse-time step > 0
        s = score(x, times[0] - t if mistake == "reverse_time" else t)
        c = {"no_factor": 1.0, "half_alpha2": (1 + alpha ** 2) / 2}.get(mistake, 1 + alpha)
        drift = {"score_sign": x - c * s, "forward_drift": -x + c * s}.get(mistake, x + c * s)
        if mistake == "drift_sign":
            drift = -drift
        g = {"noise_ignores_alpha": SQRT2, "noise_alpha_sqrt2": alpha * SQRT2}.get(
            mistake, math.sqrt(2 * alpha))
        dw = h if mistake == "h_for_sqrt_h" else math.sqrt(h)
        z = np.random.standard_normal(x.shape) if mistake == "global_rng" else \
            rng.standard_normal(x.shape)
        x = x + drift * h + g * dw * z                                      # Eq. (135)
    return x


def reverse_sde_presampled(score, x_T, times, rng, alpha=1.0):
    """Correct, written otherwise: the noise of every step drawn in one call (chain by chain,
    another order), no draw at alpha = 0, the step written as (1 + h) y + (1 + alpha) h score."""
    x = np.array(x_T, dtype=float)
    h = -np.diff(np.asarray(times, dtype=float))
    xi = rng.standard_normal(x.shape + h.shape) if alpha > 0 else np.zeros(x.shape + h.shape)
    for k in range(len(h)):
        x = (1 + h[k]) * x + (1 + alpha) * h[k] * score(x, times[k]) \
            + np.sqrt(2 * alpha * h[k]) * xi[..., k]
    return x


def reverse_sde_heun(score, x_T, times, rng, alpha=1.0):
    """Correct, another scheme: Heun's predictor-corrector on the drift, one noise per step."""
    x = np.asarray(x_T, dtype=float)
    for t, t_next in zip(times[:-1], times[1:]):
        h = t - t_next
        noise = math.sqrt(2 * alpha * h) * rng.standard_normal(x.shape)
        v = x + (1 + alpha) * score(x, t)
        pred = x + v * h + noise
        v_next = pred + (1 + alpha) * score(pred, t_next)
        x = x + 0.5 * (v + v_next) * h + noise
    return x


def reverse_sde_by_chain(score, x_T, times, rng, alpha=1.0):
    """Correct but unvectorized: a Python loop over chains."""
    x_T = np.asarray(x_T, dtype=float)
    return np.concatenate([reverse_sde(score, x_T[i:i + 1], times, rng, alpha)
                           for i in range(len(x_T))])


REVERSE_SDE = {
    "drift_sign": ({"sde_marginal", "ode_marginal"}, "drift sign"),
    "score_sign": ({"sde_marginal", "ode_marginal"}, "score sign"),
    "forward_drift": ({"sde_marginal", "ode_marginal"}, "the forward drift -y"),
    "no_factor": ({"sde_marginal"}, "the factor 1 + alpha on the score missing"),
    "half_alpha2": ({"sde_marginal", "ode_marginal"}, "(1 + alpha^2) / 2"),
    "noise_ignores_alpha": ({"ode_marginal", "ode_deterministic"}, "alpha missing in the noise"),
    "noise_alpha_sqrt2": ({"alpha_family"}, "alpha sqrt(2 h)"),
    "h_for_sqrt_h": ({"sde_marginal"}, "h for sqrt(h)"),
    "reverse_time": ({"sde_marginal", "ode_marginal"}, "reverse time"),
}


# ---- tweedie_denoise -----------------------------------------------------------------------
def tweedie_denoise(score, y, sigma, mistake=None):
    y = np.asarray(y, dtype=float)
    s = score(y)
    return {"sigma_not_squared": y + sigma * s, "minus": y - sigma ** 2 * s,
            "divided": y + s / sigma ** 2, "no_y": sigma ** 2 * s,
            "no_score": y}.get(mistake, y + sigma ** 2 * s)                  # Eq. (142)


def tweedie_denoise_by_point(score, y, sigma):
    """Correct, written otherwise: one point at a time, sigma * sigma."""
    y = np.asarray(y, dtype=float)
    return np.concatenate([p[None] + sigma * sigma * score(p[None]) for p in y])


TWEEDIE_DENOISE = {
    "sigma_not_squared": ({"gaussian_posterior_mean", "mixture_posterior_mean"},
                          "sigma for sigma^2"),
    "minus": ({"gaussian_posterior_mean", "mixture_posterior_mean"}, "minus sign"),
    "divided": ({"gaussian_posterior_mean", "mixture_posterior_mean"}, "divided by sigma^2"),
    "no_y": ({"contract"}, "y missing"),
    "no_score": ({"gaussian_posterior_mean", "mixture_posterior_mean"}, "the score ignored"),
}

MUTANTS = {   # exercise -> (the student function, {mistake: (properties that fail, named)})
    "ou_sample": (ou_sample, OU_SAMPLE),
    "ou_euler_step": (ou_euler_step, OU_EULER_STEP),
    "reverse_sde": (reverse_sde, REVERSE_SDE),
    "tweedie_denoise": (tweedie_denoise, TWEEDIE_DENOISE),
}
CORRECT = {   # exercise -> correct variants that must pass
    "ou_sample": [ou_sample, ou_sample_by_normal],
    "ou_euler_step": [ou_euler_step, ou_euler_step_by_normal],
    "reverse_sde": [reverse_sde, reverse_sde_presampled, reverse_sde_heun],
    "tweedie_denoise": [tweedie_denoise, tweedie_denoise_by_point],
}
REFUSED = {   # exercise -> {mistake: what the error says}: errors (exit 2), not failures
    name: {"global_rng": "drew no random numbers from rng"}
    for name in ("ou_sample", "ou_euler_step", "reverse_sde")}
UNVECTORIZED = {"reverse_sde": reverse_sde_by_chain}   # the pilot must refuse these
# unvectorized but correct, and cheap enough that the pilot lets them through (< 10 s)
LOOPS = {"ou_sample": ou_sample_by_point, "ou_euler_step": ou_euler_step_by_point}
