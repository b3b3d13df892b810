"""Ordinary differential equations dx/dt = V_t(x): the integrators the rooms share, and Liouville.

integrate: explicit Runge-Kutta schemes written as data (Butcher tableaux): Euler's
x_{t+h} = x_t + h V_t(x_t) (notes §5.2, Eq. (87)-(88)), Heun, RK4 (Runge 1895, Kutta 1901).
picard: the iterates x_{k+1}(t) = x_0 + int V(s, x_k(s)) ds of Cauchy-Lipschitz's proof (Eq. 89-95).
log_prob_ode: Liouville's d log p_t(x_t)/dt = -div V_t(x_t) (§5.3, Eq. (96)-(97)), the divergence
exact (autograd) or by Hutchinson's estimator (Hutchinson 1989; Grathwohl et al. 2019,
arXiv:1810.01367). leapfrog: the symplectic splitting of Hamilton's equations dq/dt = grad K(p),
dp/dt = -grad V(q) (§2.8.1, Eq. (10)-(12)), used by the Hamiltonian flow and by HMC.
"""
import math

from autograd import make_vjp

from minigen import backend
from minigen.backend import xp
from minigen.progress import steps

# An explicit scheme is a Butcher tableau (c, a, b): stage i evaluates k_i = V(x + h sum_j a_ij k_j,
# t + c_i h), and the step is x + h sum_i b_i k_i. A new scheme is a new row.
TABLEAUX = {
    "euler": ((0.0,), ((),), (1.0,)),                                           # Eq. (88)
    "midpoint": ((0.0, 0.5), ((), (0.5,)), (0.0, 1.0)),
    "heun": ((0.0, 1.0), ((), (1.0,)), (0.5, 0.5)),
    "rk4": ((0.0, 0.5, 0.5, 1.0), ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
            (1 / 6, 1 / 3, 1 / 3, 1 / 6)),
}
ORDERS = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def step(velocity, x, t, h, method="rk4"):
    """One explicit Runge-Kutta step x_t -> x_{t+h}; x: (n, d); h may be negative (backwards).

    method: a name of TABLEAUX or a tableau (c, a, b) itself. No checks: integrate makes them.
    """
    c, a, b = TABLEAUX[method] if isinstance(method, str) else method
    k = []
    for c_i, a_i in zip(c, a):
        k.append(velocity(x + h * sum(a_ij * k_j for a_ij, k_j in zip(a_i, k) if a_ij),
                          t + c_i * h))
    return x + h * sum(b_i * k_i for b_i, k_i in zip(b, k) if b_i)


def integrate(velocity, x0, times, method="rk4", *, progress=None):
    """Solve dx/dt = velocity(x, t) on the grid times, one step per interval (Eq. 87).

    velocity: (x (n, d), t float) -> (n, d), applied to each point (row) independently.
    x0: (n, d), the state at times[0]. times: 1-D, strictly increasing or strictly decreasing
    (backwards in time), finite. method: "euler" (order 1, Eq. 88), "midpoint" or "heun"
    (order 2), "rk4" (order 4), or a tableau (c, a, b) (see TABLEAUX).
    Returns the path (len(times), n, d); path[0] = x0. A point whose state becomes NaN or inf
    raises FloatingPointError naming the step (outside autograd's trace).
    """
    return _run(velocity, x0, times, method, progress, keep_path=True)


def picard(velocity, x0, times, n_iter):
    """Picard's iterates x_0(t) = x0, x_{k+1}(t) = x0 + int_{t_0}^t V(s, x_k(s)) ds (Eq. 90-91).

    The integral is the trapezoidal rule on the grid times. By Eq. (95), on |t - t_0| < 1/k (k: the
    Lipschitz constant of V) the map is contracting and the iterates converge to the solution;
    for V = a x they are the Taylor sums of exp(a t) x0. Returns (n_iter + 1, len(times), n, d).
    """
    velocity = _checked(velocity)
    x0 = backend.as_points(x0, "x0")
    grid = _check_times(times)
    n_iter = backend.check_int(n_iter, "n_iter", low=0)
    h = backend.asarray([t1 - t0 for t0, t1 in zip(grid[:-1], grid[1:])], "times")[:, None, None]
    iterates = [xp.stack([x0] * len(grid))]                           # x_0(t) = x0
    for _ in range(n_iter):
        v = xp.stack([velocity(iterates[-1][j], t) for j, t in enumerate(grid)])  # (m, n, d)
        area = xp.cumsum(0.5 * (v[1:] + v[:-1]) * h, axis=0)                # int_{t_0}^{t_j}
        iterates.append(x0 + xp.concatenate([0.0 * x0[None], area]))        # Eq. (90)-(91)
    return xp.stack(iterates)


