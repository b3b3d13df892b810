"""Check a student's Euler-Maruyama step of the Ornstein-Uhlenbeck equation.

    dx_t = -kappa x_t dt + sigma dW_t                                                  (Eq. 123)
    x_{t+dt} = x_t - kappa x_t dt + sigma sqrt(dt) xi                  (Euler-Maruyama, Eq. 122)
Notes §6.1.3, §6.2.1. Oracle: given x_t the step is Gaussian in closed form, checked at several
(dt, kappa, sigma, x) with the SEs of ornstein_uhlenbeck.sample_moments; dt is not small, so that
dt and sqrt(dt) differ, and a planted mistake (the exact OU transition of Th. 8 among them)
predicts where each property fails.
"""
import math

import numpy as np

from minigen.check.exercise import Contract, Exercise, Property
from minigen.check.ornstein_uhlenbeck import (N, SQRT2, drawn_once, law_measurement, make_pilot,
                                              ou_law, run_student, same_seed)

# (dt, kappa, sigma, x): one Euler step from x; dt not small, so that dt and sqrt(dt) differ
EULER_CASES = [(0.1, 1.0, SQRT2, (2.0, -1.0)), (0.5, 0.4, 0.7, (3.0, 1.0)),
               (0.3, 2.5, 1.6, (-1.5, 2.0))]

EULER_CONTRACT = Contract(
    function="ou_euler_step",
    params=("x", "dt", "rng", "kappa=1.0", "sigma=np.sqrt(2.0)"),
    title="Exercise: one Euler-Maruyama step of the Ornstein-Uhlenbeck equation, notes §6.1.3 "
          "Eq. (122)-(123)",
    doc="""One Euler-Maruyama step (Eq. 122) of dx = -kappa x dt + sigma dW (Eq. 123).

x: (n, d) array, the states at time t.
dt: float > 0, the time step.
rng: a numpy.random.Generator; draw every random number from it.
kappa, sigma: floats > 0, the coefficients of Eq. (123).
Returns the states at time t + dt: (n, d).""")


def _em(mean_factor, var):
    return lambda h, k, s, x: (mean_factor(h, k, s) * np.asarray(x), var(h, k, s), 0.0)


_EM_MEAN = lambda h, k, s: 1 - k * h                                             # noqa: E731
_EM_VAR = lambda h, k, s: s ** 2 * h                                             # noqa: E731
EULER_MISTAKES = {   # name -> (dt, kappa, sigma, x) -> (mean, variance, correlation)
    "dt for sqrt(dt): noise sigma dt xi": _em(_EM_MEAN, lambda h, k, s: s ** 2 * h ** 2),
    "drift sign: x + kappa x dt": _em(lambda h, k, s: 1 + k * h, _EM_VAR),
    "kappa ignored (kappa = 1 assumed)": _em(lambda h, k, s: 1 - h, _EM_VAR),
    "no drift: x + sigma sqrt(dt) xi": _em(lambda h, k, s: 1.0, _EM_VAR),
    "sigma^2 for sigma: noise sigma^2 sqrt(dt) xi": _em(_EM_MEAN, lambda h, k, s: s ** 4 * h),
    "sqrt(2 dt) for sqrt(dt) (the Langevin noise of Eq. 118)":
        _em(_EM_MEAN, lambda h, k, s: 2 * s ** 2 * h),
    "sigma ignored (sigma = sqrt(2) assumed)": _em(_EM_MEAN, lambda h, k, s: 2 * h),
    "the exact OU transition of Th. 8 (Eq. 124), not the Euler step of Eq. (122)":
        lambda h, k, s, x: (math.exp(-k * h) * np.asarray(x), ou_law(h, k, s)[1], 0.0),
}


def _euler_measurement(student, ctx, part):
    samples = drawn_once(ctx, "ou_euler_step", lambda: [
        run_student(student, ctx, np.tile(x, (N, 1)), (h, k, s), "ou_euler_step")
        for h, k, s, x in EULER_CASES])
    laws = [(_EM_MEAN(*c[:3]) * np.asarray(c[3]), _EM_VAR(*c[:3]), 0.0) for c in EULER_CASES]
    mistakes = {k: [f(*c) for c in EULER_CASES] for k, f in EULER_MISTAKES.items()}
    labels = [f"dt={h:g}, kappa={k:g}, sigma={s:.3g}, x={x}" for h, k, s, x in EULER_CASES]
    return law_measurement(samples, laws, mistakes, part, labels)


def euler_contract(student, ctx):
    """Shapes, the use of rng, and the same samples for the same seed."""
    return same_seed(student, ctx, np.ones((5, 3)), (0.1, 1.0, SQRT2), "ou_euler_step")


def euler_mean(student, ctx):
    return _euler_measurement(student, ctx, "mean")


def euler_covariance(student, ctx):
    return _euler_measurement(student, ctx, "variance")


EULER_HINT = ("notes Eq. (122) with V(x) = -kappa x (Eq. 123): x + (-kappa x) dt + sigma "
              "sqrt(dt) xi, xi ~ N(0, Id) drawn from rng")
CHECKS = "minigen.diffusion.ornstein_uhlenbeck"
EXERCISES = [
    Exercise(
        name="ou_euler_step", aliases=("ou_euler", "euler_maruyama"), contract=EULER_CONTRACT,
        pilot=make_pilot("ou_euler_step", len(EULER_CASES) * N), properties=[
            Property("contract", "returns (n, d), draws from rng, same seed same samples",
                     euler_contract, "draw every random number from the rng argument"),
            Property("one_step_mean", "E[x_{t+dt} | x_t] = x_t - kappa x_t dt (Eq. 122)",
                     euler_mean, EULER_HINT, ("contract",)),
            Property("one_step_covariance", "Cov[x_{t+dt} | x_t] = sigma^2 dt Id (Eq. 122)",
                     euler_covariance, EULER_HINT, ("contract",)),
        ]),
]
