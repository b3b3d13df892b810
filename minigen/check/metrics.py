"""Check a student's sliced Wasserstein distance (notes §4.2 Eq. (59)-(60), §4.4).

    SW_2^2(x, y) = E_theta W_2^2(<theta, x>, <theta, y>),  theta uniform on the unit sphere,
and in 1-D W_2^2 of Eq. (60) between two n-point clouds matches the sorted points:
1/n sum_i (x_(i) - y_(i))^2. Oracles: in 1-D every unit theta is +-1, so SW_2 is that exact W_2.
For y = (s x + v) in shuffled order, s > 0, each direction gives exactly theta^T A theta with
A = (s-1)^2 X^T X / n + (s-1)(v xbar^T + xbar v^T) + v v^T, so E SW_2^2 = tr A / d and the mean
over P directions has the variance ((tr A)^2 + 2 tr A^2) / (d (d+2)) - (tr A / d)^2, over P.
Bonneel et al. 2015 (sliced and Radon Wasserstein barycenters).
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import (Contract, Exercise, Measurement, Property,
                                    StudentError)
from minigen.check.gan import device, number

N_POINTS, N_PROJ = 16, 8192
TRANSLATIONS = [(2, [3.0, 4.0]), (3, [1.0, -2.0, 2.0]), (5, [0.8, 0.8, -0.8, 0.8, 0.8])]
SCALINGS = [(2, 2.0, [0.0, 0.0]), (3, 0.5, [1.0, 0.0, -1.0]), (4, 3.0, [0.0, 0.0, 0.0, 0.0])]

CONTRACT = Contract(
    function="sliced_wasserstein",
    params=("x", "y", "rng", "n_projections=128"),
    title="Exercise: the sliced Wasserstein distance SW_2, notes §4.2 Eq. (60), §4.4",
    doc="""The sliced Wasserstein distance SW_2 between two clouds of n points.

x, y: (n, d) arrays, the same n.
rng: a numpy.random.Generator; draw every random number from it.
n_projections: the number P of random directions theta, uniform on the unit sphere.
Returns a float, SW_2 (not squared) = sqrt(mean over the P directions of
    1/n sum_i (sort<theta, x>_i - sort<theta, y>_i)^2), the 1-D W_2^2 of Eq. (60).""")


class Prediction:
    """A named mistake's prediction with the standard error the estimate would have under it."""

    def __init__(self, mean, se):
        self.mean, self.se = np.asarray(mean, float), np.asarray(se, float)


class StatMeasurement(Measurement):
    """A Measurement whose named mistakes may carry their own SE (a Prediction)."""

    def deviations(self, expected=None):
        if isinstance(expected, Prediction):
            est = np.atleast_1d(np.asarray(self.estimate, dtype=float))
            z = np.abs(est - expected.mean) / np.maximum(expected.se, 1e-300)
            return np.where(np.isfinite(z), z, np.inf)
        return super().deviations(expected)


def _tol(scale=1.0):
    return (1e-9 if backend.float_dtype() == np.float64 else 1e-4) * max(1.0, abs(scale))


def _sw(student, ctx, x, y, n_projections, stream=None):
    rng = ctx.rng(stream)
    out = ctx.call(student, device(x), device(y), rng, n_projections)
    sw = number(out, "the returned distance")
    if rng.draws == 0 and x.shape[1] > 1:
        raise StudentError("your sliced_wasserstein drew no random numbers from rng: draw the "
                           "directions theta from the rng argument")
    if sw < 0:
        raise StudentError(f"the returned distance is negative ({sw:.3g})")
    return sw


def contract(student, ctx):
    """One number >= 0, drawn from rng: the same rng stream gives the same value."""
    g = np.random.default_rng(4000 + ctx.seed)
    x, y = g.standard_normal((10, 3)), 1.0 + g.standard_normal((10, 3))
    a, b = (_sw(student, ctx, x, y, 32, stream=1) for _ in range(2))
    return Measurement([float(a != b)], [0.0], tol=0.5, labels=["two calls with the same seed"],
                       mistakes={"random numbers drawn from a global state (np.random), not "
                                 "from rng: two calls with the same rng differ": [1.0]})


