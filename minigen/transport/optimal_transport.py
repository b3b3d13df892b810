"""Optimal transport between point clouds: Monge's assignment, Kantorovich's plan, Sinkhorn.

    Monge (Eq. 56):  min over permutations s of 1/n sum_i c(x_i, y_s(i))
    Kantorovich (Eq. 58-60):  min over plans P >= 0, P 1 = a, P^T 1 = b of <C, P>
    Sinkhorn:  min <C, P> - eps H(P), solved by P = exp((f_i + g_j - C_ij) / eps)
For uniform weights a = b = 1/n the Kantorovich optimum is a permutation (Birkhoff), so the
relaxation loses nothing there. Its dual, max_{f_i + g_j <= C_ij} <a, f> + <b, g>, with C = |x - y|
becomes Kantorovich-Rubinstein's sup over 1-Lipschitz f of E_p f - E_q f (Th. 3, Eq. (62)): the
WGAN critic is a learned dual potential. Notes §4.2, Eq. (56)-(62).  Monge 1781; Kantorovich 1942;
Kuhn 1955 (Hungarian method); Cuturi 2013 (arXiv:1306.0895); Peyre & Cuturi 2019 (1803.00567).
"""
import math
from typing import NamedTuple

from minigen import backend
from minigen.backend import xp


class EntropicPlan(NamedTuple):
    """Sinkhorn's output: plan (n, m), cost = <C, plan>, dual potentials f (n,), g (m,)."""
    plan: object
    cost: float
    f: object
    g: object
    n_iter: int


def cost_matrix(x, y, p=2):
    """C_ij = |x_i - y_j|^p (Euclidean norm): x (n, d), y (m, d) -> (n, m)."""
    x = backend.as_points(x, "x")
    y = backend.as_points(y, "y", d=x.shape[1])
    p = backend.check_positive(p, "p")
    d2 = xp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=2)                  # (n, m)
    return d2 if p == 2 else xp.sqrt(d2) ** p


def _square_cost(cost):
    cost = backend.asarray(cost, "cost")
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1] or cost.shape[0] == 0:
        raise ValueError(f"cost must be a square (n, n) matrix; got shape {tuple(cost.shape)}")
    return backend.check_finite(cost, "cost")


def assignment(cost):
    """Monge's problem on n points (Eq. 56): the permutation s minimising sum_i cost[i, s(i)].

    cost: (n, n). Returns s, an (n,) integer array: x_i goes to y_s(i). Exact, O(n^3): Kuhn's
    Hungarian method in its shortest-augmenting-path form; row i is added with potentials u, v
    kept feasible (u_i + v_j <= C_ij, tight on matched pairs), the complementary slackness of the
    Kantorovich dual. Each step is one vector operation over the n columns.
    """
    C = _square_cost(cost)
    n = C.shape[0]
    C = xp.concatenate([xp.zeros((1, n + 1)), xp.concatenate([xp.zeros((n, 1)), C], axis=1)])
    u, v = xp.zeros(n + 1), xp.zeros(n + 1)
    row_of = xp.zeros(n + 1, dtype=int)     # row_of[j]: the row matched to column j, 0 = none
    for i in range(1, n + 1):
        j0, cols = 0, xp.arange(n + 1)
        row_of = xp.where(cols == 0, i, row_of)
        min_slack, came_from = xp.full(n + 1, math.inf), xp.zeros(n + 1, dtype=int)
        used, in_tree = cols < 0, cols < 0      # columns, and rows, reached so far
        while True:                 # Dijkstra on reduced costs, from row i to a free column
            used = used | (cols == j0)
            i0 = int(row_of[j0])
            in_tree = in_tree | (cols == i0)
            slack = C[i0] - u[i0] - v                                           # (n + 1,)
            better = (~used) & (slack < min_slack)
            min_slack = xp.where(better, slack, min_slack)
            came_from = xp.where(better, j0, came_from)
            j1 = int(xp.argmin(xp.where(used, math.inf, min_slack)))
            delta = min_slack[j1]
            # dual step on the tree: u_i + v_j <= C_ij stays true, tight on the tree's edges
            u = xp.where(in_tree, u + delta, u)
            v = xp.where(used, v - delta, v)
            min_slack = xp.where(used, min_slack, min_slack - delta)
            j0 = j1
            if int(row_of[j0]) == 0:
                break
        path = [j0]                 # augment: flip the matching along the path back to row i
        while path[-1]:
            path.append(int(came_from[path[-1]]))
        new = [int(row_of[j]) for j in path[1:]]
        for j, r in zip(path[:-1], new):
            row_of = xp.where(cols == j, r, row_of)
    perm = [0] * n
    for j, r in enumerate(backend.to_numpy(row_of)[1:].tolist()):
        perm[r - 1] = j                             # row r (1-based) goes to column j
    return xp.asarray(perm)


