"""Check a student's MALA (notes §6.1 Eq. (122) as the proposal of Algorithm 1).

MALA proposes the ULA move y = x + h s(x) + sqrt(2h) xi and accepts it by Algorithm 1 with the
non-symmetric Q(x, y) = N(y; x + h s(x), 2h I). Oracles: its one-step acceptance and moments in
1-D by quadrature over xi, and the invariance of a correlated Gaussian from exact samples.
SEs as in langevin.py (the helpers are shared). Roberts & Tweedie 1996.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property
from minigen.check.langevin import (CONTRACT_HINT, CONTRACT_WHAT, gauss_samples, run_chain,
                                    same_seed, mean_se, second_moments, centered_gaussian)

# MALA: 1-D quartic target log pi = -x^2 / 2 - x^4 / 8; invariance of N(0, COV)
H_MALA, X_MALA, N_MALA = 0.5, np.array([0.0, 0.7, 1.5]), 20_000
COV, H_INV, N_INV, K_INV = np.array([[1.0, 0.8], [0.8, 1.0]]), 0.1, 20_000, 20


def quartic_log_prob(x):
    x2 = x * x
    return -(0.5 * x2 + 0.125 * x2 * x2).sum(axis=1)


def quartic_score(x):
    return -x - 0.5 * x * x * x


_Z = np.linspace(-12.0, 12.0, 24_001)
_W = np.exp(-0.5 * _Z ** 2) / np.exp(-0.5 * _Z ** 2).sum()            # N(0, 1) on a fine grid


def mala_step_law(x, h, mistake=None):
    """(acceptance, E dx, E dx^2, E dx^4) of one MALA step from x in 1-D on the quartic target,
    by quadrature over the proposal's xi; ``mistake`` is a named mistake's step."""
    def lp(a):
        return quartic_log_prob(np.reshape(a, (-1, 1)))
    c = np.sqrt(h) if mistake in ("variance", "variance_consistent") else np.sqrt(2 * h)
    sx = quartic_score(x)
    y = x + h * sx + c * _Z                                             # the proposals (grid)
    q_var = h if mistake == "variance_consistent" else 2 * h
    log_q_xy = -(y - x - h * sx) ** 2 / (2 * q_var)
    log_q_yx = -(x - y - h * (sx if mistake == "sx" else quartic_score(y))) ** 2 / (2 * q_var)
    log_r = lp(y) - lp(x)                                               # Algorithm 1, l. 4
    if mistake != "no_hastings":
        log_r = log_r + log_q_yx - log_q_xy
    a = np.ones_like(_Z) if mistake == "ula" else np.exp(np.minimum(0.0, log_r))
    dx = y - x
    return np.array([np.sum(_W * a * dx ** k) for k in (0, 1, 2, 4)])


MALA_MISTAKES = {
    "no Hastings term: the ULA move accepted with min(1, pi(y) / pi(x))": "no_hastings",
    "proposal noise sqrt(h) xi instead of sqrt(2 h) xi (Hastings term of variance 2h)":
        "variance",
    "proposal noise sqrt(h) xi instead of sqrt(2 h) xi (Hastings term of variance h)":
        "variance_consistent",
    "reverse move's mean x - h s(x) instead of y + h s(y): s(x) instead of s(y) in Q(y, x)":
        "sx",
    "no accept/reject: every ULA move kept": "ula"}


def mala_run(student, ctx, log_prob, score, x0, n_steps, h, stream=None):
    def args(rng):
        return log_prob, score, backend.asarray(x0), n_steps, h, rng
    return run_chain(student, ctx, args, (n_steps,) + x0.shape, stream)


def mala_contract(student, ctx):
    return same_seed(lambda: mala_run(student, ctx, quartic_log_prob, quartic_score,
                                      np.zeros((5, 2)), 3, 0.1, stream=1))


def _mala_step(student, ctx):
    x0 = np.repeat(X_MALA, N_MALA)[:, None]
    y = mala_run(student, ctx, quartic_log_prob, quartic_score, x0, 1, H_MALA)[0]
    return (y - x0)[:, 0].reshape(len(X_MALA), N_MALA)                  # (points, n)


def _by_points(k, mistake=None):
    return np.array([mala_step_law(x, H_MALA, mistake)[k] for x in X_MALA])


def mala_acceptance(student, ctx):
    moved = (_mala_step(student, ctx) != 0).T                           # (n, points)
    p = _by_points(0)
    return Measurement(moved.mean(axis=0), p, mean_se(p * (1 - p), moved),
                       labels=[f"x = {x}" for x in X_MALA],
                       mistakes={k: _by_points(0, v) for k, v in MALA_MISTAKES.items()})


def mala_one_step_moments(student, ctx):
    dx = _mala_step(student, ctx).T                                     # (n, points)
    values = np.concatenate([dx, dx ** 2], axis=1)
    law = np.array([mala_step_law(x, H_MALA) for x in X_MALA])         # (points, 4)
    var = np.concatenate([law[:, 2] - law[:, 1] ** 2, law[:, 3] - law[:, 2] ** 2])
    return Measurement(values.mean(axis=0), np.concatenate([law[:, 1], law[:, 2]]),
                       mean_se(var, values),
                       labels=[f"E {m} at x = {x}" for m in ("dx", "dx^2") for x in X_MALA],
                       mistakes={k: np.concatenate([_by_points(1, v), _by_points(2, v)])
                                 for k, v in MALA_MISTAKES.items()})


def mala_invariance(student, ctx):
    """Chains started from exact N(0, COV) samples keep E x_i x_j = COV_ij after K_INV steps."""
    log_prob, score = centered_gaussian(COV)
    x = mala_run(student, ctx, log_prob, score, gauss_samples(ctx, COV, N_INV), K_INV,
                 H_INV)[-1]
    est, expected, se = second_moments(x, COV)
    return Measurement(est, expected, se, labels=["E x1^2", "E x2^2", "E x1 x2"])


def mala_pilot(student, ctx):
    seconds = ctx.timed(lambda: mala_run(student, ctx, quartic_log_prob, quartic_score,
                                         np.zeros((2000, 1)), 5, 0.1))
    return seconds, (2 * len(X_MALA) * N_MALA + N_INV * K_INV) / (2000 * 5)


# --- annealed Langevin (Eq. 121) -----------------------------------------------------------------


CONTRACT_MALA = Contract(
    function="mala", params=("log_prob", "score", "x0", "n_steps", "step_size", "rng"),
    title="Exercise: Metropolis-adjusted Langevin (MALA), notes §6.1 Eq. (122) and Algorithm 1",
    doc="""Run n_chains MALA chains in lockstep: propose y = x + h score(x) + sqrt(2 h) xi,
