"""Check a student's Sinkhorn and 1D Wasserstein distance (notes §4.2, Eq. (56)-(60)).

    P = diag(u) K diag(v), K = exp(-C / eps), with P 1 = a and P^T 1 = b        (Sinkhorn 1967)
    W_p^p = int_0^1 |F^-1(u) - G^-1(u)|^p du                    (on the line, by sorting)
Oracles, exact: the marginals; the Gibbs form (log P + C / eps = f_i + g_j: its double differences
vanish whatever the number of iterations); for eps -> 0 the brute-force optimum over permutations,
0 <= <C, P> - OT <= eps log n; for W_p, brute force over permutations of replicated points.
Cuturi 2013 (arXiv:1306.0895); Peyre & Cuturi 2019 (arXiv:1803.00567).
"""
import itertools
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError

TOL = 1e-6
GIBBS_EPS = (1.0, 0.3, 0.1)
SMALL_EPS = 1e-3        # C / eps ~ 1000 here: exp(-C / eps) underflows to 0


def _weights(g, n):
    w = g.random(n) + 0.2
    return w / w.sum()


def _plan(student, ctx, a, b, C, eps, finite=True):
    out = ctx.call(student, backend.asarray(a), backend.asarray(b), backend.asarray(C), eps)
    if finite:
        return ctx.array(out, C.shape, "the plan")
    try:
        P = backend.to_numpy(out).astype(float)
    except Exception:                                               # noqa: BLE001
        raise StudentError(f"the plan must be an array of shape {C.shape}") from None
    if P.shape != C.shape:
        raise StudentError(f"the plan must have shape {C.shape}; got {P.shape}")
    return P


def _cases(ctx):
    g = np.random.default_rng([ctx.seed, 7])
    return [(_weights(g, n), _weights(g, m), g.random((n, m)), eps)
            for (n, m), eps in zip([(4, 5), (6, 3), (5, 5)], GIBBS_EPS)]


def contract(student, ctx):
    """Shape (n, m), finite, entries >= 0."""
    a, b, C, eps = _cases(ctx)[0]
    P = _plan(student, ctx, a, b, C, eps)
    return Measurement([min(P.min(), 0.0)], [0.0], tol=TOL, labels=["the smallest entry"])


def marginals(student, ctx):
    est, labels = [], []
    for a, b, C, eps in _cases(ctx):
        P = _plan(student, ctx, a, b, C, eps)
        est += [P.sum(axis=1) - a, P.sum(axis=0) - b]
        labels += [f"eps = {eps:g}, row {i} sum - a_{i}" for i in range(len(a))]
        labels += [f"eps = {eps:g}, column {j} sum - b_{j}" for j in range(len(b))]
    est = np.concatenate(est)
    return Measurement(est, np.zeros(est.size), tol=TOL, labels=labels)


def _double_differences(L):
    return (L - L[:1] - L[:, :1] + L[0, 0]).ravel()


def gibbs_form(student, ctx):
    """log P_ij + C_ij / eps = f_i + g_j: the double differences vanish (to 1e-6)."""
    est, labels = [], []
    wrong = {   # the kernel exp(-s C) of each mistake, as s(eps)
        "exp(+C / eps): the kernel's sign (the plan favours costly pairs)": lambda e: -1.0 / e,
        "exp(-C eps) for exp(-C / eps)": lambda e: e,
        "exp(-C): eps ignored in the kernel": lambda e: 1.0}
    pred = {k: [] for k in wrong}
    for a, b, C, eps in _cases(ctx):
        P = _plan(student, ctx, a, b, C, eps)
        with np.errstate(divide="ignore"):
            est.append(_double_differences(np.log(P) + C / eps))
        labels += [f"eps = {eps:g}, pair ({i}, {j})" for i in range(C.shape[0])
                   for j in range(C.shape[1])]
        for k, s in wrong.items():      # log P = f + g - s C  =>  dd(C (1 / eps - s))
            pred[k].append(_double_differences(C * (1.0 / eps - s(eps))))
    cat = np.concatenate
    return Measurement(cat(est), np.zeros(sum(e.size for e in est)), tol=TOL, labels=labels,
                       mistakes={k: cat(v) for k, v in pred.items()})


def _small_case(ctx):
    g = np.random.default_rng([ctx.seed, 8])
    n = 5
    return np.ones(n) / n, 0.5 + g.random((n, n)), n


def no_overflow(student, ctx):
    """At eps = 1e-3 (C / eps ~ 1000) the plan is finite: the iteration runs in the log domain."""
    a, C, n = _small_case(ctx)
    with np.errstate(all="ignore"):
        P = _plan(student, ctx, a, a, C, SMALL_EPS, finite=False)
    return Measurement([np.mean(np.isfinite(P))], [1.0], tol=TOL,
                       labels=["fraction of finite entries of the plan"],
                       mistakes={"not in the log domain: exp(-C / eps) underflows to 0 and "
                                 "u = a / (K v) becomes inf, then NaN": [0.0]})


def small_eps_limit(student, ctx):
    """<C, P> within [OT, OT + eps log n], OT by brute force over the 5! permutations."""
    a, C, n = _small_case(ctx)
    ot = min(C[np.arange(n), list(s)].mean() for s in itertools.permutations(range(n)))
    P = _plan(student, ctx, a, a, C, SMALL_EPS)
    half = 0.5 * SMALL_EPS * math.log(n)
    return Measurement([(P * C).sum()], [ot + half], tol=half + TOL,
                       labels=["<C, P> at eps = 1e-3 against the exact optimum"],
                       mistakes={"the independent plan a b^T": [C.mean()]})