def wasserstein_1d(x, y, p=2, sort=(True, True), ddof=0, square=False):
    """Exact W_p (p = 1, 2) between two 1-D clouds of n points, (n,) or (n, 1): the sorted
    points matched in order (Eq. (60)). The other flags are named mistakes: points paired as
    given, 1 / (n - 1), W_2^2."""
    x, y = np.ravel(x), np.ravel(y)
    a, b = (np.sort(v) if s else v for v, s in zip((x, y), sort))
    if p == 1:
        return float(np.mean(np.abs(a - b)))
    w2 = np.sum((a - b) ** 2) / (len(a) - ddof)
    return float(w2 if square else np.sqrt(w2))


def one_d(student, ctx):
    """d = 1: the directions are +-1 and SW_2 is the exact W_2 of the sorted samples (Eq. 60)."""
    g = np.random.default_rng(4100 + ctx.seed)
    x1 = g.standard_normal((9, 1))
    cases = [("N(0, 1) vs N(1.5, 4), n = 9", x1, 1.5 + 2.0 * g.standard_normal((9, 1))),
             ("x vs x shuffled: 0", x1, g.permutation(x1)),
             ("{0, 1, 2} vs {5, 3, 4}: 3", np.array([[0.0], [1.0], [2.0]]),
              np.array([[5.0], [3.0], [4.0]])),
             ("Exp(1) vs U[0, 3], n = 12", g.exponential(1.0, (12, 1)),
              g.uniform(0.0, 3.0, (12, 1)))]
    est = [_sw(student, ctx, x, y, 8) for _, x, y in cases]
    exp = [wasserstein_1d(x, y) for _, x, y in cases]
    flags = {"returns the squared distance SW_2^2": dict(square=True),
             "samples not sorted: points paired in the order given": dict(sort=(False, False)),
             "only x sorted": dict(sort=(True, False)),
             "W_1, the mean of |x_(i) - y_(i)|, not W_2": dict(p=1),
             "1 / (n - 1) in place of 1 / n": dict(ddof=1)}
    mistakes = {name: [wasserstein_1d(x, y, **f) for _, x, y in cases]
                for name, f in flags.items()}
    return Measurement(est, exp, tol=_tol(max(exp)), labels=[c[0] for c in cases],
                       mistakes=mistakes)


def sphere_moments(A, d):
    """Mean and variance of theta^T A theta, theta uniform on the unit sphere of R^d."""
    t, t2 = np.trace(A), np.trace(A @ A)
    return t / d, (t * t + 2.0 * t2) / (d * (d + 2)) - (t / d) ** 2


def _affine_case(g, d, s, v):
    """x (n, d) and y = (s x + v) in shuffled order, A and the unsorted pairing's C."""
    v = np.asarray(v, float)
    # anisotropic, so that theta^T A theta varies with theta (a per-projection root shows)
    x = 0.5 + g.standard_normal((N_POINTS, d)) * np.linspace(2.0, 0.2, d)
    y = g.permutation(s * x + v)
    M, xbar = x.T @ x / N_POINTS, x.mean(axis=0)
    A = (s - 1) ** 2 * M + (s - 1) * (np.outer(v, xbar) + np.outer(xbar, v)) + np.outer(v, v)
    C = (x - y).T @ (x - y) / N_POINTS
    return x, y, A, C