accept it with the Metropolis-Hastings probability of Algorithm 1 (Q(x, y) = N(y; x + h
score(x), 2 h I) is not symmetric).

log_prob: function (n, d) -> (n,), log pi up to a constant.
score: function (n, d) -> (n, d), grad log pi.
x0: (n_chains, d) array, the states at step 0.   step_size: h > 0.
rng: a numpy.random.Generator; draw every random number from it.
Returns samples: (n_steps, n_chains, d), the states after steps 1, ..., n_steps.""")

HINT_MALA = ("notes Algorithm 1 line 4 with the proposal of Eq. (122): y = x + h s(x) + "
             "sqrt(2h) xi, log r = log pi(y) - log pi(x) + log Q(y, x) - log Q(x, y), log Q(x, y) "
             "= -|y - x - h s(x)|^2 / (4h)")


CHECKS = "minigen.mcmc.langevin"
EXERCISES = [
    Exercise(name="mala", contract=CONTRACT_MALA, pilot=mala_pilot, properties=[
        Property("contract", CONTRACT_WHAT, mala_contract, CONTRACT_HINT),
        Property("acceptance", "one step from a fixed x moves as often as the exact MALA "
                 "acceptance (quadrature over xi)", mala_acceptance, HINT_MALA, ("contract",)),
        Property("one_step_moments", "one step from a fixed x has the exact E dx and E dx^2",
                 mala_one_step_moments, HINT_MALA, ("contract",)),
        Property("invariance", "chains started from N(0, C) keep its covariance (Eq. 41)",
                 mala_invariance, "notes Eq. (41): keep log pi and the score of each chain in "
                 "step with its state (update both on acceptance)",
                 ("acceptance", "one_step_moments"))]),
]
