"""Check a student's conditional flow-matching loss (notes §5.2-5.3; companion overview, CFM).

    x_t = t x_1 + (1 - t) x_0,   loss = |V(x_t, t) - (x_1 - x_0)|^2   per pair (x_0 noise, x_1 data)
Oracles: the formula with fields in closed form (a linear field of x, a field of t alone: exact),
and the Bayes floor: for x_0 ~ N(0, I), x_1 ~ sum_k w_k N(mu_k, s_k^2 I) and the exact marginal
velocity V_t(x) = E[x_1 - x_0 | x_t = x], E[loss | x_t] = Var[x_1 - x_0 | x_t], written from the
Gaussian conditionals given k (variance s_k^2 / ((1 - t)^2 + t^2 s_k^2) per coordinate), 5 SE.
Lipman et al. 2023 (arXiv:2210.02747).
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import (Contract, Exercise, Measurement, Property, StudentError,
                                    tolerances)

N_EXACT, N_FLOOR = 40, 20_000
A = np.array([[0.6, -1.2], [0.4, 0.3]])                  # the linear field V = A x
C = np.array([1.5, -0.7])                                # the field of time V = t c
MIXTURE = (np.array([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]]), np.array([0.3, 0.5, 0.2]),
           np.array([0.2, 0.5, 0.3]))                    # means, stds, weights


def reference(velocity, x0, x1, t, mistake=None):
    """The loss (or the named wrong one) on host arrays: (n,)."""
    s = t[:, None]
    x_t = {"swap": (1 - s) * x1 + s * x0, "data": x1, "noise": x0}.get(mistake,
                                                                      s * x1 + (1 - s) * x0)
    target = x0 - x1 if mistake == "sign" else x1 - x0
    r = velocity(x_t, 1 - t if mistake == "one_minus_t" else t) - target
    sq = np.sum(r ** 2, axis=1)
    return {"not_squared": np.sqrt(sq), "mean": sq / x0.shape[1]}.get(mistake, sq)


def marginal(x, t, mixture=MIXTURE):
    """(V_t(x) (n, d), Var[x_1 - x_0 | x_t = x] summed over coordinates (n,)); t: (n,)."""
    means, stds, weights = mixture
    s = t[:, None]
    var = (1 - s) ** 2 + s ** 2 * stds[None] ** 2                             # (n, K)
    r = x[:, None, :] - s[:, :, None] * means[None]                            # (n, K, d)
    d = x.shape[1]
    log_w = np.log(weights) - 0.5 * d * np.log(var) - 0.5 * np.sum(r ** 2, axis=2) / var
    resp = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    resp /= resp.sum(axis=1, keepdims=True)
    cond = means[None] + ((s * stds ** 2 - (1 - s)) / var)[:, :, None] * r    # E[. | x, k]
    V = np.einsum("nk,nkd->nd", resp, cond)
    spread = np.sum((cond - V[:, None]) ** 2, axis=2)
    return V, np.sum(resp * (d * stds ** 2 / var + spread), axis=1)


class Field:
    """A velocity handed to the student: (x (n, 2) array, t (n,) array) -> (n, 2)."""

    def __init__(self, f, name):
        self.f, self.name = f, name

    def __call__(self, x, t):
        x = backend.to_numpy(x)
        if x.ndim != 2 or x.shape[1] != 2:
            raise StudentError(f"velocity takes x of shape (n, 2) and t of shape (n,); it got "
                               f"x of shape {x.shape}")
        t = np.broadcast_to(np.asarray(backend.to_numpy(t), dtype=float).reshape(-1), (len(x),))
        return backend.asarray(self.f(x, t))

    def __repr__(self):
        return self.name


FIELDS = {"zero": lambda x, t: 0.0 * x, "linear": lambda x, t: x @ A.T,
          "time": lambda x, t: t[:, None] * C, "exact": lambda x, t: marginal(x, t)[0]}


def _draws(ctx, n, stream):
    g = np.random.default_rng([ctx.seed, stream])
    means, stds, weights = MIXTURE
    k = g.choice(len(weights), n, p=weights)
    x1 = means[k] + stds[k, None] * g.standard_normal((n, 2))
    return g.standard_normal((n, 2)), x1, g.random(n)


def _loss(student, ctx, field, x0, x1, t):
    out = ctx.call(student, Field(FIELDS[field], f"velocity ({field})"), backend.asarray(x0),
                   backend.asarray(x1), backend.asarray(t))
    return ctx.array(out, (len(x0),), "the loss")


MISTAKES = {"sign": "target x_0 - x_1: the velocity points from the data to the noise",
            "swap": "t and 1 - t swapped: x_t = t x_0 + (1 - t) x_1 (t = 0 must be the noise)",
            "data": "x_t = x_1: the velocity evaluated at the data, not on the path",
            "noise": "x_t = x_0: the velocity evaluated at the noise, not on the path",
            "one_minus_t": "the velocity called at 1 - t instead of t",
            "not_squared": "the norm not squared: |V - (x_1 - x_0)| instead of its square",
            "mean": "the mean over coordinates instead of the sum"}


def exact_case(field, stream, names):
    def measure(student, ctx):
        x0, x1, t = _draws(ctx, N_EXACT, stream)
        est = _loss(student, ctx, field, x0, x1, t)
        f = FIELDS[field]
        return Measurement(est, reference(f, x0, x1, t), tol=tolerances()[0],
                           labels=[f"pair {i} (t = {t[i]:.3f})" for i in range(N_EXACT)],
                           mistakes={MISTAKES[m]: reference(f, x0, x1, t, m) for m in names})
    return measure


def bayes_floor(student, ctx):
    """Mean of loss - Var[x_1 - x_0 | x_t] with the exact marginal velocity: 0 (5 SE)."""
    x0, x1, t = _draws(ctx, N_FLOOR, 3)
    x_t = t[:, None] * x1 + (1 - t[:, None]) * x0
    floor = marginal(x_t, t)[1]
    est = _loss(student, ctx, "exact", x0, x1, t) - floor
    # the other mistakes shift the mean by similar amounts: the exact properties name them
    sign = float(np.mean(reference(FIELDS["exact"], x0, x1, t, "sign") - floor))
    return Measurement(float(est.mean()), 0.0, se=float(est.std()) / math.sqrt(N_FLOOR),
                       labels=["mean of loss - E Var[x_1 - x_0 | x_t]"],
                       mistakes={MISTAKES["sign"]: sign})


def pilot(student, ctx):
    x0, x1, t = _draws(ctx, 2000, 9)
    return ctx.timed(lambda: _loss(student, ctx, "exact", x0, x1, t)), N_FLOOR / 2000 + 3


CONTRACT = Contract(
    function="conditional_flow_loss",
    params=("velocity", "x0", "x1", "t"),
    title="Exercise: the conditional flow-matching loss (companion overview, CFM; notes §5.2)",
    doc="""The conditional flow-matching loss at each pair (x0[i], x1[i]) at time t[i].