def _weights(w, n, name):
    w = backend.asarray(w, name)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match cost; got {tuple(w.shape)}")
    if not bool(xp.all(w > 0)) or abs(float(xp.sum(w)) - 1.0) > 1e-6:
        raise ValueError(f"{name} must hold positive weights summing to 1; got sum "
                         f"{float(xp.sum(w)):.12g}, min {float(xp.min(w)):.3g}")
    return w


def _logsumexp(z, axis):
    m = xp.max(z, axis=axis, keepdims=True)
    return xp.squeeze(m, axis) + xp.log(xp.sum(xp.exp(z - m), axis=axis))


def sinkhorn(a, b, cost, eps, *, tol=None, max_iter=100_000, log_domain=True):
    """Kantorovich's problem with entropy: argmin_{P 1 = a, P^T 1 = b} <C, P> - eps H(P).

    a: (n,), b: (m,) positive weights summing to 1; cost: (n, m); eps > 0, in the units of cost.
    Alternate projections on the two marginal constraints, in the log domain:
        f <- eps log a - eps logsumexp_j((g_j - C_ij) / eps),   likewise g from f,
    until both marginals of P = exp((f_i + g_j - C_ij) / eps) match a and b to tol in L1 (None:
    1e-9 in float64, 1e-4 in float32). As eps -> 0, <C, P> decreases to the optimal cost, with
    0 <= <C, P> - OT <= eps (H(a) + H(b) - H(P*)) (= eps log n for a permutation P*, a = b = 1/n);
    eps is halved from the cost's range down to eps (each stage warm-started), and Newton steps on
    the dual take over when the alternation stalls (near-ties make it slow as eps -> 0).
    log_domain=False runs the textbook scaling
    u = a / (K v), K = exp(-C / eps), which underflows once C / eps passes ~700: it then raises
    FloatingPointError instead of returning NaN. Returns EntropicPlan(plan, cost, f, g, n_iter).
    """
    C = backend.check_finite(backend.asarray(cost, "cost"), "cost")
    if C.ndim != 2 or 0 in C.shape:
        raise ValueError(f"cost must be an (n, m) matrix; got shape {tuple(C.shape)}")
    a, b = _weights(a, C.shape[0], "a"), _weights(b, C.shape[1], "b")
    eps = backend.check_positive(eps, "eps")
    if tol is None:
        tol = 1e-9 if backend.float_dtype().itemsize == 8 else 1e-4
    tol = backend.check_positive(tol, "tol")
    max_iter = backend.check_int(max_iter, "max_iter")
    if not backend.check_flag(log_domain, "log_domain"):
        return _sinkhorn_kernel(a, b, C, eps, tol, max_iter)
    f, g = xp.zeros(C.shape[0]), xp.zeros(C.shape[1])
    log_a, log_b = xp.log(a), xp.log(b)
    # eps-scaling: halve eps from the cost's range down to eps, each stage warm-started
    scale = float(xp.max(C) - xp.min(C))
    stages = [scale / 2 ** k for k in range(64) if scale / 2 ** k > eps] + [eps]
    n_iter = 0
    for e in stages:
        stage_tol = tol if e == eps else max(tol, 1e-3)
        for k in range(max_iter - n_iter):
            n_iter += 1
            f = e * (log_a - _logsumexp((g[None, :] - C) / e, axis=1))
            g = e * (log_b - _logsumexp((f[:, None] - C) / e, axis=0))
            if _error(f, g, C, a, b, e) <= stage_tol:
                break
            if k % 20 == 19:                # slow (near-ties): Newton steps on the dual
                f, g = _newton(f, g, C, a, b, e, stage_tol)
    plan = xp.exp((f[:, None] + g[None, :] - C) / eps)                            # (n, m)
    if _error(f, g, C, a, b, eps) <= tol:
        return EntropicPlan(plan, float(xp.sum(plan * C)), f, g, n_iter)
    raise RuntimeError(f"sinkhorn did not reach tol={tol:g} in max_iter={max_iter} iterations "
                       f"(eps={eps:g}): small eps needs ~1/eps iterations; raise max_iter or eps")


def _error(f, g, C, a, b, eps):
    """L1 error of both marginals of P = exp((f + g - C) / eps)."""
    P = xp.exp((f[:, None] + g[None, :] - C) / eps)
    return float(xp.sum(xp.abs(xp.sum(P, axis=1) - a)) + xp.sum(xp.abs(xp.sum(P, axis=0) - b)))


