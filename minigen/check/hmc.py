"""Check a student's Hamiltonian Monte Carlo (leapfrog of notes §2.8.1 Eq. (12) + Algorithm 1).

One HMC step from x: draw p ~ N(0, I), run L leapfrog steps to (x', p'), accept x' with
probability min(1, exp(H(x, p) - H(x', p'))), H = -log pi(x) + |p|^2 / 2. In 1-D that step is
an integral over p: its acceptance and moments by quadrature over p, and the two-step mean by a
nested quadrature (a fresh p at each step). Invariance: chains started from exact samples of a
correlated Gaussian keep its covariance. SEs as in langevin.py. Duane et al. 1987; Neal 2011.
"""
import functools

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property
from minigen.check.langevin import (CONTRACT_HINT, CONTRACT_WHAT, gauss_samples, run_chain,
                                    same_seed, mean_se, second_moments, centered_gaussian)

# 1-D quartic target log pi = -x^2 / 2 - x^4 / 8; a trajectory of time EPS * LF ~ 2 (a large
# turn, so that a kept momentum and a fresh one differ); invariance of N(0, COV)
EPS, LF, X_HMC, N_HMC = 0.4, 5, np.array([0.0, 0.7, 1.5]), 20_000
COV, EPS_INV, LF_INV, N_INV, K_INV = np.array([[1.0, 0.8], [0.8, 1.0]]), 0.3, 3, 20_000, 20


def quartic_log_prob(x):
    x2 = x * x
    return -(0.5 * x2 + 0.125 * x2 * x2).sum(axis=1)


def quartic_score(x):
    return -x - 0.5 * x * x * x


def _lp(x):
    return -(0.5 * x * x + 0.125 * x ** 4)


def _score(x):
    return -x - 0.5 * x ** 3


def _grid(n):
    """A uniform grid of momenta on [-7, 7] and its N(0, 1) weights (summing to 1)."""
    p = np.linspace(-7.0, 7.0, n)
    w = np.exp(-0.5 * p * p)
    return p, w / w.sum()


def flow(x, p, eps=EPS, n=LF):
    """n leapfrog steps of the 1-D quartic H, elementwise on arrays x, p (written out); a
    trajectory that diverges (|p| of 5 or more from x = 1.5) ends at inf or NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n):
            p = p + 0.5 * eps * _score(x)
            x = x + eps * p
            p = p + 0.5 * eps * _score(x)
    return x, p


def accept_prob(x, p, mistake=None):
    """The acceptance of the trajectory from (x, p), and its end point (elementwise)."""
    y, q = flow(x, p)
    with np.errstate(over="ignore", invalid="ignore"):
        kinetic = 0.5 * (p * p - q * q)
        log_r = _lp(y) - _lp(x) + {"no_kinetic": 0.0, "kinetic_sign": -kinetic}.get(mistake,
                                                                                    kinetic)
    a = np.ones_like(y) if mistake == "no_accept" else np.exp(np.minimum(0.0, log_r))
    ok = np.isfinite(y) & np.isfinite(log_r)          # a diverged trajectory is rejected
    x = np.broadcast_to(x, y.shape)
    return np.where(ok, a, 0.0), np.where(ok, y, x)


def step_law(x, mistake=None):
    """(acceptance, E dx, E dx^2) of one HMC step from x, by quadrature over p."""
    p, w = _grid(20_001)
    a, y = accept_prob(x, p, mistake)
    dx = y - x
    return np.array([np.sum(w * a), np.sum(w * a * dx), np.sum(w * a * dx * dx)])


@functools.lru_cache(maxsize=None)
def two_step_law(x, mistake=None, n_outer=1001, n_inner=201):
    """(E x_2, E x_2^2) after two HMC steps from x_0 = x: a fresh momentum at each step (nested
    quadrature); mistake="no_refresh": the first step's momentum is used again."""
    p, w = _grid(n_outer)
    a, y = accept_prob(x, p)                                   # step 1, (np,)
    if mistake == "no_refresh":
        b, z = accept_prob(y, p)                               # from y, the same p
        m = [np.sum(w * (a * (b * z ** k + (1 - b) * y ** k)
                         + (1 - a) * (a * y ** k + (1 - a) * x ** k))) for k in (1, 2)]
        return np.array(m)
    pi, wi = _grid(n_inner)

    def after(start):                                          # E [x_1^k | x_0 = start], k = 1, 2
        b, z = accept_prob(start[:, None], pi[None, :])
        s = start[:, None]
        return [np.sum(wi * (b * z ** k + (1 - b) * s ** k), axis=1) for k in (1, 2)]
    g_y, g_x = after(y), after(np.array([x]))
    return np.array([np.sum(w * (a * g_y[k] + (1 - a) * g_x[k][0])) for k in (0, 1)])


