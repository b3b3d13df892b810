"""Check a student's exact Ornstein-Uhlenbeck sampler (and the helpers ou_euler.py shares).

    dx_t = -kappa x_t dt + sigma dW_t                                                  (Eq. 123)
    x_t = e^{-kappa t} x_0 + sigma ((1 - e^{-2 kappa t}) / (2 kappa))^{1/2} z      (Th. 8, Eq. 124)
Notes §2.8.2, §6.2.1. Oracle: the law is Gaussian in closed form given the start, at several
(t, kappa, sigma) so that a formula that ignores kappa or sigma fails. From n independent draws:
SE of a mean sqrt(Var / n), of log s^2 sqrt(2 / (n - 1)) (Gaussian), of a correlation
1 / sqrt(n); the Gaussian shape through P(|u| < 1), P(|u| < 2) (binomial SE).
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import (FAIL_SE, Contract, Exercise, Measurement, Property,
                                    StudentError)

SQRT2 = math.sqrt(2.0)
N = 20_000                    # independent draws per case
X0 = np.array([1.5, -2.0])
# (t, kappa, sigma): the normalized kappa = 1, sigma = sqrt(2) of Eq. (128) and three others
OU_CASES = [(0.3, 1.0, SQRT2), (1.0, 0.4, 0.7), (0.2, 2.5, 1.6), (2.0, 0.5, 3.0)]


def sample_moments(x, var):
    """Moments of x (n, d) that should be N(mean, var Id): ((mean (d,), se), (log s^2 (d,), se),
    (corr of coordinates 1 and 2, se)). The SE of a mean uses the larger of var and the sample
    variance, so that a mistake that inflates the variance is still recognized by name."""
    n, d = x.shape
    with np.errstate(all="ignore"):
        s2 = x.var(axis=0, ddof=1)
        corr = np.corrcoef(x[:, 0], x[:, 1])[0, 1] if d > 1 else 0.0
        log_s2 = np.log(s2)
    se_mean = np.sqrt(np.maximum(var, np.nan_to_num(s2)) / n)
    return ((x.mean(axis=0), se_mean), (log_s2, np.full(d, math.sqrt(2.0 / (n - 1)))),
            (np.array([corr]), np.array([1.0 / math.sqrt(n)])))


def moment_labels(d, where):
    return ([f"mean x{j + 1}, {where}" for j in range(d)],
            [f"log variance of x{j + 1}, {where}" for j in range(d)],
            [f"correlation of x1 and x2, {where}"])


def law_measurement(samples, laws, mistakes, part, labels):
    """samples: one (n, d) array per case; laws[i] = (mean (d,), var, corr) of case i;
    mistakes: name -> the list of laws that mistake gives; part: "mean", "variance" (log
    variances and correlation) or "all"; labels: one string per case."""
    est, se, exp, lab, pred = [], [], [], [], {k: [] for k in mistakes}

    def pick(m, v, c):
        return {"mean": [m], "variance": [v, c], "all": [m, v, c]}[part]

    def law(mean, var, corr, d):
        return pick(np.asarray(mean, float), np.full(d, math.log(var)), [corr])

    for i, x in enumerate(samples):
        d = x.shape[1]
        m, v, c = sample_moments(x, laws[i][1])
        est += pick(m[0], v[0], c[0])
        se += pick(m[1], v[1], c[1])
        exp += law(*laws[i], d)
        lab += sum(pick(*moment_labels(d, labels[i])), [])
        for k, wrong in mistakes.items():
            pred[k] += law(*wrong[i], d)
    cat = np.concatenate
    return Measurement(cat(est), cat(exp), cat(se), labels=lab,
                       mistakes=name_together({k: cat(v) for k, v in pred.items()}, cat(se)))


def name_together(mistakes, se):
    """Rename each mistake "A, or B" when B's prediction lies within 2 x FAIL_SE of A's: an
    estimate could match both, so the property cannot tell them apart."""
    out = {}
    for name, pred in mistakes.items():
        close = [k for k, p in mistakes.items()
                 if k != name and np.max(np.abs(p - pred) / se) <= 2 * FAIL_SE]
        out[", or ".join([name] + close)] = pred
    return out


def same_seed(student, ctx, x0, args, what):
    """The contract's measurement: two runs with the same rng stream give the same samples."""
    a, b = (run_student(student, ctx, x0, args, what, stream=1) for _ in range(2))
    differ = float(not np.array_equal(a, b))
    return Measurement([differ], [0.0], tol=0.5, labels=["two runs with the same seed"],
                       mistakes={"random numbers drawn from a global state (np.random), not "
                                 "from rng: two runs with the same rng differ": [1.0]})


