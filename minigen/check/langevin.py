"""Check a student's ULA (notes §6.1, Eq. (114)-(122)); annealing and MALA: their own modules.

ULA is Euler-Maruyama (Eq. 122) of dx = score(x) dt + sqrt(2 / beta) dW (Eq. 117-119):
x' = x + h s(x) + sqrt(2 h / beta) xi, so one step from a fixed x has mean x + h s(x) and
covariance (2 h / beta) I; on N(0, s^2) it is the AR(1) chain x' = (1 - h / s^2) x + sqrt(2 h) xi,
whose stationary law N(0, s^2 / (1 - h / (2 s^2))) chains started from it keep (the O(h) bias).
The chain machinery here (running a student's sampler, exact Gaussian starts, SEs) also serves
the MALA, annealing and HMC checks.
SEs: a mean sd / sqrt(n); a Gaussian variance v sqrt(2 / n), covariance sqrt(v1 v2 / n); a
frequency sqrt(p (1 - p) / n). Roberts & Tweedie 1996; Kirkpatrick et al. 1983.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError

GLOBAL_RNG = ("random numbers drawn from a global state (np.random), not from rng: two runs "
              "with the same rng differ")
# ULA: one step from 3 points with the score of N(MU, diag S2_STEP); stationarity on N(0, S2_ST)
H, BETAS = 0.3, (1.0, 0.4)
POINTS = np.array([[-1.0, 1.5], [1.5, 1.0], [2.0, -3.0]])
MU, S2_STEP = np.array([0.5, -1.0]), np.array([1.0, 2.0])
N_POINT = 10_000
H_ST, S2_ST, N_ST, K_ST = 0.5, np.array([1.0, 3.0]), 40_000, 50


def run_chain(student, ctx, args, shape, stream=None):
    """student(*args(rng)) as host samples of ``shape``; the rng must have been used."""
    rng = ctx.rng(stream)
    samples = ctx.array(ctx.call(student, *args(rng)), shape, "the returned samples")
    if rng.draws == 0:
        raise StudentError(f"your {ctx.function} drew no random numbers from rng: every random "
                           "number must come from the rng argument")
    return samples


def same_seed(run):
    differ = float(not np.array_equal(run(), run()))
    return Measurement([differ], [0.0], tol=0.5, labels=["two runs with the same seed"],
                       mistakes={GLOBAL_RNG: [1.0]})


def diag_score(mu, s2):
    """The score (n, d) -> (n, d) of N(mu, diag s2), on arrays of the active backend."""
    return lambda x: (backend.asarray(mu) - x) / backend.asarray(s2)


def gauss_samples(ctx, cov, n):
    """n exact samples of N(0, cov) (a generator of the check, not the student's rng)."""
    g = np.random.default_rng(1000 + ctx.seed)
    return g.standard_normal((n, len(cov))) @ np.linalg.cholesky(cov).T


def centered_gaussian(cov):
    """log pi and score of N(0, cov) on backend arrays, computed on the host: the invariance
    target of the MALA and HMC checks."""
    inv = np.linalg.inv(cov)

    def log_prob(x):
        x = backend.to_numpy(x)
        return backend.asarray(-0.5 * np.einsum("ni,ij,nj->n", x, inv, x))

    def score(x):
        return backend.asarray(-backend.to_numpy(x) @ inv)
    return log_prob, score


def mean_se(var, values):
    """SE of the mean of ``values`` (n, k) over n chains: sqrt(var / n) at the larger of the
    correct variance ``var`` and the measured one (so a named mistake is judged at its own
    spread; for a correct function the two agree)."""
    return np.sqrt(np.maximum(var, values.var(axis=0)) / len(values))


def second_moments(x, cov):
    """E x1^2, E x2^2, E x1 x2 over the chains, with SEs under N(0, cov): Var(x_i x_j) = C_ii C_jj
    + C_ij^2."""
    products = np.stack([x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1]], axis=1)    # (n, 3)
    var = [2 * cov[0, 0] ** 2, 2 * cov[1, 1] ** 2, cov[0, 0] * cov[1, 1] + cov[0, 1] ** 2]
    return products.mean(axis=0), [cov[0, 0], cov[1, 1], cov[0, 1]], mean_se(var, products)