MISTAKES = {
    "no accept/reject: every leapfrog end point kept": "no_accept",
    "kinetic energy forgotten: accepted with min(1, pi(x') / pi(x)) instead of exp(H - H')":
        "no_kinetic",
    "sign of the kinetic energy: log r = log pi(x') - log pi(x) - (|p|^2 - |p'|^2) / 2":
        "kinetic_sign"}
REFRESH_MISTAKE = ("momentum drawn once before the loop: it must be drawn afresh at every step "
                   "(then the chain only follows one trajectory)")


def hmc_run(student, ctx, log_prob, score, x0, n_steps, eps, lf, stream=None):
    def args(rng):
        return log_prob, score, backend.asarray(x0), n_steps, eps, lf, rng
    return run_chain(student, ctx, args, (n_steps,) + x0.shape, stream)


def hmc_contract(student, ctx):
    return same_seed(lambda: hmc_run(student, ctx, quartic_log_prob, quartic_score,
                                     np.zeros((5, 2)), 3, 0.2, 3, stream=1))


def _steps(student, ctx, n_steps):
    x0 = np.repeat(X_HMC, N_HMC)[:, None]
    y = hmc_run(student, ctx, quartic_log_prob, quartic_score, x0, n_steps, EPS, LF)
    return y[:, :, 0].reshape(n_steps, len(X_HMC), N_HMC)         # (steps, points, n)


def _by_points(k, mistake=None):
    return np.array([step_law(x, mistake)[k] for x in X_HMC])


def acceptance(student, ctx):
    moved = (_steps(student, ctx, 1)[0] != X_HMC[:, None]).T        # (n, points)
    p = _by_points(0)
    return Measurement(moved.mean(axis=0), p, mean_se(p * (1 - p), moved),
                       labels=[f"x = {x}" for x in X_HMC],
                       mistakes={k: _by_points(0, v) for k, v in MISTAKES.items()})


def one_step_moments(student, ctx):
    dx = (_steps(student, ctx, 1)[0] - X_HMC[:, None]).T            # (n, points)
    values = np.concatenate([dx, dx ** 2], axis=1)
    law = np.array([step_law(x) for x in X_HMC])
    var = np.concatenate([law[:, 2] - law[:, 1] ** 2, np.full(len(X_HMC), 0.0)])
    return Measurement(values.mean(axis=0), np.concatenate([law[:, 1], law[:, 2]]),
                       mean_se(var, values),
                       labels=[f"E {m} at x = {x}" for m in ("dx", "dx^2") for x in X_HMC],
                       mistakes={k: np.concatenate([_by_points(1, v), _by_points(2, v)])
                                 for k, v in MISTAKES.items()})


