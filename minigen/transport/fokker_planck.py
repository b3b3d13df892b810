"""The Fokker-Planck equation in 1D: the density of dx = V(x) dt + sigma dW, and its particles.

    dp/dt + d/dx (p V) - d^2/dx^2 (sigma^2 / 2 p) = 0                     (Th. 6, Eq. 105-106)
written as dp/dt + dJ/dx = 0 with J = V p - (sigma^2 / 2) dp/dx (Fick, Eq. 107-108), solved by
finite volumes: Scharfetter-Gummel fluxes between cells and implicit Euler steps keep the mass
and the positivity, and make exp(-2 U / sigma^2) (V = -U') the exact discrete stationary law.
Particles follow Euler-Maruyama; the random walk of Eq. (109)-(112) has Var x_T = T sigma^2.
Notes §5.4, Eq. (105)-(113), §6.1 Eq. (116)-(118).  Fokker 1914; Planck 1917; Scharfetter &
Gummel 1969; Chang & Cooper 1970; Maruyama 1955.
"""
import math

from minigen import backend
from minigen.backend import xp


def _grid(grid):
    """A uniform grid of cell centres (k,), k >= 3, increasing; returns it and its step h."""
    x = backend.asarray(grid, "grid")
    if x.ndim != 1 or x.shape[0] < 3:
        raise ValueError(f"grid must be 1-D with at least 3 cell centres; got {tuple(x.shape)}")
    backend.check_finite(x, "grid")
    steps = x[1:] - x[:-1]
    h = float(xp.mean(steps))
    if not h > 0 or float(xp.max(xp.abs(steps - h))) > 1e-6 * h:
        raise ValueError("grid must be uniform and increasing (e.g. a linspace); got steps from "
                         f"{float(xp.min(steps)):.3g} to {float(xp.max(steps)):.3g}")
    return x, h


def _times(times):
    t = [float(s) for s in backend.to_numpy(backend.asarray(times, "times")).ravel()]
    if len(t) < 1 or not all(math.isfinite(s) for s in t) or \
            any(b <= a for a, b in zip(t[:-1], t[1:])):
        raise ValueError(f"times must be a finite, strictly increasing list; got times={t}")
    return t


def _drift_on(drift, x, name="drift"):
    backend.check_callable(drift, name, "x (k,) -> (k,)")
    v = backend.asarray(drift(x), f"{name}(x)")
    if tuple(v.shape) != tuple(x.shape):
        raise ValueError(f"{name} must map x (k,) to (k,); got shape {tuple(v.shape)}")
    return backend.check_finite(v, f"{name}(x)")


def bernoulli(w):
    """B(w) = w / (e^w - 1), B(0) = 1, and B(-w) = B(w) e^w (the SG weights): (k,) -> (k,)."""
    w = xp.clip(w, -700.0, 700.0)
    small = xp.abs(w) < 1e-6
    safe = xp.where(small, 1.0, w)
    return xp.where(small, 1.0 - 0.5 * w, safe / xp.expm1(safe))


def fokker_planck_matrix(drift, sigma, grid):
    """The matrix A (k, k) of dp/dt = A p: the finite-volume Eq. (106) with zero-flux walls.

    Between cells i and i+1 (at x_{i+1/2}), with D = sigma^2 / 2 and w = V(x_{i+1/2}) h / D,
        J_{i+1/2} = (D / h) (B(-w) p_i - B(w) p_{i+1})        (Scharfetter-Gummel; Eq. 107-108)
    and dp_i/dt = -(J_{i+1/2} - J_{i-1/2}) / h. Columns of A sum to 0 (mass) and its off-diagonal
    entries are >= 0 (positivity); J = 0 gives p_{i+1} / p_i = e^w, i.e. exp(-2 U / sigma^2).
    """
    x, h = _grid(grid)
    sigma = backend.check_positive(sigma, "sigma")
    D = 0.5 * sigma ** 2                                                     # Eq. (106)-(107)
    w = _drift_on(drift, 0.5 * (x[1:] + x[:-1])) * h / D                     # (k - 1,)
    right, left = D / h ** 2 * bernoulli(-w), D / h ** 2 * bernoulli(w)      # i -> i+1, i+1 -> i
    zero = xp.zeros(1)
    diagonal = -(xp.concatenate([right, zero]) + xp.concatenate([zero, left]))
    return xp.diag(diagonal) + xp.diag(right, -1) + xp.diag(left, 1)