# --- ULA (Eq. 118, 122) --------------------------------------------------------------------------

def ula_run(student, ctx, x0, n_steps, h, beta, score, stream=None):
    def args(rng):
        return score, backend.asarray(x0), n_steps, h, rng, beta
    return run_chain(student, ctx, args, (n_steps,) + x0.shape, stream)


def ula_contract(student, ctx):
    """Shapes, the use of rng, and the same samples for the same seed."""
    return same_seed(lambda: ula_run(student, ctx, np.zeros((5, 2)), 3, 0.1, 1.0,
                                     diag_score(MU, S2_STEP), stream=1))


def _ula_step(student, ctx, beta):
    x0 = np.repeat(POINTS, N_POINT, axis=0)
    y = ula_run(student, ctx, x0, 1, H, beta, diag_score(MU, S2_STEP))[0]
    return (y - x0).reshape(len(POINTS), N_POINT, 2)                     # (points, n, d)


def ula_one_step_mean(student, ctx):
    drift = (MU - POINTS) / S2_STEP                                     # score at the points
    est, se = [], []
    for beta in BETAS:
        dx = _ula_step(student, ctx, beta)
        est.append(dx.mean(axis=1))
        se.append([mean_se(2 * H / beta, d) for d in dx])
    labels = [f"x = ({p[0]:g}, {p[1]:g}), beta = {b}, coordinate {i + 1}" for b in BETAS
              for p in POINTS for i in range(2)]

    def mean(f):                    # the mean displacement f(beta) score(x), every case
        return np.concatenate([(f(b) * drift).ravel() for b in BETAS])
    mistakes = {
        "sign of the drift: x - h score(x)": mean(lambda b: -H),
        "drift multiplied by beta: x + h beta score(x) (score is the score at beta = 1; beta "
        "sets the noise only)": mean(lambda b: H * b),
        "drift not multiplied by step_size: x + score(x)": mean(lambda b: 1.0),
        "no drift": mean(lambda b: 0.0)}
    return Measurement(np.concatenate(est).ravel(), mean(lambda b: H),
                       np.concatenate(se).ravel(), labels=labels, mistakes=mistakes)


def ula_one_step_covariance(student, ctx):
    est, se, labels = [], [], []
    for beta in BETAS:
        dx = _ula_step(student, ctx, beta)
        c = (dx - dx.mean(axis=1, keepdims=True)).reshape(-1, 2)       # centred at each point
        products = np.stack([c[:, 0] ** 2, c[:, 1] ** 2, c[:, 0] * c[:, 1]], axis=1)
        v = 2 * H / beta
        est.append(products.sum(axis=0) / (len(c) - len(POINTS)))
        se.append(mean_se([2 * v * v, 2 * v * v, v * v], products))
        labels += [f"beta = {beta}, {e}" for e in ("Var dx1", "Var dx2", "Cov(dx1, dx2)")]

    def cov(var):
        return np.concatenate([[var(b), var(b), 0.0] for b in BETAS])
    mistakes = {
        "dt for sqrt(dt): noise h sqrt(2 / beta) xi": cov(lambda b: 2 * H ** 2 / b),
        "missing factor 2: noise sqrt(h / beta) xi": cov(lambda b: H / b),
        "sqrt(2 beta) for sqrt(2 / beta): noise sqrt(2 h beta) xi": cov(lambda b: 2 * H * b),
        "beta ignored: noise sqrt(2 h) xi": cov(lambda b: 2 * H),
        "beta applied to the std: noise sqrt(2 h) xi / beta": cov(lambda b: 2 * H / b ** 2),
        "the variance used as the std: noise (2 h / beta) xi": cov(lambda b: (2 * H / b) ** 2)}
    return Measurement(np.concatenate(est), cov(lambda b: 2 * H / b), np.concatenate(se),
                       labels=labels, mistakes=mistakes)