def momentum_refresh(student, ctx):
    """Two steps from a fixed x: E x_2 and E x_2^2 with a fresh momentum at each step."""
    x2 = _steps(student, ctx, 2)[1].T                                # (n, points)
    values = np.concatenate([x2, x2 ** 2], axis=1)
    law = np.array([two_step_law(float(x)) for x in X_HMC])          # (points, 2)
    bad = np.array([two_step_law(float(x), "no_refresh") for x in X_HMC])
    return Measurement(values.mean(axis=0), law.T.ravel(), mean_se(0.0, values),
                       labels=[f"E {m} at x_0 = {x}" for m in ("x_2", "x_2^2") for x in X_HMC],
                       mistakes={REFRESH_MISTAKE: bad.T.ravel()})


def invariance(student, ctx):
    """Chains started from exact N(0, COV) samples keep E x_i x_j = COV_ij after K_INV steps."""
    log_prob, score = centered_gaussian(COV)
    x = hmc_run(student, ctx, log_prob, score, gauss_samples(ctx, COV, N_INV), K_INV, EPS_INV,
                LF_INV)[-1]
    est, expected, se = second_moments(x, COV)
    return Measurement(est, expected, se, labels=["E x1^2", "E x2^2", "E x1 x2"])


def pilot(student, ctx):
    seconds = ctx.timed(lambda: hmc_run(student, ctx, quartic_log_prob, quartic_score,
                                        np.zeros((2000, 1)), 5, EPS, LF))
    return seconds, (5 * len(X_HMC) * N_HMC + N_INV * K_INV) / (2000 * 5)


CONTRACT = Contract(
    function="hmc",
    params=("log_prob", "score", "x0", "n_steps", "step_size", "n_leapfrog", "rng"),
    title="Exercise: Hamiltonian Monte Carlo, leapfrog (notes Eq. (12)) + Algorithm 1",
    doc="""Run n_chains HMC chains in lockstep. At each step: draw a momentum p ~ N(0, I), run
n_leapfrog leapfrog steps of H(x, p) = -log pi(x) + |p|^2 / 2 to (x', p'), accept x' with
probability min(1, exp(H(x, p) - H(x', p'))), else keep x.

log_prob: function (n, d) -> (n,), log pi up to a constant.
score: function (n, d) -> (n, d), grad log pi (the force is score, -grad U).
x0: (n_chains, d) array, the states at step 0.
step_size: the leapfrog step eps > 0.   n_leapfrog: leapfrog steps per proposal.
rng: a numpy.random.Generator; draw every random number from it.
Returns samples: (n_steps, n_chains, d), the states after steps 1, ..., n_steps.""")

HINT = ("notes Eq. (12): p <- p + (eps/2) score(x), x <- x + eps p, p <- p + (eps/2) score(x), "
        "n_leapfrog times; Algorithm 1 line 4 on exp(-H): log r = log pi(x') - log pi(x) + "
        "(|p|^2 - |p'|^2) / 2")
CHECKS = "minigen.mcmc.hmc"
EXERCISES = [Exercise(name="hmc", aliases=("hamiltonian_monte_carlo",), contract=CONTRACT,
                      pilot=pilot, properties=[
    Property("contract", CONTRACT_WHAT, hmc_contract, CONTRACT_HINT),
    Property("acceptance", "one step from a fixed x is accepted as often as the exact HMC "
             "acceptance E_p min(1, exp(-dH)) (quadrature over p)", acceptance, HINT,
             ("contract",)),
    Property("one_step_moments", "one step from a fixed x has the exact E dx and E dx^2",
             one_step_moments, HINT, ("contract",)),
    Property("momentum_refresh", "two steps from a fixed x have the exact E x_2, E x_2^2 of a "
             "fresh momentum at each step", momentum_refresh, "draw p ~ N(0, I) anew at every "
             "step, inside the loop (the momentum is forgotten after each proposal); keep the "
             "cached log pi of each chain in step with its state",
             ("acceptance", "one_step_moments")),
    Property("invariance", "chains started from N(0, C) keep its covariance (Eq. 41)",
             invariance, "notes Eq. (41): keep the cached log pi of each chain in step with its "
             "state (update it on acceptance)", ("momentum_refresh",))])]