def drawn_once(ctx, key, draw):
    """draw() once per check run: the properties of one run share these samples (a cache on the
    run's Context; the shared machinery has none)."""
    cache = ctx.__dict__.setdefault("_samples", {})
    if key not in cache:
        cache[key] = draw()
    return cache[key]


def run_student(student, ctx, x0, args, what, stream=None):
    """student(x0, first, rng, kappa=, sigma=) as a host array of x0's shape; rng must be used."""
    first, kappa, sigma = args
    rng = ctx.rng(stream)
    out = ctx.call(lambda *a: student(*a, kappa=kappa, sigma=sigma), backend.asarray(x0),
                   first, rng)
    x = ctx.array(out, x0.shape, "the returned samples")
    if rng.draws == 0:
        raise StudentError(f"your {what} drew no random numbers from rng: every random number "
                           "must come from the rng argument")
    return x


# ---- ou_sample: the exact marginal of Th. 8 -------------------------------------------------
def ou_law(t, kappa, sigma):
    """(decay, variance) of x_t given x_0 (Eq. 124)."""
    return math.exp(-kappa * t), sigma ** 2 * -math.expm1(-2 * kappa * t) / (2 * kappa)


def _ou(decay, var, corr=0.0):
    return lambda t, k, s: (decay(t, k, s) * X0, var(t, k, s), corr)


_DECAY = lambda t, k, s: math.exp(-k * t)                                        # noqa: E731
_VAR = lambda t, k, s: ou_law(t, k, s)[1]                                        # noqa: E731
OU_MISTAKES = {   # name -> (t, kappa, sigma) -> (mean, variance, correlation)
    "variance used as std: x_t = e^{-kappa t} x_0 + sigma^2 (1 - e^{-2 kappa t}) / (2 kappa) z":
        _ou(_DECAY, lambda t, k, s: _VAR(t, k, s) ** 2),
    "square root missing: std sigma (1 - e^{-2 kappa t}) / (2 kappa)":
        _ou(_DECAY, lambda t, k, s: s ** 2 * (-math.expm1(-2 * k * t) / (2 * k)) ** 2),
    "the 2 missing in e^{-2 kappa t}: variance sigma^2 (1 - e^{-kappa t}) / (2 kappa)":
        _ou(_DECAY, lambda t, k, s: s ** 2 * -math.expm1(-k * t) / (2 * k)),
    "kappa ignored (kappa = 1 assumed)": _ou(lambda t, k, s: math.exp(-t),
                                             lambda t, k, s: ou_law(t, 1.0, s)[1]),
    "sigma^2 / 2 missing (the normalized sigma = sqrt(2) of Eq. 128 assumed): variance "
    "(1 - e^{-2 kappa t}) / kappa": _ou(_DECAY, lambda t, k, s: ou_law(t, k, SQRT2)[1]),
    "sigma for sigma^2: variance sigma (1 - e^{-2 kappa t}) / (2 kappa)":
        _ou(_DECAY, lambda t, k, s: s * -math.expm1(-2 * k * t) / (2 * k)),
    "1 / (2 kappa) missing: variance sigma^2 (1 - e^{-2 kappa t})":
        _ou(_DECAY, lambda t, k, s: s ** 2 * -math.expm1(-2 * k * t)),
    "x_0 not decayed: x_t = x_0 + std z": _ou(lambda t, k, s: 1.0, _VAR),
    "e^{-2 kappa t} on x_0: the variance's decay used for the mean":
        _ou(lambda t, k, s: math.exp(-2 * k * t), _VAR),
    "one noise draw shared by all coordinates (z of shape (n, 1))": _ou(_DECAY, _VAR, 1.0),
}
OU_CONTRACT = Contract(
    function="ou_sample",
    params=("x0", "t", "rng", "kappa=1.0", "sigma=np.sqrt(2.0)"),
    title="Exercise: the exact Ornstein-Uhlenbeck marginal, notes §6.2.1 Th. 8 Eq. (124)",
    doc="""Exact sample of x_t given x_0 for dx = -kappa x dt + sigma dW (Th. 8, Eq. 124).

x0: (n, d) array, the starting points.
t: float >= 0, the time.
rng: a numpy.random.Generator; draw every random number from it.
kappa, sigma: floats > 0, the coefficients of Eq. (123).
Returns x_t: (n, d), one independent draw per starting point (no time discretization).""")


