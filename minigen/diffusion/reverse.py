"""Reverse diffusion: from white noise back to the data, driven by the score of p_t.

With y_s = x_{T-s} and q_s = p_{T-s} (the forward law of dx = -x dt + sqrt(2) dW, Eq. 132),
    dy_s = [y_s + (1 + alpha) grad log q_s(y_s)] ds + sqrt(2 alpha) dW_s,  alpha >= 0  (Th. 9, 135)
keeps the marginals q_s = p_{T-s} (Eq. 136-139): alpha = 1 is Anderson's reverse SDE (Eq. 17),
alpha = 0 the deterministic probability-flow ODE (Song et al. 2021), which we also offer with
Heun's second-order step (Karras et al. 2022). Notes §2.8.2 Eq. (17), §6.2.2 Th. 9.
Anderson 1982; Song et al. 2021 arXiv:2011.13456; Karras et al. 2022 arXiv:2206.00364.
"""
import math

from minigen import backend, ode
from minigen.backend import xp
from minigen.diffusion.ornstein_uhlenbeck import check_time_grid
from minigen.progress import steps

METHODS = ("euler", "heun")


def _log_sigma(t):
    """log sigma_t = log sqrt(e^{2t} - 1) without overflow for large t."""
    return t + 0.5 * math.log(-math.expm1(-2.0 * t))


def _t_of_log_sigma(ls):
    """The inverse: t = log(1 + sigma^2) / 2 = softplus(2 log sigma) / 2, without overflow."""
    return 0.5 * (max(2.0 * ls, 0.0) + math.log1p(math.exp(-abs(2.0 * ls))))


def time_grid(n_steps, *, T=5.0, t_min=1e-3):
    """A decreasing grid of n_steps + 1 OU times from T to t_min, geometric in sigma_t.

    sigma_t = sqrt(e^{2t} - 1) is the noise level of Eq. (140); equal steps in log sigma_t put
    most steps near t = 0, where the score of p_t varies fastest. Returns a list of floats.
    """
    n_steps = backend.check_int(n_steps, "n_steps")
    T = backend.check_positive(T, "T")
    t_min = backend.check_positive(t_min, "t_min")
    if not t_min < T:
        raise ValueError(f"need 0 < t_min < T; got t_min={t_min!r}, T={T!r}")
    lo, hi = _log_sigma(t_min), _log_sigma(T)
    grid = [_t_of_log_sigma(hi + (lo - hi) * k / n_steps) for k in range(n_steps + 1)]
    grid[0], grid[-1] = T, t_min                            # the ends exactly
    return grid


def _check_score(score):
    """The score of p_t; a target with a closed-form OU marginal is told how to make one."""
    return backend.check_callable(score, "score", "(x (n, d), t) -> (n, d)", methods={
        "ou_marginal": "score=lambda x, t: target.ou_marginal(t).score(x)"})


def reverse_sde(score, x_T, times, rng, *, alpha=1.0, return_path=False, method="euler",
                progress=None):
    """Integrate Eq. (135) from times[0] = T down to times[-1] = t_min > 0.

    score: callable (x (n, d), t float) -> (n, d), the score grad log p_t in OU time.
    x_T: (n, d) starting points (N(0, Id) samples for generation). times: strictly decreasing.
    rng: a generator (backend.rng(seed)); ignored, and may be None, when alpha = 0.
    alpha >= 0: 0 is the probability-flow ODE (deterministic given x_T), 1 the usual reverse SDE.
    method: "euler" (Euler-Maruyama, Eq. 122) or "heun" (predictor-corrector on the drift, the
    same noise in both stages; second order for the ODE alpha = 0).
    Returns the samples at times[-1], (n, d), or with return_path the path (len(times), n, d).
    A state that becomes NaN or inf raises FloatingPointError (step, points, reason).
    progress: a progress bar on long runs (None: in a terminal; False: never).
    """
    score = _check_score(score)
    x = backend.as_points(x_T, "x_T")
    grid = check_time_grid(times, increasing=False)
    if not grid[-1] > 0:
        raise ValueError(f"times must end at t_min > 0 (the score of p_0 may be singular); "
                         f"got times[-1]={grid[-1]}")
    alpha = backend.check_number(alpha, "alpha", low=0.0)
    method = backend.check_choice(method, "method", METHODS)
    if not isinstance(return_path, bool):
        raise TypeError(f"return_path must be True or False; got return_path={return_path!r}")
    if alpha > 0:
        rng = backend.check_rng(rng)

    def drift(y, t):                                      # V = y + (1 + alpha) score, Eq. (138)
        s = score(y, t)
        if tuple(getattr(s, "shape", ())) != tuple(y.shape):
            raise ValueError(f"score(x, t) must return an array of shape {tuple(y.shape)} like "
                             f"x; got {type(s).__name__} of shape {getattr(s, 'shape', None)} "
                             f"at t={t}")
        return y + (1.0 + alpha) * s

    path = [x]
    for k in steps(len(grid) - 1, "reverse diffusion", progress):
        t, t_next = grid[k], grid[k + 1]
        h = t - t_next                                    # reverse-time step ds > 0
        noise = math.sqrt(2.0 * alpha * h) * rng.standard_normal(x.shape) if alpha > 0 else 0.0
        # one step of minigen.ode's scheme, backwards in OU time (dt = -h), on dx/dt = -V - noise/h:
        # the noise increment is a constant velocity over the step, so "euler" is Euler-Maruyama
        # y + V h + noise (Eq. 135) and "heun" the trapezoidal corrector with the same noise in
        # both stages; at alpha = 0 both integrate the probability-flow ODE dx/dt = -x - score
        x_new = ode.step(lambda y, s: -(drift(y, s) + noise / h), x, t, -h, method)
        _check_state(x_new, lambda: drift(x, t), k, t, h)
        x = x_new
        path.append(x)
    return xp.stack(path) if return_path else x


def _check_state(x, drift_before, k, t, h):
    """FloatingPointError if some point of the state x (n, d) is NaN or inf after step k.

    drift_before() evaluates the drift at the state before the step (only on failure)."""
    if bool(xp.all(xp.isfinite(x))):
        return
    bad = int(backend.to_numpy(~xp.all(xp.isfinite(x), axis=1)).sum())
    if not bool(xp.all(xp.isfinite(drift_before()))):
        why = "the score returned NaN or inf there"
    else:
        why = (f"the step h = {h:.3g} is too large for the drift (Euler is stable only for "
               "h |dV/dy| < 2): use more steps, e.g. time_grid(4 * n_steps)")
    raise FloatingPointError(f"reverse_sde: {bad} of {x.shape[0]} points became NaN or inf at "
                             f"step {k} (t = {t:.4g}): {why}")