def fokker_planck_1d(drift, sigma, p0, grid, times, *, dt=1e-3):
    """Densities p_t on the grid at each time, from p0 at times[0] (Eq. 106).

    drift: V, a function x (k,) -> (k,) (time-independent); sigma > 0, a constant; p0: (k,)
    density values >= 0 at the cell centres grid (k,), uniform, step h (mass = h sum p0, kept);
    the walls at grid[0] - h/2 and grid[-1] + h/2 reflect. Implicit Euler steps of at most dt,
    (I - dt A) p_{n+1} = p_n, keep mass to rounding and p >= 0 for every dt (I - dt A is an
    M-matrix); the error is O(dt + h^2). Returns (len(times), k); row 0 is p0. Dense solves:
    for grids up to a few thousand cells.
    """
    x, h = _grid(grid)
    p = backend.check_finite(backend.asarray(p0, "p0"), "p0")
    if tuple(p.shape) != tuple(x.shape) or not bool(xp.all(p >= 0)):
        raise ValueError(f"p0 must hold {x.shape[0]} density values >= 0 (one per cell); got "
                         f"shape {tuple(p.shape)}, min {float(xp.min(p)):.3g}")
    t = _times(times)
    dt = backend.check_positive(dt, "dt")
    A = fokker_planck_matrix(drift, sigma, x)
    eye, steppers, out = xp.eye(x.shape[0]), {}, [p]
    for t0, t1 in zip(t[:-1], t[1:]):
        n = max(1, math.ceil((t1 - t0) / dt - 1e-9))
        tau = (t1 - t0) / n
        if round(tau, 15) not in steppers:          # (I - tau A)^-1, once per step size
            steppers[round(tau, 15)] = xp.linalg.inv(eye - tau * A)
        M = steppers[round(tau, 15)]
        for _ in range(n):
            p = M @ p                                           # implicit Euler step
        out.append(xp.maximum(p, 0.0))      # the inverse is >= 0: clips rounding (~1e-17) only
    return xp.stack(out)


def euler_maruyama_1d(drift, sigma, x0, times, rng, *, dt=1e-3):
    """Particles of Eq. (105): x <- x + V(x) tau + sigma sqrt(tau) xi, xi ~ N(0, 1), tau <= dt.

    x0: (n,) positions at times[0]. Returns (len(times), n), row 0 = x0. Raises
    FloatingPointError if a particle leaves the floating-point range.
    """
    x = backend.check_finite(backend.asarray(x0, "x0"), "x0")
    if x.ndim != 1:
        raise ValueError(f"x0 must be 1-D, shape (n,); got {tuple(x.shape)}")
    rng, t = backend.check_rng(rng), _times(times)
    sigma, dt = backend.check_positive(sigma, "sigma"), backend.check_positive(dt, "dt")
    out = [x]
    for t0, t1 in zip(t[:-1], t[1:]):
        n = max(1, math.ceil((t1 - t0) / dt - 1e-9))
        tau = (t1 - t0) / n
        for _ in range(n):
            x = x + _drift_on(drift, x) * tau + sigma * math.sqrt(tau) * rng.standard_normal(
                x.shape)                                                      # Eq. (105)
        if not bool(xp.all(xp.isfinite(x))):
            raise FloatingPointError(f"euler_maruyama_1d: particles overflowed by t = {t1:g}; "
                                     "use a smaller dt")
        out.append(x)
    return xp.stack(out)


def histogram_density(x, edges):
    """The density of the points x (n,) on the bins between edges (k + 1,): (k,), sum p h = the
    fraction of points inside."""
    x, edges = backend.asarray(x, "x"), backend.asarray(edges, "edges")
    k = edges.shape[0] - 1
    bins = xp.searchsorted(edges, x, side="right") - 1                       # (n,), -1 or k: out
    inside = (bins >= 0) & (bins < k)
    counts = xp.bincount(bins[inside], minlength=k)
    return counts / (x.shape[0] * (edges[1:] - edges[:-1]))


def random_walk(n_walkers, T, sigma, n_steps, rng):
    """The walk of Eq. (109): N = n_steps jumps of +-dx with probability 1/2 each, dt = T / N and
    dx = sigma sqrt(dt) (Eq. 111), so Var x_T = N dx^2 = T sigma^2 exactly (Eq. 110); its law
    obeys p(x, t + dt) = (p(x + dx, t) + p(x - dx, t)) / 2 (Eq. 112) -> the heat equation (113).
    Returns the paths from x_0 = 0: (n_steps + 1, n_walkers)."""
    n_walkers, n_steps = backend.check_int(n_walkers, "n_walkers"), backend.check_int(n_steps,
                                                                                      "n_steps")
    T, sigma, rng = backend.check_positive(T, "T"), backend.check_positive(sigma, "sigma"), \
        backend.check_rng(rng)
    dx = sigma * math.sqrt(T / n_steps)                                       # Eq. (111)
    signs = xp.where(rng.random((n_steps, n_walkers)) < 0.5, -dx, dx)         # Rademacher
    return xp.concatenate([xp.zeros((1, n_walkers)), xp.cumsum(signs, axis=0)])   # Eq. (109)