def _ou_samples(student, ctx):
    x0 = np.tile(X0, (N, 1))
    return drawn_once(ctx, "ou_sample", lambda: [run_student(student, ctx, x0, case, "ou_sample")
                                                 for case in OU_CASES])


def _ou_labels():
    return [f"t={t:g}, kappa={k:g}, sigma={s:.3g}" for t, k, s in OU_CASES]


def _ou_measurement(student, ctx, part):
    laws = [(_DECAY(*c) * X0, _VAR(*c), 0.0) for c in OU_CASES]
    mistakes = {k: [f(*c) for c in OU_CASES] for k, f in OU_MISTAKES.items()}
    return law_measurement(_ou_samples(student, ctx), laws, mistakes, part, _ou_labels())


def ou_contract(student, ctx):
    """Shapes, the use of rng, and the same samples for the same seed."""
    return same_seed(student, ctx, np.zeros((5, 3)), (0.5, 1.0, SQRT2), "ou_sample")


def ou_mean(student, ctx):
    return _ou_measurement(student, ctx, "mean")


def ou_variance(student, ctx):
    return _ou_measurement(student, ctx, "variance")


def ou_gaussian(student, ctx):
    """u = (x_t - e^{-kappa t} x_0) / std: P(|u| < 1) = 0.6827, P(|u| < 2) = 0.9545."""
    u = np.concatenate([((x - _DECAY(*c) * X0) / math.sqrt(_VAR(*c))).ravel()
                        for x, c in zip(_ou_samples(student, ctx), OU_CASES)])
    p = np.array([math.erf(1 / SQRT2), math.erf(2 / SQRT2)])
    freq = np.array([np.mean(np.abs(u) < 1), np.mean(np.abs(u) < 2)])
    return Measurement(freq, p, np.sqrt(p * (1 - p) / len(u)),
                       labels=["P(|u| < 1), u the standardized x_t", "P(|u| < 2)"],
                       mistakes={"uniform noise of variance 1 in place of z ~ N(0, Id)":
                                 [1 / math.sqrt(3), 1.0]})


def make_pilot(what, total):
    def pilot(student, ctx):
        x0 = np.zeros((2000, 2))
        seconds = ctx.timed(lambda: run_student(student, ctx, x0, (0.5, 1.0, SQRT2), what))
        return seconds, total / 2000
    return pilot


OU_HINT = ("notes Th. 8, Eq. (124): x_t = e^{-kappa t} x_0 + sigma sqrt((1 - e^{-2 kappa t}) / "
           "(2 kappa)) z, z ~ N(0, Id) drawn from rng")

CHECKS = "minigen.diffusion.ornstein_uhlenbeck"
EXERCISES = [
    Exercise(
        name="ou_sample", aliases=("ou", "ornstein_uhlenbeck"), contract=OU_CONTRACT,
        pilot=make_pilot("ou_sample", len(OU_CASES) * N), properties=[
            Property("contract", "returns (n, d), draws from rng, same seed same samples",
                     ou_contract, "draw every random number from the rng argument"),
            Property("mean", "E[x_t | x_0] = e^{-kappa t} x_0 at several (t, kappa, sigma) "
                     "(Eq. 124)", ou_mean, OU_HINT, ("contract",)),
            Property("variance", "Var[x_t | x_0] = sigma^2 (1 - e^{-2 kappa t}) / (2 kappa) per "
                     "coordinate, coordinates independent (Eq. 124)", ou_variance, OU_HINT,
                     ("contract",)),
            Property("gaussian", "x_t given x_0 is Gaussian (Th. 8)", ou_gaussian,
                     "notes Th. 8: z ~ N(0, Id), rng.standard_normal", ("mean", "variance")),
        ]),
]
