"""Check a student's actnorm (notes §5.1, Eq. (86), the scale written e^a).

    z = e^a * x + b,  log|det J| = sum_i a_i
Oracles, exact: the formula, and log|det J| of the student's own map from central differences
(the layer machinery of coupling.py). Kingma & Dhariwal 2018 (arXiv:1807.03039).
"""
import numpy as np

from minigen import backend
from minigen.check.coupling import HINT_C, N, SHAPES, Case, contract, formula, log_det
from minigen.check.exercise import Contract, Exercise, Property


def actnorm(x, a, b, mistake=None):
    """The exact actnorm (or the named wrong one) on host arrays: z (n, d), log_det (n,)."""
    z = {"inverse": (x - b) * np.exp(-a), "b_first": np.exp(a) * (x + b),
         "a_scale": a * x + b}.get(mistake, np.exp(a) * x + b)                     # Eq. (86)
    log_det = {"sign": -a.sum(), "exp_a": np.exp(a).sum(), "mean": a.mean()}.get(mistake, a.sum())
    return z, log_det * np.ones(len(x))


def actnorm_cases(ctx):
    def case(d):
        g = np.random.default_rng([ctx.seed, d])
        x, a, b = g.standard_normal((N, d)), 0.5 * g.standard_normal(d), g.standard_normal(d)
        return Case(f"d={d}", x, (backend.asarray(a), backend.asarray(b)),
                    lambda x, mistake=None: actnorm(x, a, b, mistake), ((d,), (N, d)))
    return [case(d) for d in (3, 4)]


ACTNORM_MISTAKES = {
    "the inverse map (x - b) e^{-a}: forward is z = e^a x + b": "inverse",
    "b added before scaling: e^a (x + b)": "b_first",
    "a used as the scale itself (a x + b): here a is the log-scale, the scale is e^a": "a_scale"}
ACTNORM_LOG_DET_MISTAKES = {"sign: -sum a": "sign",
                            "sum of the scales e^a instead of their logs a": "exp_a",
                            "mean of a instead of its sum over the d coordinates": "mean"}
HINT_A = "notes §5.1 Eq. (86) with the scale e^a: z = e^a * x + b, log|det J| = sum_i a_i"
CHECKS = "minigen.flows.layers"
EXERCISES = [
    Exercise(name="actnorm", aliases=("actnorm_forward",),
             contract=Contract(
                 function="actnorm_forward", params=("x", "a", "b"),
                 title="Exercise: actnorm, notes §5.1 Eq. (86)",
                 doc="""\
Actnorm, data -> latent: z = e^a * x + b per coordinate (Eq. (86), scale e^a).

x: (n, d) array of n points; a, b: (d,) arrays, the log-scale and the shift.
Returns (z, log_det): (n, d) and (n,), log_det = log|det J| at each point.
Do not modify x in place."""),
             properties=[
                 Property("contract", SHAPES, contract(actnorm_cases), HINT_C),
                 Property("formula", "z = e^a x + b (Eq. 86)",
                          formula(actnorm_cases, ACTNORM_MISTAKES), HINT_A, ("contract",)),
                 Property("log_det", "log_det = log|det J| of your map = sum a",
                          log_det(actnorm_cases, ACTNORM_LOG_DET_MISTAKES), HINT_A,
                          ("formula",))]),
]