def _brute_w(x, y, p):
    L = math.lcm(len(x), len(y))
    xr, yr = np.repeat(x, L // len(x)), np.repeat(y, L // len(y))
    C = np.abs(xr[:, None] - yr[None]) ** p
    return min(C[np.arange(L), list(s)].mean() for s in itertools.permutations(range(L)))


def _w(student, ctx, x, y, p):
    out = ctx.call(student, backend.asarray(x), backend.asarray(y), p)
    try:
        value = float(backend.to_numpy(out))
    except Exception:                                               # noqa: BLE001
        raise StudentError(f"wasserstein_1d must return a number; got {type(out).__name__}") \
            from None
    if not math.isfinite(value):
        raise StudentError(f"wasserstein_1d returned {value}")
    return value


def w_contract(student, ctx):
    """A float; W_p(x, x in another order) = 0."""
    x = np.random.default_rng([ctx.seed, 9]).standard_normal(6)
    return Measurement([_w(student, ctx, x, x[::-1].copy(), p) for p in (1, 2)], [0.0, 0.0],
                       tol=TOL, labels=["W_1(x, reversed x)", "W_2(x, reversed x)"],
                       mistakes={"no sorting: x_i paired with y_i": [
                           np.mean(np.abs(x - x[::-1]) ** p) ** (1 / p) for p in (1, 2)]})


def _w_cases(ctx, sizes):
    g = np.random.default_rng([ctx.seed, 10])
    return [(g.standard_normal(n), g.exponential(size=m) - 0.5, p) for (n, m) in sizes
            for p in (1, 2, 3)]


def _w_measure(student, ctx, sizes, wrong):
    est, exp, labels, pred = [], [], [], {k: [] for k in wrong}
    for x, y, p in _w_cases(ctx, sizes):
        est.append(_w(student, ctx, x, y, p))
        exact = _brute_w(x, y, p)
        exp.append(exact ** (1 / p))
        labels.append(f"n = {len(x)}, m = {len(y)}, p = {p}")
        for k, f in wrong.items():
            pred[k].append(f(x, y, p, exact))
    return Measurement(est, exp, tol=TOL, labels=labels, mistakes=pred)


def equal_sizes(student, ctx):
    wrong = {"no sorting: x_i paired with y_i":
             lambda x, y, p, e: np.mean(np.abs(x - y) ** p) ** (1 / p),
             "the p-th root missing: returns W_p^p": lambda x, y, p, e: e,
             "a sum for the mean 1/n sum": lambda x, y, p, e: (len(x) * e) ** (1 / p)}
    return _w_measure(student, ctx, [(5, 5), (6, 6)], wrong)


def unequal_sizes(student, ctx):
    def truncated(x, y, p, e):
        k = min(len(x), len(y))
        return np.mean(np.abs(np.sort(x)[:k] - np.sort(y)[:k]) ** p) ** (1 / p)
    return _w_measure(student, ctx, [(2, 3), (3, 2), (4, 2), (1, 5)],
                      {"the larger sample truncated to the smaller's size": truncated})


HINT_S = ("notes §4.2 Eq. (58)-(60) with entropy: P = diag(u) exp(-C / eps) diag(v); alternate "
          "f <- eps log a - eps logsumexp((g - C) / eps) and the same for g, in the log domain")
HINT_W = ("notes §4.2 Eq. (59): on the line the optimal plan is monotone: sort both samples and "
          "integrate |F^-1(u) - G^-1(u)|^p over u in [0, 1], then take the p-th root")
CHECKS = "minigen.transport.optimal_transport"
EXERCISES = [
    Exercise(name="sinkhorn", aliases=("entropic_ot",), contract=Contract(
        function="sinkhorn", params=("a", "b", "cost", "eps"),
        title="Exercise: Sinkhorn's entropic transport plan, notes §4.2 Eq. (58)-(60)",
        doc="""\
The plan P minimising <cost, P> - eps H(P) with P 1 = a and P^T 1 = b.

a: (n,) and b: (m,) positive weights summing to 1; cost: (n, m); eps > 0.
Iterate until both marginals match to 1e-9. It must work for eps as small as 1e-3 with costs
of order 1 (exp(-cost / eps) underflows there: work with log-potentials).
Returns the plan: (n, m), entries >= 0."""),
        properties=[
            Property("contract", "returns an (n, m) plan, finite, >= 0", contract, HINT_S),
            Property("marginals", "P 1 = a and P^T 1 = b to 1e-6 (Eq. 58)", marginals, HINT_S,
                     ("contract",)),
            Property("gibbs_form", "log P + C / eps = f_i + g_j (the entropic optimum's form)",
                     gibbs_form, HINT_S, ("contract",)),
            Property("no_overflow", "finite at eps = 1e-3 (log domain)", no_overflow, HINT_S,
                     ("contract",)),
            Property("small_eps_limit", "<C, P> -> the optimal assignment's cost as eps -> 0",
                     small_eps_limit, HINT_S, ("marginals", "gibbs_form", "no_overflow"))]),
    Exercise(name="wasserstein_1d", aliases=("w1d",), contract=Contract(
        function="wasserstein_1d", params=("x", "y", "p"),
        title="Exercise: W_p between samples on the line, notes §4.2 Eq. (59)",
        doc="""\
W_p between the empirical laws of x (n,) and y (m,) (weights 1/n and 1/m).

x: (n,) array; y: (m,) array, n and m may differ; p >= 1.
Returns W_p (not its p-th power) as a float."""),
        properties=[
            Property("contract", "a float, 0 between a sample and itself reordered",
                     w_contract, HINT_W),
            Property("equal_sizes", "n = m: equals the optimal assignment (brute force)",
                     equal_sizes, HINT_W, ("contract",)),
            Property("unequal_sizes", "n != m: equals the optimal plan (replicated points)",
                     unequal_sizes, HINT_W, ("equal_sizes",))]),
]