def _affine(student, ctx, cases, seed, per_projection_root):
    g = np.random.default_rng(seed + ctx.seed)
    est, exp, se, labels = [], [], [], []
    pred = {"projections not normalized: theta ~ N(0, I), not uniform on the unit sphere": [],
            "samples not sorted: points paired in the order given": [],
            "returns the squared distance SW_2^2": []}
    if per_projection_root:
        pred["the square root taken per projection (the mean over theta of W_2, or W_1)"] = []
    for d, s, v in cases:
        x, y, A, C = _affine_case(g, d, s, v)
        est.append(_sw(student, ctx, x, y, N_PROJ) ** 2)             # the estimate of SW_2^2
        mu, var = sphere_moments(A, d)
        exp.append(mu)
        se.append(math.sqrt(var / N_PROJ))
        pred["projections not normalized: theta ~ N(0, I), not uniform on the unit sphere"].append(
            (np.trace(A), math.sqrt(2.0 * np.trace(A @ A) / N_PROJ)))
        mu_c, var_c = sphere_moments(C, d)
        pred["samples not sorted: points paired in the order given"].append(
            (mu_c, math.sqrt(var_c / N_PROJ)))
        pred["returns the squared distance SW_2^2"].append(
            (mu * mu + var / N_PROJ, 2.0 * mu * math.sqrt(var / N_PROJ)))
        if per_projection_root:
            # s = 1: each direction gives |<theta, v>|; E |theta_1| on the sphere of R^d
            r = np.linalg.norm(v)
            m1 = math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d + 1) / 2))
            mean1, sd1 = r * m1, r * math.sqrt(1.0 / d - m1 * m1)
            pred["the square root taken per projection (the mean over theta of W_2, or W_1)"] \
                .append((mean1 * mean1, 2.0 * mean1 * sd1 / math.sqrt(N_PROJ)))
        labels.append(f"d = {d}, s = {s:g}, |v| = {np.linalg.norm(v):.3g}")
    mistakes = {name: Prediction(*zip(*vals)) for name, vals in pred.items()}
    return StatMeasurement(est, exp, se, labels=labels, mistakes=mistakes)


def translation(student, ctx):
    """y = x + v (shuffled): SW_2^2 = E <theta, v>^2 = |v|^2 / d."""
    return _affine(student, ctx, [(d, 1.0, v) for d, v in TRANSLATIONS], 4200, True)


def scaling(student, ctx):
    """y = s x + v (shuffled): SW_2^2 = tr A / d, A of the module docstring."""
    return _affine(student, ctx, SCALINGS, 4300, False)


def pilot(student, ctx):
    g = np.random.default_rng(4400 + ctx.seed)
    x, y = g.standard_normal((N_POINTS, 3)), g.standard_normal((N_POINTS, 3))
    P = 256
    seconds = ctx.timed(lambda: _sw(student, ctx, x, y, P))
    total = N_PROJ * (len(TRANSLATIONS) + len(SCALINGS)) + 4 * 8 + 2 * 32   # projections
    return seconds, total / P


HINT = ("notes §4.2, Eq. (59)-(60) with m = 2: in 1-D the optimal coupling matches sorted points; "
        "SW_2 = sqrt(mean over theta of W_2^2), theta = g / |g| with g ~ N(0, I_d) (uniform on "
        "the unit sphere, §4.4)")
CHECKS = "minigen.metrics"
EXERCISES = [Exercise(
    name="sliced_wasserstein", aliases=("sw", "swd"), contract=CONTRACT, pilot=pilot,
    vectorize_over="projections (project onto every theta with one matrix product and sort all "
                   "the projections at once, no Python loop over them)",
    properties=[
        Property("contract", "returns one number >= 0, draws its directions from rng: same "
                 "seed, same value", contract, "draw every random number from the rng argument"),
        Property("one_d", "in 1-D, SW_2 is the exact W_2 of the sorted samples (Eq. 60)", one_d,
                 HINT, ("contract",)),
        Property("translation", "for y = x + v, SW_2^2 = |v|^2 / d (theta uniform on the "
                 "sphere)", translation, HINT, ("contract",)),
        Property("scaling", "for y = s x + v, SW_2^2 = tr A / d (module docstring)", scaling,
                 HINT, ("contract",)),
    ])]
