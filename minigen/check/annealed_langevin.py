"""Check a student's simulated annealing with Langevin steps (notes §6.1, Eq. (121)-(122)).

At step t, x <- x + h score(x) + sqrt(2 h / beta_t) xi: step t's noise variance is 2 h / beta_t,
and on N(0, s^2) the variance follows v_t = (1 - h / s^2)^2 v_(t-1) + 2 h / beta_t exactly.
SEs: a Gaussian variance v sqrt(2 / n). Kirkpatrick et al. 1983. The chain machinery is
langevin.py's.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property
from minigen.check.langevin import (CONTRACT_HINT, MU, S2_STEP, diag_score, gauss_samples,
                                    run_chain, same_seed, mean_se, ula_variance_path)

# annealing on N(0, S2_ANN I), d = 2, from exact samples of it
BETAS_ANN, H_ANN, S2_ANN, N_ANN = np.geomspace(0.05, 1.0, 16), 0.2, 2.0, 60_000


def annealed_run(student, ctx, x0, betas, h, score, stream=None):
    def args(rng):
        return score, backend.asarray(x0), backend.asarray(betas), h, rng
    return run_chain(student, ctx, args, (len(betas),) + x0.shape, stream)


def _annealed_path(student, ctx):
    """x_0, ..., x_T of the chains from exact N(0, S2_ANN I) samples: (T + 1, n, 2)."""
    x0 = gauss_samples(ctx, S2_ANN * np.eye(2), N_ANN)
    xs = annealed_run(student, ctx, x0, BETAS_ANN, H_ANN, diag_score(np.zeros(2), S2_ANN))
    return np.concatenate([x0[None], xs])


def annealed_contract(student, ctx):
    betas = np.array([0.2, 0.5, 1.0])
    return same_seed(lambda: annealed_run(student, ctx, np.zeros((5, 2)), betas, 0.1,
                                          diag_score(MU, S2_STEP), stream=1))


def _noise_variances():
    """What each named mistake makes the noise variance of step t: name -> (T,)."""
    b = BETAS_ANN
    return {"beta_t used as a temperature: noise variance 2 h beta_t": 2 * H_ANN * b,
            "betas applied in reverse order": 2 * H_ANN / b[::-1],
            "betas off by one: betas[t - 1] at step t": 2 * H_ANN / np.roll(b, 1),
            "betas off by one: betas[t + 1] at step t": 2 * H_ANN / np.append(b[1:], b[-1]),
            "dt for sqrt(dt): noise h sqrt(2 / beta_t) xi": 2 * H_ANN ** 2 / b,
            "missing factor 2: noise sqrt(h / beta_t) xi": H_ANN / b,
            "beta_t ignored: noise sqrt(2 h) xi": 2 * H_ANN * np.ones_like(b)}


def annealed_one_step_covariance(student, ctx):
    """The residual r_t = x_t - x_(t-1) - h s(x_(t-1)) is step t's noise: E r^2 = 2 h / beta_t."""
    path = _annealed_path(student, ctx)
    r = path[1:] - path[:-1] * (1 - H_ANN / S2_ANN)                      # (T, n, 2)
    r2 = (r ** 2).reshape(len(BETAS_ANN), -1).T                          # (2 n, T)
    v = 2 * H_ANN / BETAS_ANN
    return Measurement(r2.mean(axis=0), v, mean_se(2 * v * v, r2),
                       labels=[f"step {t + 1} (beta = {b:.3g})" for t, b in
                               enumerate(BETAS_ANN)], mistakes=_noise_variances())


def _variance_path(noise_var):
    return ula_variance_path(noise_var, H_ANN, S2_ANN, S2_ANN)


def annealed_variance_recursion(student, ctx):
    """On N(0, s^2) from exact samples: Var x_t = (1 - h / s^2)^2 Var x_(t-1) + 2 h / beta_t."""
    x2 = (_annealed_path(student, ctx)[1:] ** 2).reshape(len(BETAS_ANN), -1).T    # (2 n, T)
    v = _variance_path(2 * H_ANN / BETAS_ANN)
    return Measurement(x2.mean(axis=0), v, mean_se(2 * v * v, x2),
                       labels=[f"step {t + 1} (beta = {b:.3g})" for t, b in
                               enumerate(BETAS_ANN)],
                       mistakes={k: _variance_path(nv) for k, nv in _noise_variances().items()})


def annealed_pilot(student, ctx):
    seconds = ctx.timed(lambda: annealed_run(student, ctx, np.zeros((2000, 2)),
                                             np.linspace(0.2, 1.0, 5), 0.1,
                                             diag_score(MU, S2_STEP)))
    return seconds, 2 * len(BETAS_ANN) * N_ANN / (2000 * 5)


CONTRACT_ANNEALED = Contract(
    function="annealed_langevin", params=("score", "x0", "betas", "step_size", "rng"),
    title="Exercise: simulated annealing with Langevin steps, notes §6.1 Eq. (121), (122)",
    doc="""One ULA step per inverse temperature: at step t = 1, ..., T,
x <- x + h score(x) + sqrt(2 h / beta_t) xi.

score: function (n, d) -> (n, d), grad log pi of the target at beta = 1.
x0: (n_chains, d) array, the states at step 0.
betas: (T,) array of inverse temperatures, betas[t - 1] used at step t (hot to cold).
step_size: h > 0.   rng: a numpy.random.Generator; draw every random number from it.
Returns samples: (T, n_chains, d), the states after steps 1, ..., T.""")

HINT_ANN = "notes Eq. (121)-(122): at step t, x <- x + h score(x) + sqrt(2 h / beta_t) xi"
CHECKS = "minigen.mcmc.langevin"
EXERCISES = [
    Exercise(name="annealed_langevin", aliases=("annealing",), contract=CONTRACT_ANNEALED,
             pilot=annealed_pilot, properties=[
                 Property("contract", "returns (T, n_chains, d), draws from rng, same seed same "
                          "samples", annealed_contract, CONTRACT_HINT),
                 Property("one_step_covariance", "the noise of step t has variance 2 h / beta_t "
                          "(Eq. 121)", annealed_one_step_covariance, HINT_ANN, ("contract",)),
                 Property("variance_recursion", "on N(0, s^2) the variance follows "
                          "v_t = (1 - h / s^2)^2 v_(t-1) + 2 h / beta_t",
                          annealed_variance_recursion, "notes Eq. (121)-(122): evaluate the "
                          "score at the current state and draw fresh noise at every step",
                          ("one_step_covariance",))]),
]
