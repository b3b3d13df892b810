"""Reverse diffusion: from white noise back to the data, driven by the score of p_t.

With y_s = x_{T-s} and q_s = p_{T-s} (the forward law of dx = -x dt + sqrt(2) dW, Eq. 132),
    dy_s = [y_s + (1 + alpha) grad log q_s(y_s)] ds + sqrt(2 alpha) dW_s,   any alpha >= 0   (Th. 9, Eq. 135)
keeps the marginals q_s = p_{T-s} (Eq. 136-139): alpha = 1 is Anderson's reverse SDE (Eq. 17),
alpha = 0 the deterministic probability-flow ODE (Song et al. 2021), which we also offer with Heun's
second-order step (Karras et al. 2022). Notes §2.8.2 Eq. (17), §6.2.2 Th. 9.
Anderson 1982; Song et al. 2021 arXiv:2011.13456; Karras et al. 2022 arXiv:2206.00364.
"""
import math

from minigen import backend
from minigen.backend import xp
from minigen.diffusion.ornstein_uhlenbeck import check_time_grid
from minigen.progress import steps


def time_grid(n_steps, T=5.0, t_min=1e-3):
    """A decreasing grid of n_steps + 1 OU times from T to t_min, geometric in sigma_t = sqrt(e^{2t} - 1).

    Equal steps in log sigma_t put most steps near t = 0, where the score of p_t varies fastest
    (sigma_t is the noise level of Eq. 140). Returns a list of floats.
    """
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1; got {n_steps}")
    if not 0 < t_min < T:
        raise ValueError(f"need 0 < t_min < T; got t_min={t_min}, T={T}")
    lo, hi = 0.5 * math.log(math.expm1(2 * t_min)), 0.5 * math.log(math.expm1(2 * T))   # log sigma_t
    log_sig = [hi + (lo - hi) * k / int(n_steps) for k in range(int(n_steps) + 1)]
    return [0.5 * math.log1p(math.exp(2 * ls)) for ls in log_sig]                      # t = log(1 + sigma^2) / 2


def reverse_sde(score, x_T, times, rng, alpha=1.0, return_path=False, method="euler",
                progress=None):
    """Integrate Eq. (135) from times[0] = T down to times[-1] = t_min > 0.

    score: callable (x (n, d), t float) -> (n, d), the score grad log p_t in OU time.
    x_T: (n, d) starting points (N(0, Id) samples for generation). times: strictly decreasing, >= 0.
    alpha >= 0: 0 is the probability-flow ODE (deterministic given x_T), 1 the usual reverse SDE.
    method: "euler" (Euler-Maruyama, Eq. 122) or "heun" (predictor-corrector on the drift, the same
    noise in both stages; second order for the ODE alpha = 0).
    Returns the samples at times[-1], (n, d), or with return_path the whole path (len(times), n, d).
    progress: a progress bar on long runs (None: in a terminal; False: never).
    """
    x = backend.as_points(x_T, "x_T")
    grid = check_time_grid(times, increasing=False)
    if not grid[-1] > 0:
        raise ValueError(f"times must end at t_min > 0 (the score of p_0 may be singular); got {grid[-1]}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0; got {alpha}")
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun'; got {method!r}")
    if alpha > 0 and rng is None:
        raise ValueError("rng is required when alpha > 0 (the reverse SDE is stochastic)")

    def drift(y, t):                                      # V = y + (1 + alpha) score, Eq. (138)
        s = score(y, t)
        if tuple(s.shape) != tuple(y.shape):
            raise ValueError(f"score(x, t) must return shape {tuple(y.shape)} like x; got {tuple(s.shape)} at t={t}")
        return y + (1.0 + alpha) * s

    path = [x]
    for k in steps(len(grid) - 1, "reverse diffusion", progress):
        t, t_next = grid[k], grid[k + 1]
        h = t - t_next                                    # reverse-time step ds > 0
        noise = math.sqrt(2.0 * alpha * h) * rng.standard_normal(x.shape) if alpha > 0 else 0.0
        v = drift(x, t)
        x_pred = x + v * h + noise                        # Eq. (135), Euler-Maruyama step
        if method == "heun":
            x_pred = x + 0.5 * (v + drift(x_pred, t_next)) * h + noise    # trapezoidal corrector
        x = x_pred
        path.append(x)
    return xp.stack(path) if return_path else x
