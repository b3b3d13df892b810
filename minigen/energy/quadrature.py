"""The partition function of a 2D Gibbs model by quadrature on a grid.

    Z = int exp(-U(x)) dx ~ sum_ij exp(-U(x_ij)) dA   (midpoint rule on an n x n grid),
    E_p Phi = sum_ij w_ij Phi(x_ij),  Cov_p Phi = sum_ij w_ij (Phi - E Phi)(Phi - E Phi)^T,
with w_ij = exp(-U(x_ij)) dA / Z. In d = 2 this replaces the sampling of Eq. (35) by an exact
sum: log Z (Eq. 22), the model term of the gradient Eq. (32) and the Hessian Eq. (34).
Notes §3.1, Eq. (22), (29)-(34). The grid must hold the mass: bounds wide enough, n ~ 100-300.
"""
import math

from minigen import backend
from minigen.backend import check_callable, check_int, xp


def grid_points(bounds, n):
    """Cell centres of an n x n grid: bounds ((x_lo, x_hi), (y_lo, y_hi)) or (lo, hi) for both.

    Returns (points (n * n, 2), cell_area): row k = (x_i, y_j) with k = i * n + j.
    """
    (x_lo, x_hi), (y_lo, y_hi) = check_bounds(bounds)
    n = check_int(n, "n", low=2)
    hx, hy = (x_hi - x_lo) / n, (y_hi - y_lo) / n
    gx = x_lo + hx * (xp.arange(n) + 0.5)                                  # (n,)
    gy = y_lo + hy * (xp.arange(n) + 0.5)                                  # (n,)
    X = xp.repeat(gx, n)                                                   # (n * n,)
    Y = xp.tile(gy, n)                                                     # (n * n,)
    return xp.stack([X, Y], axis=1), hx * hy


def grid_weights(energy, bounds, n):
    """log Z and the normalized quadrature weights of exp(-U) on the grid.

    energy: callable x (m, 2) -> (m,), U up to a constant. Returns (points (n*n, 2),
    weights (n*n,) summing to 1, log_Z float). Raises ValueError if U is NaN on the grid.
    """
    energy = check_callable(energy, "energy", "(x (m, 2)) -> (m,)")
    points, area = grid_points(bounds, n)
    U = energy(points)
    if tuple(getattr(U, "shape", ())) != (points.shape[0],):
        raise ValueError(f"energy(x) must return shape ({points.shape[0]},) for x of shape "
                         f"{tuple(points.shape)}; got {getattr(U, 'shape', None)}")
    if bool(xp.any(xp.isnan(U))) or not bool(xp.any(xp.isfinite(U))):
        raise ValueError("energy is NaN (or nowhere finite) on the quadrature grid")
    a = -U                                                                 # log exp(-U)
    m = xp.max(a)
    w = xp.exp(a - m)
    s = xp.sum(w)
    log_Z = float(backend.to_numpy(m + xp.log(s))) + math.log(area)       # Eq. (22)
    return points, w / s, log_Z


def grid_log_partition(energy, bounds, n=200):
    """log Z = log int exp(-U(x)) dx over the box, by the midpoint rule (Eq. 22): a float.

    energy: callable x (m, 2) -> (m,). bounds: ((x_lo, x_hi), (y_lo, y_hi)) or (lo, hi).
    The neural model's log_prob(x) = -U(x) - grid_log_partition(U, bounds, n).
    """
    return grid_weights(energy, bounds, n)[2]


def grid_moments(energy, features, bounds, n=200):
    """log Z, E_p Phi and Cov_p Phi of p = exp(-U) / Z by quadrature (Eq. 22, 32, 34).

    energy: x (m, 2) -> (m,); features: x (m, 2) -> (m, K).
    Returns (log_Z float, mean (K,), cov (K, K)).
    """
    features = check_callable(features, "features", "(x (m, 2)) -> (m, K)")
    points, w, log_Z = grid_weights(energy, bounds, n)
    F = features(points)                                                   # (n*n, K)
    mean = w @ F                                                           # E Phi
    C = F - mean
    cov = (C * w[:, None]).T @ C                                           # Eq. (34)
    return log_Z, mean, cov


def check_bounds(bounds):
    """((x_lo, x_hi), (y_lo, y_hi)) as floats, lo < hi; (lo, hi) means the same for both axes."""
    try:
        b = [float(v) for v in bounds]
        b = [(b[0], b[1]), (b[0], b[1])] if len(b) == 2 else None
    except TypeError:
        try:
            b = [tuple(float(v) for v in pair) for pair in bounds]
        except TypeError:
            b = None
    if (b is None or len(b) != 2 or any(len(p) != 2 for p in b)
            or not all(math.isfinite(v) for p in b for v in p) or any(p[0] >= p[1] for p in b)):
        raise ValueError("bounds must be (lo, hi) or ((x_lo, x_hi), (y_lo, y_hi)), finite, "
                         f"lo < hi; got bounds={bounds!r}")
    return b