def divergence(velocity, x, t, rng=None, n_probes=0, *, probe="rademacher"):
    """div V_t(x) = tr dV/dx at each point: exact (n_probes = 0) or Hutchinson's estimate.

    velocity: (x (n, d), t) -> (n, d), row by row. x: (n, d); t: float.
    n_probes = 0: the trace of autograd's Jacobian, one vector-Jacobian product per coordinate
    (d products, each for all n points at once): for small d. n_probes = P > 0: Hutchinson's
    unbiased estimate (1/P) sum_p z_p^T (dV/dx) z_p with E[z z^T] = I; rng draws the probes,
    probe = "rademacher" (z_i = +-1: the smaller variance, 2 sum_{i != j} S_ij^2 / P with
    S = (J + J^T)/2) or "gaussian" (variance 2 ||S||_F^2 / P). Returns (n,).
    """
    x = backend.as_points(x, "x")
    probes = _probes(x.shape, rng, n_probes, probe)
    return _divergence(_checked(velocity), x, t, probes)[0]


def log_prob_ode(velocity, x, times, base_log_prob, *, method="rk4", rng=None, n_probes=0,
                 probe="rademacher", progress=None):
    """log p(x) of the law transported by dx/dt = V_t(x) from the base law (Eq. 96-97).

    Time runs from the base, at times[0], to the data, at times[-1] (times = linspace(0, 1, m):
    the base p_0 at t = 0, the model p_1 at t = 1). x: (n, d), points at times[-1].
    Along a trajectory d log p_t(x_t)/dt = -div V_t(x_t) (Eq. 97 with Eq. 96), so the state
    (x_t, l_t) with l = log p_t(x_t) - log p_1(x) is integrated backwards from (x, 0) at times[-1]
    to (x_0, l_0) at times[0] by `method`, and
        log p_1(x) = log p_0(x_0) - l_0 = log p_0(x_0) - int div V_t(x_t) dt.
    base_log_prob: (n, d) -> (n,), the base's log-density. The divergence is exact by default,
    or Hutchinson's with n_probes probes drawn once (rng) and kept along the trajectory.
    The error is that of `method` on the grid (RK4 on a few hundred steps: ~1e-6). Returns (n,).
    """
    x = backend.as_points(x, "x")
    backend.check_callable(base_log_prob, "base_log_prob", "(n, d) -> (n,)",
                           methods={"log_prob": "base_log_prob=base.log_prob"})
    velocity = _checked(velocity)
    probes = _probes(x.shape, rng, n_probes, probe)
    d = x.shape[1]

    def augmented(s, t):                                              # (n, d + 1)
        y = s[:, :d]
        div, v = _divergence(velocity, y, t, probes)
        return xp.concatenate([v, -div[:, None]], axis=1)                # Eq. (96)-(97)

    s1 = xp.concatenate([x, 0.0 * x[:, :1]], axis=1)
    s0 = _run(augmented, s1, _check_times(times)[::-1], method, progress, keep_path=False)
    return base_log_prob(s0[:, :d]) - s0[:, d]


def _run(velocity, x0, times, method, progress, keep_path):
    """The fixed-grid step loop, checked; the path (len(times), n, d) or the last state."""
    velocity = _checked(velocity)
    x = backend.as_points(x0, "x0")
    grid = _check_times(times)
    method = _check_method(method)
    path = [x]
    for k in steps(len(grid) - 1, "ode", progress):
        t, h = grid[k], grid[k + 1] - grid[k]
        x_new = step(velocity, x, t, h, method)
        # checked outside autograd's trace (there the arrays are boxes)
        if isinstance(x_new, backend.active().array_type) and backend.count_bad_rows(x_new):
            _diverged(velocity, x, x_new, k, t, h)
        x = x_new
        if keep_path:
            path.append(x)
    return xp.stack(path) if keep_path else x


def _diverged(velocity, x, x_new, k, t, h):
    bad = backend.count_bad_rows(x_new)
    if backend.count_bad_rows(velocity(x, t)):
        why = "the velocity returned NaN or inf there"
    else:
        why = (f"the step |h| = {abs(h):.3g} is too large for the velocity (an explicit scheme is "
               "stable only while |h| |dV/dx| < 2 to 2.8): use a finer grid of times")
    raise FloatingPointError(f"integrate: {bad} of {x.shape[0]} points became NaN or inf at "
                             f"step {k} (t = {t:.4g} -> {t + h:.4g}): {why}")


def _checked(velocity):
    """velocity, with the shape of what it returns checked against x at every call."""
    backend.check_callable(velocity, "velocity", "(x (n, d), t) -> (n, d)")

    def v(x, t):
        out = velocity(x, t)
        if tuple(getattr(out, "shape", ())) != tuple(x.shape):
            raise ValueError(f"velocity(x, t) must return an array of the shape of x, "
                             f"{tuple(x.shape)}; got {type(out).__name__} of shape "
                             f"{getattr(out, 'shape', None)} at t={t}")
        return out
    return v


