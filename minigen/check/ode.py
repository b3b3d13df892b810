"""Check a student's RK4 (notes §5.2, Eq. (87)-(88)) and Hutchinson's divergence (§5.3).

    RK4: k1 = V(x, t), k2 = V(x + h k1/2, t + h/2), k3 = V(x + h k2/2, t + h/2),
         k4 = V(x + h k3, t + h), x <- x + h (k1 + 2 k2 + 2 k3 + k4) / 6        (order 4)
    Hutchinson: div V = tr J ~ (1/P) sum_p z_p^T J z_p, z_p = +-1: mean tr J, variance
    2 sum_{i != j} S_ij^2 / P with S = (J + J^T) / 2 (Eq. 96-97 need div V).
Oracles: the RK4 formula on one step (exact), the order 4 as the slope of log error vs log h on an
ODE in closed form, the mean and closed-form variance of the estimator on a fixed matrix (5 SE).
Runge 1895; Kutta 1901; Hutchinson 1989.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import (Contract, Exercise, Measurement, Property, StudentError,
                                    tolerances)

X0 = np.array([[0.2, 1.0], [0.7, -0.5], [0.05, 2.0], [0.4, 0.3]])
T_END, NS = 2.0, (8, 16, 32)                 # the order: fixed time, 3 grids


def field(x, t):
    """Logistic x' = x (1 - x) in column 0, x' = cos(t) x in column 1 (non-autonomous)."""
    return np.stack([x[:, 0] * (1 - x[:, 0]), np.cos(t) * x[:, 1]], axis=1)


def exact(x0, t):
    e = np.exp(t)
    return np.stack([x0[:, 0] * e / (1 - x0[:, 0] + x0[:, 0] * e), x0[:, 1] * np.exp(np.sin(t))],
                    axis=1)


class Field:
    """The velocity handed to the student: (x (n, d) backend array, t float) -> (n, d)."""

    def __call__(self, x, t):
        x = backend.to_numpy(x)
        if x.ndim != 2 or x.shape[1] != 2:
            raise StudentError(f"velocity takes an (n, 2) array and a time; it got shape {x.shape}")
        return backend.asarray(field(x, float(t)))

    def __repr__(self):
        return "velocity"


def scheme(x0, times, mistake=None):
    """RK4 (or the named wrong scheme) on host arrays: the path (len(times), n, d)."""
    path = [x0]
    x = x0
    for k in range(len(times) - 1):
        t = times[k]
        h = times[1] - times[0] if mistake == "first_h" else times[k + 1] - t
        th = t if mistake == "stage_time" else t + h / 2
        k1 = field(x, t)
        if mistake == "euler":
            x = x + h * k1
        elif mistake == "heun":
            x = x + h / 2 * (k1 + field(x + h * k1, t + h))
        else:
            k2 = field(x + h / 2 * k1, th)
            k3 = field(x + h / 2 * (k1 if mistake == "k3_from_k1" else k2), th)
            k4 = field(x + h * k3, t if mistake == "stage_time" else t + h)
            w = (1, 1, 1, 1) if mistake == "equal_weights" else (1, 2, 2, 1)
            x = x + h * (w[0] * k1 + w[1] * k2 + w[2] * k3 + w[3] * k4) / sum(w)
        path.append(x)
    return np.stack(path)


RK4_MISTAKES = {
    "equal weights (k1 + k2 + k3 + k4) / 4: the weights are 1, 2, 2, 1 over 6": "equal_weights",
    "the middle stages evaluated at time t instead of t + h/2": "stage_time",
    "k3 from k1 instead of k2: x + (h/2) k2 is the third stage's point": "k3_from_k1",
    "the step h of the first interval used for every interval": "first_h",
    "Heun's scheme (two stages, order 2) instead of RK4": "heun",
    "Euler's scheme x + h V(x, t) (Eq. 88, order 1) instead of RK4": "euler"}


def _run(student, ctx, x0, times):
    x_in = backend.asarray(x0.copy())
    out = ctx.call(student, Field(), x_in, list(times))
    path = ctx.array(out, (len(times), *x0.shape), "the returned path")
    return path, not np.array_equal(backend.to_numpy(x_in), x0)


def rk4_contract(student, ctx):
    path, changed = _run(student, ctx, X0, [0.0, 0.5, 1.0])
    starts = float(not np.allclose(path[0], X0, rtol=0, atol=tolerances()[0]))
    return Measurement([float(changed), starts], [0.0, 0.0], tol=0.5,
                       labels=["x0 after the call", "path[0] == x0"],
                       mistakes={"x0 modified in place (x += ...)": [1.0, 0.0],
                                 "the path does not start with x0 at times[0]": [0.0, 1.0]})


GRIDS = {"one step 0 -> 0.7": [0.0, 0.7], "uneven grid 0.2, 0.5, 1.3, 1.4": [0.2, 0.5, 1.3, 1.4],
         "backwards 1.5 -> 0.9 -> 0": [1.5, 0.9, 0.0]}


def rk4_steps(student, ctx):
    est, exp, labels = [], [], []
    pred = {name: [] for name in RK4_MISTAKES}
    for where, times in GRIDS.items():
        est.append(_run(student, ctx, X0, times)[0].ravel())
        exp.append(scheme(X0, times).ravel())
        for name, m in RK4_MISTAKES.items():
            pred[name].append(scheme(X0, times, m).ravel())
        labels += [f"{where}, state {k}, point {i}, x_{j + 1}" for k in range(len(times))
                   for i in range(len(X0)) for j in range(2)]
    return Measurement(np.concatenate(est), np.concatenate(exp), tol=tolerances()[0],
                       labels=labels, mistakes={k: np.concatenate(v) for k, v in pred.items()})


def _order(run):
    """The slope of log(max error at T_END) against log h over the grids NS."""
    errors = [np.abs(run(np.linspace(0.0, T_END, n + 1))[-1] - exact(X0, T_END)).max()
              for n in NS]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.polyfit(np.log(T_END / np.array(NS)), np.log(errors), 1)[0]


def rk4_order(student, ctx):
    est = _order(lambda times: _run(student, ctx, X0, times)[0])
    return Measurement([est], [4.0], tol=0.3, labels=["slope of log error vs log h"], mistakes={
        "order 2 (the error only divides by 4 when h halves): a weight or a stage point wrong, "
        "or Heun's scheme": [2.0],
        "order 1: Euler's scheme, or the stages evaluated at the wrong times": [1.0]})


# Hutchinson: J = A at every point; S = (A + A^T)/2 has equal off-diagonal entries 1/2, so that
# no sign pattern of a probe shared by all points gives z^T A z = tr A
A = np.array([[1.0, 0.8, 0.2], [0.2, -0.5, 1.1], [0.8, -0.1, 0.3]])
S = (A + A.T) / 2
VAR_R = 2 * (np.sum(S ** 2) - np.sum(np.diag(S) ** 2))        # Rademacher probes, P = 1
VAR_G = 2 * np.sum(S ** 2)                                    # Gaussian probes
N_POINTS, N_PILOT, PROBES = 20000, 2000, (1, 3)


class JVP:
    """v (n, 3) -> the rows J(x_i) v_i = A v_i, in the backend's differentiable namespace."""

    def __init__(self, n):
        self.n = n

    def __call__(self, v):
        if getattr(v, "ndim", None) != 2 or tuple(v.shape) != (self.n, 3):
            raise StudentError(f"jvp takes an (n, d) = ({self.n}, 3) array of vectors, one per "
                               f"point; it got {getattr(v, 'shape', type(v).__name__)}")
        return backend.asarray(v) @ backend.asarray(A.T)

    def __repr__(self):
        return "jvp"