velocity: function (x (n, d), t (n,)) -> (n, d), the field u(x, t) being trained.
x0: (n, d) noise points (time 0); x1: (n, d) data points (time 1); t: (n,) times in [0, 1].
Returns (n,): |velocity(x_t, t) - (x1 - x0)|^2 with x_t on the straight path from x0 to x1.""")
HINT = ("x_t = t x_1 + (1 - t) x_0 (t = 0: noise, t = 1: data), target u_t = dx_t/dt = x_1 - x_0, "
        "loss = |V(x_t, t) - (x_1 - x_0)|^2 summed over the coordinates")
CHECKS = "minigen.transport.flow_matching"
EXERCISES = [Exercise(
    name="conditional_flow_loss", aliases=("flow_matching", "cfm", "cfm_loss"),
    contract=CONTRACT, pilot=pilot, vectorize_over="points (one call of velocity for all pairs)",
    properties=[
        Property("contract", "returns (n,); with V = 0 the loss is |x_1 - x_0|^2",
                 exact_case("zero", 0, ("not_squared", "mean")), HINT),
        Property("straight_path", "with V(x, t) = A x the loss is |A x_t - (x_1 - x_0)|^2, "
                 "x_t = t x_1 + (1 - t) x_0", exact_case("linear", 1, ("sign", "swap", "data",
                                                                      "noise")), HINT,
                 ("contract",)),
        Property("time", "with V(x, t) = t c the velocity is called at the pair's own time t",
                 exact_case("time", 2, ("one_minus_t", "sign")), HINT, ("contract",)),
        Property("bayes_floor", "with the exact marginal velocity of a Gaussian mixture, the mean "
                 "loss is the Bayes floor E Var[x_1 - x_0 | x_t] (5 SE)", bayes_floor, HINT,
                 ("contract",)),
    ])]