def _check_times(times):
    """times as a list of floats: 1-D, at least 2, finite, strictly monotone."""
    grid = backend.to_numpy(backend.asarray(times, "times"))
    if grid.ndim != 1 or grid.shape[0] < 2:
        raise ValueError(f"times must be a 1-D grid of at least 2 times; got shape {grid.shape}")
    grid = [float(t) for t in grid]
    if not all(math.isfinite(t) for t in grid):
        raise ValueError(f"times must be finite; got {grid}")
    h = [t1 - t0 for t0, t1 in zip(grid[:-1], grid[1:])]
    if not (all(s > 0 for s in h) or all(s < 0 for s in h)):
        raise ValueError(f"times must be strictly increasing or strictly decreasing: {grid[:6]}")
    return grid


def _check_method(method):
    if isinstance(method, str):
        return backend.check_choice(method, "method", TABLEAUX)
    try:
        c, a, b = method
        ok = len(c) == len(a) == len(b) > 0 and all(len(r) == i for i, r in enumerate(a))
        ok = ok and all(math.isfinite(float(v)) for v in (*c, *b, *(v for r in a for v in r)))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"method must be one of {sorted(TABLEAUX)} or an explicit tableau "
                         f"(c, a, b), a[i] of length i; got method={method!r}")
    return method


def _probes(shape, rng, n_probes, probe):
    """None (the exact trace) or P random probes z (P, n, d) with E[z z^T] = I."""
    n_probes = backend.check_int(n_probes, "n_probes", low=0)
    probe = backend.check_choice(probe, "probe", ("rademacher", "gaussian"))
    if n_probes == 0:
        return None
    z = backend.check_rng(rng).standard_normal((n_probes, *shape))
    if probe == "rademacher":
        z = xp.where(z < 0, -xp.ones_like(z), xp.ones_like(z))   # the sign of a Gaussian: +-1
    return z


def _divergence(velocity, x, t, probes):
    """(div V(x) (n,), V(x) (n, d)): one forward pass, then d (exact) or P vector-Jacobian
    products, each for all the points at once (rows do not interact)."""
    vjp, v = make_vjp(lambda y: velocity(y, t))(x)
    if probes is None:                                                # sum_i (e_i^T J)_i
        eye = xp.eye(x.shape[1])
        return sum(vjp(xp.zeros(tuple(x.shape)) + eye[i])[:, i] for i in range(x.shape[1])), v
    return sum(xp.sum(vjp(z) * z, axis=1) for z in probes) / len(probes), v    # mean z^T J z


def leapfrog(q, p, grad_V, grad_K, step_size, n_steps=1):
    """n_steps leapfrog steps of H = V(q) + K(p); q, p: (n, d); grad_V, grad_K: (n, d) -> (n, d).

    One step of size eps (half kick, drift, half kick):
        p <- p - (eps/2) grad V(q),   q <- q + eps grad K(p),   p <- p - (eps/2) grad V(q)
    is a composition of three shears: det J = 1, symplectic, and
    leapfrog(*leapfrog(q, p, .., eps), .., -eps) = (q, p) (a negative step_size runs the dynamics
    backwards). Outside autograd's trace, a point whose state becomes NaN or inf raises
    FloatingPointError naming the step.
    """
    q, p = backend.asarray(q, "q"), backend.asarray(p, "p")
    if len(q.shape) != 2 or tuple(q.shape) != tuple(p.shape):
        raise ValueError(f"q and p must have the same shape (n, d); got q {tuple(q.shape)}, "
                         f"p {tuple(p.shape)}")
    backend.check_callable(grad_V, "grad_V", "(n, d) -> (n, d)")
    backend.check_callable(grad_K, "grad_K", "(n, d) -> (n, d)")
    if backend.check_number(step_size, "step_size") == 0:
        raise ValueError(f"step_size must be a finite non-zero number; got step_size={step_size}")
    n_steps = backend.check_int(n_steps, "n_steps")
    # the closing half kick of a step and the opening one of the next are merged into one kick
    p = p - 0.5 * step_size * grad_V(q)                    # half kick, Eq. (12)
    for k in range(n_steps):
        q = q + step_size * grad_K(p)                      # drift
        kick = step_size if k < n_steps - 1 else 0.5 * step_size
        p = p - kick * grad_V(q)                           # kick
        # checked outside autograd's trace (there the arrays are boxes)
        if isinstance(p, backend.active().array_type) and (bad := backend.count_bad_rows(q, p)):
            raise FloatingPointError(
                f"leapfrog: {bad} of {q.shape[0]} points became NaN or inf at step {k + 1} of "
                f"{n_steps} (step_size={step_size}): leapfrog is stable only while step_size * "
                "sqrt(L_V L_K) < 2 (L: the largest curvatures of V and K): take a smaller "
                "step_size (a Hamiltonian flow: its training diverged, retrain with a smaller lr)")
    return q, p