def _estimates(student, ctx, n_probes, stream, n=N_POINTS):
    x = backend.asarray(np.zeros((n, 3)))
    rng = ctx.rng(stream)
    out = ctx.array(ctx.call(student, JVP(n), x, n_probes, rng), (n,), "the estimate")
    return out, rng.draws


def hutchinson_contract(student, ctx):
    _, draws = _estimates(student, ctx, 1, 1)
    return Measurement([float(draws == 0)], [0.0], tol=0.5, labels=["draws from rng"],
                       mistakes={"no random numbers drawn from the rng argument": [1.0]})


def hutchinson_mean(student, ctx):
    est = [_estimates(student, ctx, p, 10 + p)[0].mean() for p in PROBES]
    tr = np.trace(A)
    uniform = np.trace(A) / 3 + (A.sum() - np.trace(A)) / 4
    return Measurement(est, [tr, tr], se=[np.sqrt(VAR_R / p / N_POINTS) for p in PROBES],
                       labels=[f"n_probes={p}" for p in PROBES], mistakes={
                           "the probes summed, not averaged: P tr J": [p * tr for p in PROBES],
                           "probes uniform in [0, 1): E[z z^T] != I": [uniform] * 2,
                           "probes of unit length: E[z z^T] = I / d": [tr / 3] * 2})