def ula_variance(h, s2, sigma=np.sqrt(2.0)):
    """The stationary variance of x' = (1 - h / s2) x + sigma sqrt(h) xi (ULA on N(0, s2)):
    v = (1 - h / s2)^2 v + sigma^2 h, i.e. sigma^2 s2 / (2 (1 - h / (2 s2))); = s2 / (1 - h /
    (2 s2)) for sigma = sqrt(2). Finite for h < 2 s2 only."""
    return sigma ** 2 * s2 / (2.0 * (1.0 - h / (2.0 * s2)))


def ula_variance_path(noise_var, h, s2, v0):
    """Var x_t of x_t = (1 - h / s2) x_(t-1) + sqrt(noise_var[t]) xi_t from Var x_0 = v0 (ULA and
    annealing on N(0, s2), Eq. 121-122): (T,)."""
    a2, v, out = (1 - h / s2) ** 2, v0, []
    for nv in noise_var:
        v = a2 * v + nv
        out.append(v)
    return np.array(out)


def ula_stationarity(student, ctx):
    """Chains started from ULA's own stationary law N(0, s^2 / (1 - h / (2 s^2))) keep it."""
    v = ula_variance(H_ST, S2_ST)
    x0 = gauss_samples(ctx, np.diag(v), N_ST)
    x = ula_run(student, ctx, x0, K_ST, H_ST, 1.0, diag_score(np.zeros(2), S2_ST))[-1]
    est, expected, se = second_moments(x, np.diag(v))
    return Measurement(est, expected, se, labels=["E x1^2", "E x2^2", "E x1 x2"], mistakes={
        "no O(h) bias: N(0, s^2) (this is not ULA)": [S2_ST[0], S2_ST[1], 0.0]})


def ula_pilot(student, ctx):
    seconds = ctx.timed(lambda: ula_run(student, ctx, np.zeros((2000, 2)), 5, 0.1, 1.0,
                                        diag_score(MU, S2_STEP)))
    total = 4 * len(POINTS) * N_POINT + N_ST * K_ST                    # chain-steps of the check
    return seconds, total / (2000 * 5)


# --- the exercises -------------------------------------------------------------------------------

CONTRACT_ULA = Contract(
    function="langevin", params=("score", "x0", "n_steps", "step_size", "rng", "beta=1.0"),
    title="Exercise: the unadjusted Langevin algorithm (ULA), notes §6.1 Eq. (118), (122)",
    doc="""Run n_chains ULA chains in lockstep: x <- x + h score(x) + sqrt(2 h / beta) xi.

score: function (n, d) -> (n, d), grad log pi of the target pi at beta = 1 (= -grad U).
x0: (n_chains, d) array, the states at step 0.
step_size: h > 0.   beta: inverse temperature; the chain targets pi^beta (Eq. 118-119).
rng: a numpy.random.Generator; draw every random number from it (xi ~ N(0, I)).
Returns samples: (n_steps, n_chains, d), the states after steps 1, ..., n_steps.""")

HINT_ULA = ("notes Eq. (122) with V = score and sigma = sqrt(2 / beta) (Eq. 118): "
            "x <- x + h score(x) + sqrt(2 h / beta) xi, xi ~ N(0, I)")
CONTRACT_WHAT = "returns (n_steps, n_chains, d), draws from rng, same seed same samples"
CONTRACT_HINT = "draw every random number from the rng argument"
CHECKS = "minigen.mcmc.langevin"
EXERCISES = [
    Exercise(name="langevin", aliases=("ula",), contract=CONTRACT_ULA, pilot=ula_pilot,
             properties=[
                 Property("contract", CONTRACT_WHAT, ula_contract, CONTRACT_HINT),
                 Property("one_step_mean", "one step from a fixed x has mean x + h score(x) "
                          "(Eq. 122)", ula_one_step_mean, HINT_ULA, ("contract",)),
                 Property("one_step_covariance", "one step from a fixed x has covariance "
                          "(2 h / beta) I (Eq. 118, 122)", ula_one_step_covariance, HINT_ULA,
                          ("contract",)),
                 Property("stationary_variance", "on N(0, s^2), chains started from "
                          "N(0, s^2 / (1 - h / (2 s^2))) keep it (ULA's O(h) bias)",
                          ula_stationarity, "notes Eq. (122): evaluate the score at the "
                          "current state at every step and draw fresh noise at every step",
                          ("one_step_mean", "one_step_covariance"))]),
]
