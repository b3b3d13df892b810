"""Check a student's reverse diffusion, the alpha family of Th. 9 (notes §2.8.2, §6.2.2).

    dy_s = [y_s + (1 + alpha) grad log q_s(y_s)] ds + sqrt(2 alpha) dW_s,  q_s = p_{T-s}  (Eq. 135)
Oracle: Gaussian data N(m, s^2 Id) has Gaussian OU marginals (kappa = 1, sigma = sqrt 2, Eq. 130)
p_t = N(e^{-t} m, v_t Id), v_t = e^{-2t} s^2 + 1 - e^{-2t}, score -(x - e^{-t} m) / v_t. Chains
started from exact samples of p_T must land on p_{t_min} (Eq. 136-139): mean, log variance and
correlation with the SEs of ornstein_uhlenbeck.sample_moments. The grid is fine enough that the
Euler-Maruyama bias, computed exactly by the scheme's affine moment recursion (scheme_law), stays
below 1 SE; the same recursion gives what each named mistake produces.
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError
from minigen.check.ornstein_uhlenbeck import law_measurement

M = np.array([1.0, -0.5])        # the data N(M, S2 Id)
S2 = 0.5
T, T_MIN, N_STEPS = 1.0, 0.1, 120
TIMES = np.exp(np.linspace(math.log(T), math.log(T_MIN), N_STEPS + 1))  # geometric, decreasing
N = 10_000                       # independent chains per property
ALPHA_MID = 0.5                  # neither 0 nor 1: alpha sqrt(2) and sqrt(2 alpha) differ


def variance(t, s2=S2):
    """v_t of p_t = N(e^{-t} M, v_t Id) (Eq. 130) for the data N(M, s2 Id)."""
    return math.exp(-2 * t) * s2 - math.expm1(-2 * t)


def mean(t):
    return math.exp(-t) * M


def exact_score(x, t):
    """grad log p_t(x) = -(x - e^{-t} M) / v_t for a backend array x (n, d)."""
    t = float(t)
    return backend.asarray(-(backend.to_numpy(x) - mean(t)) / variance(t))


def scheme_law(times, alpha, y_coef=1.0, score_coef=None, noise=None, score_time=None, *,
               s2=S2):
    """(mean (d,), variance) after the Euler-Maruyama steps on ``times`` started from p_T:
    y <- y + h (y_coef y + score_coef score(y, tau(t))) + sqrt(noise(h)) xi, h = t - t_next.
    The correct scheme: y_coef = 1, score_coef = 1 + alpha, noise(h) = 2 alpha h (Eq. 135).
    s2: the data's variance, N(M, s2 Id) (the variance recursion does not depend on M)."""
    score_coef = 1 + alpha if score_coef is None else score_coef
    noise = noise or (lambda h: 2 * alpha * h)
    tau = score_time or (lambda t: t)
    mu, var = mean(times[0]), variance(times[0], s2)
    for t, t_next in zip(times[:-1], times[1:]):
        h, s = t - t_next, tau(t)
        v_s = variance(s, s2)
        # score -(y - mean(s)) / v_s is affine in y: the mean and variance recursions are exact
        mu = mu + h * (y_coef * mu - score_coef * (mu - mean(s)) / v_s)
        var = (1 + h * (y_coef - score_coef / v_s)) ** 2 * var + noise(h)
    return mu, var


def mistakes(alpha):
    """name -> (mean, variance) of each named mistake's scheme at this alpha, leaving out those
    that give the correct law at this alpha (law_measurement names close ones together)."""
    a = 1 + alpha
    table = {
        "drift sign: y - (y + (1 + alpha) score) h, a step forward in time": dict(
            y_coef=-1.0, score_coef=-a),
        "score sign: y + (y - (1 + alpha) score) h": dict(score_coef=-a),
        "the forward drift -y in place of +y: y + (-y + (1 + alpha) score) h": dict(y_coef=-1.0),
        "the factor 1 + alpha on the score missing": dict(score_coef=1.0),
        "(1 + alpha^2) / 2 on the score in place of 1 + alpha": dict(
            score_coef=(1 + alpha ** 2) / 2),
        "noise sqrt(2 h) whatever alpha (alpha missing in the noise)": dict(
            noise=lambda h: 2 * h),
        "noise alpha sqrt(2 h) in place of sqrt(2 alpha h)": dict(
            noise=lambda h: 2 * alpha ** 2 * h),
        "h for sqrt(h): noise sqrt(2 alpha) h": dict(noise=lambda h: 2 * alpha * h * h),
        "score evaluated at the reverse time s = T - t, not at the OU time t": dict(
            score_time=lambda t: TIMES[0] - t),
    }
    correct = scheme_law(TIMES, alpha)
    out = {}
    for name, options in table.items():
        law = scheme_law(TIMES, alpha, **options)
        same = np.allclose(law[0], correct[0], rtol=1e-9) and abs(law[1] / correct[1] - 1) < 1e-9
        if not same:
            out[name] = law
    return out