def hutchinson_variance(student, ctx):
    est, se = [], []
    for p in PROBES:
        c = _estimates(student, ctx, p, 20 + p)[0]
        c = c - c.mean()
        var = np.mean(c ** 2)
        est.append(var)
        se.append(np.sqrt(max(np.mean(c ** 4) - var ** 2, 0.0) / N_POINTS))
    return Measurement(est, [VAR_R / p for p in PROBES], se=se,
                       labels=[f"n_probes={p}" for p in PROBES], mistakes={
                           "Gaussian probes: variance 2 ||S||_F^2 / P, larger than the "
                           "Rademacher 2 sum_{i != j} S_ij^2 / P": [VAR_G / p for p in PROBES],
                           "one probe per call shared by every point": [0.0, 0.0]})


def hutchinson_pilot(student, ctx):
    return ctx.timed(lambda: _estimates(student, ctx, 3, 30, N_PILOT)), 4 * N_POINTS / N_PILOT


HINT_RK4 = ("notes §5.2 Eq. (87)-(88) and RK4: k1 = V(x, t), k2 = V(x + h k1/2, t + h/2), "
            "k3 = V(x + h k2/2, t + h/2), k4 = V(x + h k3, t + h), x <- x + h (k1 + 2k2 + 2k3 + "
            "k4)/6 with h = times[k+1] - times[k]")
HINT_HUTCH = ("notes §5.3 Eq. (96)-(97) need div V = tr J; with E[z z^T] = I, E[z^T J z] = tr J: "
              "draw z = +-1 with probability 1/2 each, independently for every point and probe, "
              "and average z^T (J z) over the n_probes probes")
CHECKS = "minigen.ode"
EXERCISES = [
    Exercise(name="rk4", aliases=("runge_kutta", "ode_integrate"), contract=Contract(
        function="rk4", params=("velocity", "x0", "times"),
        title="Exercise: the Runge-Kutta 4 integrator of dx/dt = V(x, t), notes §5.2 Eq. (87)",
        doc="""Integrate dx/dt = velocity(x, t) with classical RK4, one step per interval of times.

velocity: a function (x (n, d) array, t float) -> (n, d).
x0: (n, d) array, the state at times[0]. times: a list of times, increasing or decreasing
    (the step h = times[k+1] - times[k] may vary, and be negative).
Returns the path, an array (len(times), n, d) with path[0] = x0. Do not modify x0 in place."""),
        properties=[
            Property("contract", "returns (len(times), n, d), path[0] = x0, x0 left unchanged",
                     rk4_contract, "return a new array stacking x0 and the state after each step"),
            Property("steps", "the RK4 formula on one step, an uneven grid and a backward grid",
                     rk4_steps, HINT_RK4, ("contract",)),
            Property("order", "global error O(h^4): slope 4 of log error vs log h on an ODE in "
                     "closed form", rk4_order, HINT_RK4, ("contract",))]),
    Exercise(name="hutchinson", aliases=("hutchinson_divergence", "hutchinson_trace"),
             pilot=hutchinson_pilot, vectorize_over="points (one jvp call for all the points "
             "per probe, no Python loop over them)",
             contract=Contract(
                 function="hutchinson_divergence", params=("jvp", "x", "n_probes", "rng"),
                 title="Exercise: Hutchinson's estimate of div V = tr dV/dx, notes §5.3 Eq. (97)",
                 doc="""Estimate div V(x_i) = tr J(x_i) at n points with n_probes Rademacher probes.

jvp: a function v (n, d) -> (n, d), the Jacobian-vector products J(x_i) v_i row by row.
x: (n, d) array of points. n_probes: P >= 1. rng: a numpy random Generator.
Returns (n,): (1/P) sum_p z_p^T J z_p, each z_p in {-1, +1}^d drawn independently for
every point and probe (E[z z^T] = I, so the mean is tr J)."""),
             properties=[
                 Property("contract", "returns (n,), draws its probes from rng",
                          hutchinson_contract, "draw every probe from the rng argument"),
                 Property("mean", "mean over 20000 points = tr J for P = 1, 3 (5 SE)",
                          hutchinson_mean, HINT_HUTCH, ("contract",)),
                 Property("variance", "variance 2 sum_{i != j} S_ij^2 / P, S = (J + J^T)/2 "
                          "(Rademacher, 5 SE)", hutchinson_variance, HINT_HUTCH, ("contract",))]),
]