def _newton(f, g, C, a, b, eps, tol, n_steps=30):
    """Newton's method on the concave dual <a, f> + <b, g> - eps sum_ij P_ij, with g_m fixed
    (the dual is invariant under f + c, g - c) and a backtracking line search (Brauer et al.
    2017, arXiv:1710.06635). Returns the improved (f, g)."""
    n, m = C.shape

    def dual(f, g):
        z = xp.minimum((f[:, None] + g[None, :] - C) / eps, 700.0)
        return float(a @ f + b @ g - eps * xp.sum(xp.exp(z)))
    for _ in range(n_steps):
        P = xp.exp((f[:, None] + g[None, :] - C) / eps)
        r, c = a - xp.sum(P, axis=1), b - xp.sum(P, axis=0)
        if float(xp.sum(xp.abs(r)) + xp.sum(xp.abs(c))) <= tol:
            break
        H = xp.concatenate([xp.concatenate([xp.diag(xp.sum(P, axis=1)), P[:, :-1]], axis=1),
                            xp.concatenate([P[:, :-1].T, xp.diag(xp.sum(P, axis=0)[:-1])],
                                           axis=1)])                             # (n+m-1,)^2
        H = H + 1e-13 * float(xp.max(H)) * xp.eye(n + m - 1)      # P's underflowed rows
        step = eps * xp.linalg.solve(H, xp.concatenate([r, c[:-1]]))
        if not bool(xp.all(xp.isfinite(step))):
            break
        df, dg = step[:n], xp.concatenate([step[n:], xp.zeros(1)])
        t, old = 1.0, dual(f, g)
        while t > 1e-6 and not dual(f + t * df, g + t * dg) >= old:
            t *= 0.5
        if t <= 1e-6:
            break
        f, g = f + t * df, g + t * dg
    return f, g


def _sinkhorn_kernel(a, b, C, eps, tol, max_iter):
    """The same iteration on u = e^{f/eps}, v = e^{g/eps} and K = e^{-C/eps} (Cuturi 2013)."""
    K = xp.exp(-C / eps)
    v = xp.ones(C.shape[1])
    for k in range(1, max_iter + 1):
        u = a / (K @ v)
        v = b / (K.T @ u)
        if not (bool(xp.all(xp.isfinite(u))) and bool(xp.all(xp.isfinite(v)))):
            raise FloatingPointError(
                f"sinkhorn(log_domain=False): exp(-C / eps) underflows (max C / eps = "
                f"{float(xp.max(C)) / eps:.0f}), u or v became inf or NaN at iteration {k}; "
                "use log_domain=True (the default) or a larger eps")
        plan = u[:, None] * K * v[None, :]
        if float(xp.sum(xp.abs(xp.sum(plan, axis=1) - a))
                 + xp.sum(xp.abs(xp.sum(plan, axis=0) - b))) <= tol:
            return EntropicPlan(plan, float(xp.sum(plan * C)), eps * xp.log(u),
                                eps * xp.log(v), k)
    raise RuntimeError(f"sinkhorn did not reach tol={tol:g} in max_iter={max_iter} iterations "
                       f"(eps={eps:g}); raise max_iter or eps")


def _line(x, name):
    x = backend.asarray(x, name)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"{name} must be 1-D points, shape (n,) or (n, 1); got {tuple(x.shape)}")
    return backend.check_finite(x, name)


def wasserstein_1d(x, y, p=1):
    """W_p between the empirical laws of x (n,) and y (m,) on the line, by sorting (Eq. 59).

    In 1D the optimal plan is monotone: W_p^p = int_0^1 |F^-1(u) - G^-1(u)|^p du, the quantile
    functions being steps at i/n and j/m; for n = m it is 1/n sum_i |x_(i) - y_(i)|^p. Returns
    W_p (the p-th root), a float; O((n + m) log(n + m)). In d > 1,
    minigen.metrics.sliced_wasserstein averages this over random directions (SW_2).
    """
    x, y = xp.sort(_line(x, "x")), xp.sort(_line(y, "y"))
    p = backend.check_number(p, "p", low=1.0)
    n, m = x.shape[0], y.shape[0]
    u = xp.sort(xp.concatenate([xp.arange(1, n + 1) / n, xp.arange(1, m + 1) / m]))
    width = u - xp.concatenate([xp.zeros(1), u[:-1]])                          # (n + m,)
    mid = u - 0.5 * width
    i = xp.minimum(xp.floor(mid * n).astype(int), n - 1)       # F^-1 is x_(i) on [i/n, (i+1)/n)
    j = xp.minimum(xp.floor(mid * m).astype(int), m - 1)
    return float(xp.sum(width * xp.abs(x[i] - y[j]) ** p)) ** (1.0 / p)
