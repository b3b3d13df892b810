"""Forward noising by the Ornstein-Uhlenbeck equation, exactly and by Euler-Maruyama.

    dx_t = -kappa x_t dt + sigma dW_t                                              (Eq. 123)
    x_t  = e^{-kappa t} x_0 + sigma ((1 - e^{-2 kappa t}) / (2 kappa))^{1/2} z,  z ~ N(0, Id)  (Th. 8, Eq. 124)
The initial condition is forgotten exponentially fast: x_t -> N(0, sigma^2 / (2 kappa) Id). With the
normalized kappa = 1, sigma = sqrt(2) (Eq. 128) the limit is white noise N(0, Id), and a data law p_0
becomes p_t = [e^t p_0(e^t .)] * g_{sigma_t} (Eq. 130; GaussianMixture.ou_marginal for mixtures).
Notes §2.8.2 Eq. (14), §6.1.3 Eq. (122), §6.2.1 Th. 8.  Uhlenbeck & Ornstein 1930; Maruyama 1955.
"""
import math

from minigen import backend
from minigen.backend import xp


def _check_coefficients(kappa, sigma):
    if not kappa > 0:
        raise ValueError(f"kappa must be > 0; got {kappa}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")


def ou_mean_std(t, kappa=1.0, sigma=math.sqrt(2.0)):
    """(e^{-kappa t}, sigma sqrt((1 - e^{-2 kappa t}) / (2 kappa))): the decay of x_0 and the noise std at time t (Eq. 124)."""
    _check_coefficients(kappa, sigma)
    if not t >= 0:
        raise ValueError(f"t must be >= 0; got {t}")
    decay = math.exp(-kappa * t)
    return decay, sigma * math.sqrt(-math.expm1(-2.0 * kappa * t) / (2.0 * kappa))


def ou_sample(x0, t, rng, kappa=1.0, sigma=math.sqrt(2.0)):
    """Exact sample of x_t given x_0 (Th. 8): x0 (n, d) -> (n, d), no time discretization."""
    x0 = backend.as_points(x0, "x0")
    decay, std = ou_mean_std(t, kappa, sigma)
    return decay * x0 + std * rng.standard_normal(x0.shape)              # Eq. (124)


def check_time_grid(times, increasing=True, name="times"):
    """Validate a time grid: 1-D, at least two points, >= 0, strictly monotone. Returns a list of floats."""
    arr = backend.asarray(times, name)
    grid = [float(s) for s in backend.to_numpy(arr).ravel()]
    if arr.ndim != 1 or len(grid) < 2:
        raise ValueError(f"{name} must be a 1-D grid of at least two times; got {times!r}")
    if min(grid) < 0 or not all(math.isfinite(s) for s in grid):
        raise ValueError(f"{name} must be finite and >= 0; got min {min(grid)}")
    steps = [b - a for a, b in zip(grid[:-1], grid[1:])]
    if increasing and not all(h > 0 for h in steps):
        raise ValueError(f"{name} must be strictly increasing; got {grid}")
    if not increasing and not all(h < 0 for h in steps):
        raise ValueError(f"{name} must be strictly decreasing; got {grid}")
    return grid


def ou_paths(x0, times, rng, kappa=1.0, sigma=math.sqrt(2.0)):
    """Euler-Maruyama paths of Eq. (123) on an increasing grid: x0 (n, d) at times[0] -> (len(times), n, d).

    x_{t+h} = x_t - kappa x_t h + sigma sqrt(h) xi,  xi ~ N(0, Id)    (Eq. 122 with V_t(x) = -kappa x)
    All n paths advance in lockstep; the first slice of the result is x0 itself.
    """
    x = backend.as_points(x0, "x0")
    _check_coefficients(kappa, sigma)
    grid = check_time_grid(times)
    path = [x]
    for h in (b - a for a, b in zip(grid[:-1], grid[1:])):
        x = x - kappa * x * h + sigma * math.sqrt(h) * rng.standard_normal(x.shape)   # Eq. (122)
        path.append(x)
    return xp.stack(path)