CONTRACT = Contract(
    function="reverse_sde",
    params=("score", "x_T", "times", "rng", "alpha=1.0"),
    title="Exercise: reverse diffusion, the alpha family, notes §6.2.2 Th. 9 Eq. (135)",
    doc="""Integrate Eq. (135) by Euler-Maruyama (Eq. 122) from times[0] = T down to times[-1].

dy = [y + (1 + alpha) score(y, t)] ds + sqrt(2 alpha) dW, ds = -dt > 0 (reverse time).
score: function (x (n, d), t float) -> (n, d), the score grad log p_t of the forward OU
    marginal p_t (dx = -x dt + sqrt(2) dW), t the OU time.
x_T: (n, d) array, the starting points (samples of p_T).
times: 1-D array of OU times, strictly decreasing from T to t_min > 0.
rng: a numpy.random.Generator; draw every random number from it.
alpha: float >= 0; 1 is the reverse SDE, 0 the deterministic probability-flow ODE.
Returns the samples at times[-1]: (n, d).""")


def _run(student, ctx, x_T, alpha, times=TIMES, stream=None):
    rng = ctx.rng(stream)
    out = ctx.call(lambda *a: student(*a, alpha=alpha), exact_score, backend.asarray(x_T),
                   np.array(times), rng)
    x = ctx.array(out, x_T.shape, "the returned samples")
    if alpha > 0 and rng.draws == 0:
        raise StudentError("your reverse_sde drew no random numbers from rng at alpha > 0: "
                           "every random number must come from the rng argument")
    return x


def _start(ctx, n, stream):
    """n exact samples of p_T, from the check's own generator."""
    g = np.random.default_rng(10_000 * ctx.seed + stream)
    return mean(T) + math.sqrt(variance(T)) * g.standard_normal((n, len(M)))


def contract(student, ctx):
    """Shapes, the use of rng at alpha = 1, and the same samples for the same seed."""
    x_T, times = _start(ctx, 5, 0), np.linspace(T, T_MIN, 6)
    a, b = (_run(student, ctx, x_T, 1.0, times, stream=1) for _ in range(2))
    return Measurement([float(not np.array_equal(a, b))], [0.0], tol=0.5,
                       labels=["two runs with the same seed"],
                       mistakes={"random numbers drawn from a global state (np.random), not "
                                 "from rng: two runs with the same rng differ": [1.0]})


def _marginal(student, ctx, alpha, stream):
    """Mean, log variance and correlation at t_min of chains started from exact samples of p_T."""
    x = _run(student, ctx, _start(ctx, N, stream), alpha)
    where = f"t_min = {T_MIN:g} after {N_STEPS} steps, alpha = {alpha:g}"
    wrong = {k: [(mu, var, 0.0)] for k, (mu, var) in mistakes(alpha).items()}
    return law_measurement([x], [(mean(T_MIN), variance(T_MIN), 0.0)], wrong, "all", [where])


def sde_marginal(student, ctx):
    return _marginal(student, ctx, 1.0, 1)


def ode_marginal(student, ctx):
    return _marginal(student, ctx, 0.0, 2)


def alpha_family(student, ctx):
    return _marginal(student, ctx, ALPHA_MID, 3)


def ode_deterministic(student, ctx):
    """alpha = 0: two runs from the same x_T with different rng streams give the same points."""
    x_T, times = _start(ctx, 50, 4), TIMES[::10]
    a, b = (_run(student, ctx, x_T, 0.0, times, stream=s) for s in (2, 3))
    return Measurement([float(not np.array_equal(a, b))], [0.0], tol=0.5,
                       labels=["two runs at alpha = 0 with different rng streams"],
                       mistakes={"noise added at alpha = 0: sqrt(2 h) in place of "
                                 "sqrt(2 alpha h)": [1.0]})


def pilot(student, ctx):
    x_T, times = _start(ctx, 1000, 5), TIMES[:11]
    seconds = ctx.timed(lambda: _run(student, ctx, x_T, 1.0, times))
    return seconds, 3 * N * N_STEPS / (1000 * 10)


HINT = ("notes Th. 9, Eq. (135), (138): y <- y + [y + (1 + alpha) score(y, t)] h + "
        "sqrt(2 alpha h) xi, h = t - t_next > 0, score at the OU time t")
CHECKS = "minigen.diffusion.reverse"
EXERCISES = [Exercise(
    name="reverse_sde", aliases=("reverse", "reverse_diffusion"), contract=CONTRACT, pilot=pilot,
    properties=[
        Property("contract", "returns (n, d), draws from rng at alpha = 1, same seed same "
                 "samples", contract, "draw every random number from the rng argument"),
        Property("sde_marginal", "alpha = 1 (reverse SDE): chains started from p_T end on "
                 "p_{t_min} (Eq. 135-139)", sde_marginal, HINT, ("contract",)),
        Property("ode_marginal", "alpha = 0 (probability-flow ODE): points started from p_T end "
                 "on p_{t_min}", ode_marginal, HINT, ("contract",)),
        Property("ode_deterministic", "alpha = 0 uses no noise: the same x_T gives the same "
                 "points whatever the rng", ode_deterministic,
                 "notes Eq. (135): the noise sqrt(2 alpha) dW vanishes at alpha = 0",
                 ("contract",)),
        Property("alpha_family", f"alpha = {ALPHA_MID:g}: any alpha >= 0 keeps the marginals "
                 "(Eq. 136-139)", alpha_family, HINT, ("sde_marginal", "ode_marginal")),
    ])]
