"""Forward noising by the Ornstein-Uhlenbeck equation, exactly and by Euler-Maruyama.

    dx_t = -kappa x_t dt + sigma dW_t                                                (Eq. 123)
    x_t  = e^{-kappa t} x_0 + sigma ((1 - e^{-2 kappa t}) / (2 kappa))^{1/2} z,  z ~ N(0, Id)
                                                                            (Th. 8, Eq. 124)
The initial condition is forgotten exponentially fast: x_t -> N(0, sigma^2 / (2 kappa) Id). With
the normalized kappa = 1, sigma = sqrt(2) (Eq. 128) the limit is white noise N(0, Id), and a data
law p_0 becomes p_t = [e^t p_0(e^t .)] * g_{sigma_t} (Eq. 130; GaussianMixture.ou_marginal).
Notes §2.8.2 Eq. (14), §6.1.3 Eq. (122), §6.2.1 Th. 8.  Uhlenbeck & Ornstein 1930; Maruyama 1955.
"""
import math

from minigen import backend
from minigen.backend import xp


def _check_coefficients(kappa, sigma):
    """kappa, sigma as finite floats > 0."""
    return backend.check_positive(kappa, "kappa"), backend.check_positive(sigma, "sigma")


def ou_mean_std(t, *, kappa=1.0, sigma=math.sqrt(2.0)):
    """(decay, std) at time t >= 0 (Eq. 124): x_t = decay x_0 + std z.

    decay = e^{-kappa t}, std = sigma sqrt((1 - e^{-2 kappa t}) / (2 kappa)).
    """
    kappa, sigma = _check_coefficients(kappa, sigma)
    t = backend.check_number(t, "t", low=0.0)
    decay = math.exp(-kappa * t)
    return decay, sigma * math.sqrt(-math.expm1(-2.0 * kappa * t) / (2.0 * kappa))   # Eq. (124)


def ou_sample(x0, t, rng, *, kappa=1.0, sigma=math.sqrt(2.0)):
    """Exact sample of x_t given x_0 (Th. 8): x0 (n, d) -> (n, d), no time discretization."""
    x0 = backend.as_points(x0, "x0")
    rng = backend.check_rng(rng)
    decay, std = ou_mean_std(t, kappa=kappa, sigma=sigma)
    return decay * x0 + std * rng.standard_normal(x0.shape)                   # Eq. (124)


def check_time_grid(times, increasing=True, name="times"):
    """A time grid as a list of floats: 1-D, two points or more, finite, >= 0, strictly monotone."""
    arr = backend.asarray(times, name)
    grid = [float(s) for s in backend.to_numpy(arr).ravel()]
    if arr.ndim != 1 or len(grid) < 2:
        raise ValueError(f"{name} must be a 1-D grid of at least two times; got {name}={times!r}")
    if not all(math.isfinite(s) for s in grid):
        raise ValueError(f"{name} must be finite; got {name}={grid}")
    if min(grid) < 0:
        raise ValueError(f"{name} must be >= 0; got min {min(grid)} in {name}={grid}")
    steps = [b - a for a, b in zip(grid[:-1], grid[1:])]
    if increasing and not all(h > 0 for h in steps):
        raise ValueError(f"{name} must be strictly increasing; got {name}={grid}")
    if not increasing and not all(h < 0 for h in steps):
        raise ValueError(f"{name} must be strictly decreasing; got {name}={grid}")
    return grid


def ou_paths(x0, times, rng, *, kappa=1.0, sigma=math.sqrt(2.0)):
    """Euler-Maruyama paths of Eq. (123) on an increasing grid: x0 (n, d) at times[0].

    x_{t+h} = x_t - kappa x_t h + sigma sqrt(h) xi,  xi ~ N(0, Id)   (Eq. 122, V_t(x) = -kappa x)
    All n paths advance in lockstep. Returns (len(times), n, d); its first slice is x0 itself.
    The scheme is stable for kappa h < 2 (|1 - kappa h| < 1): a coarser grid is refused.
    """
    x = backend.as_points(x0, "x0")
    rng = backend.check_rng(rng)
    kappa, sigma = _check_coefficients(kappa, sigma)
    grid = check_time_grid(times)
    h_max = max(b - a for a, b in zip(grid[:-1], grid[1:]))
    if kappa * h_max >= 2.0:
        raise ValueError(f"times: a step h = {h_max:g} is past the Euler-Maruyama stability limit "
                         f"2 / kappa = {2.0 / kappa:g} (kappa = {kappa:g}): the paths would "
                         "blow up; use a finer grid, or ou_sample for the exact law")
    path = [x]
    for h in (b - a for a, b in zip(grid[:-1], grid[1:])):
        x = x - kappa * x * h + sigma * math.sqrt(h) * rng.standard_normal(x.shape)   # Eq. (122)
        path.append(x)
    path = xp.stack(path)                                                     # (len(times), n, d)
    finite = xp.all(xp.isfinite(path), axis=2)                                # (len(times), n)
    if not bool(xp.all(finite)):
        bad = backend.to_numpy(~finite)
        k = int(bad.any(axis=1).argmax())
        raise FloatingPointError(f"ou_paths: {int(bad[k].sum())} of {bad.shape[1]} paths "
                                 f"overflowed to NaN or inf at step {k} (t = {grid[k]:g}): "
                                 "x0 is too large for floating point")
    return path
