"""Langevin sampling: a diffusion whose stationary law is p ∝ exp(-beta U).

dx = -grad U(x) dt + sqrt(2 / beta) dW  (Eq. 119): the drift is the score of exp(-U) (Eq. 117),
and Fokker-Planck is stationary only for sigma = sqrt(2 / beta) (Eq. 118).  Euler-Maruyama
(Eq. 122): x <- x + h score(x) + sigma sqrt(h) xi  (ULA, biased by O(h), and unstable past
h ~ 2 / L, L the Lipschitz constant of the score); MALA makes it exact with Algorithm 1;
simulated annealing lets beta_t grow along the run (Eq. 121).  Notes §6.1, Eq. (114)-(122),
Fig. 32.  Roberts & Tweedie 1996 (ULA, MALA); Kirkpatrick et al. 1983 (annealing).

Convention: `score` is grad log pi of the target pi = exp(-U) / Z at beta = 1, i.e. -grad U
(for a `Gibbs(U)` target, its `score` with beta = 1). `beta` then tempers: the chain samples
pi^beta.
"""
import math

from minigen import backend
from minigen.backend import check_callable, check_positive, xp
from minigen.mcmc.metropolis import (LOG_PROB, ChainResult, check_ratio, check_run, check_step,
                                     checked_call, rows_finite)
from minigen.progress import steps

SCORE = "(n, d) -> (n, d)"


def langevin(score, x0, n_steps, step_size, rng, *, beta=1.0, sigma=None, thin=1,
             progress=None) -> ChainResult:
    """Unadjusted Langevin algorithm (ULA) for n_chains chains in lockstep.

    score: (n, d) -> (n, d), grad log pi = -grad U.   x0: (n_chains, d).   step_size: h > 0.
    beta: inverse temperature, the chain targets pi^beta ∝ exp(-beta U) (Eq. 119).
    sigma: noise level; default sqrt(2 / beta) (Eq. 118); any other sigma samples pi^(2 / sigma^2).
    Returns ChainResult: samples (n_steps // thin, n_chains, d), accept_rate (ones), final.
    Raises FloatingPointError if the chains become NaN or inf (h past the stability limit).
    progress: a progress bar on long runs (None: in a terminal; False: never).
    Random numbers per step: rng.standard_normal((n, d)).
    """
    score = check_callable(score, "score", SCORE)
    x, n_steps, rng, thin = check_run(x0, n_steps, rng, thin, progress)
    h = check_positive(step_size, "step_size")
    beta = check_positive(beta, "beta")
    sigma = math.sqrt(2.0 / beta) if sigma is None else check_positive(sigma, "sigma")  # (118)
    n, d = x.shape
    checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    noise_scale = sigma * math.sqrt(h)
    scale0 = float(backend.to_numpy(xp.max(xp.abs(x))))
    for k in steps(n_steps, "ULA", progress, start=1):
        s = score(x)
        x_new = x + (h * s + noise_scale * rng.standard_normal((n, d)))   # Eq. (122), V = score
        check_diverged("langevin", k, x, s, x_new, h, scale0)
        x = x_new
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, xp.ones(n, dtype=x.dtype), x)


def mala(log_prob, score, x0, n_steps, step_size, rng, *, thin=1, progress=None) -> ChainResult:
    """Metropolis-adjusted Langevin: the ULA move y = x + h s(x) + sqrt(2h) xi as the proposal
    of Algorithm 1.

    The proposal Q(x, y) = N(y; x + h s(x), 2h I) is not symmetric, so the Hastings ratio uses
    log Q(x, y) = -|y - x - h s(x)|^2 / (4h) = -|xi|^2 / 2,
    log Q(y, x) = -|x - y - h s(y)|^2 / (4h).
    log_prob: (n, d) -> (n,), score: (n, d) -> (n, d) of the same target pi; each is called once
    per step (log pi and s of the current state are cached).  Returns ChainResult with the
    per-chain acceptance.  Random numbers per step: rng.standard_normal((n, d)), rng.random((n,)).
    """
    log_prob = check_callable(log_prob, "log_prob", LOG_PROB)
    score = check_callable(score, "score", SCORE)
    x, n_steps, rng, thin = check_run(x0, n_steps, rng, thin, progress)
    h = check_positive(step_size, "step_size")
    n, d = x.shape
    lp_x = checked_call(log_prob, x, "log_prob", (n,))
    s_x = checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    n_accept = xp.zeros(n, dtype=x.dtype)
    c = math.sqrt(2.0 * h)
    for k in steps(n_steps, "MALA", progress, start=1):
        xi = rng.standard_normal((n, d))
        y = x + (h * s_x + c * xi)                                        # Eq. (122) as proposal
        lp_y, s_y = log_prob(y), score(y)
        back = x - y - h * s_y                                            # x - (y + h s(y))
        # Algorithm 1, l. 4: log r = log pi(y) - log pi(x) + log Q(y, x) - log Q(x, y)
        log_r = lp_y - lp_x + 0.5 * (_sq_norms(xi) - _sq_norms(back) / (2.0 * h))
        check_ratio(log_r, "mala", k, lp_y, y, (("score", s_y),))
        accept = xp.log(rng.random((n,))) < log_r
        x = xp.where(accept[:, None], y, x)
        lp_x = xp.where(accept, lp_y, lp_x)
        s_x = xp.where(accept[:, None], s_y, s_x)
        n_accept = n_accept + accept
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, n_accept / n_steps, x)


def annealed_langevin(score, x0, betas, step_size, rng, *, thin=1, progress=None) -> ChainResult:
    """Simulated annealing (Eq. 121): one ULA step per inverse temperature,
    x <- x + h s(x) + sqrt(2h / beta_t) xi.

    betas: (T,) inverse temperatures in (0, 1], typically increasing from small (hot) to 1.
    Returns ChainResult: samples (T // thin, n_chains, d) after steps thin, 2 thin, ...; final.
    Random numbers per step: rng.standard_normal((n, d)).
    """
    score = check_callable(score, "score", SCORE)
    bs = check_schedule(betas)
    x, n_steps, rng, thin = check_run(x0, len(bs), rng, thin, progress)
    h = check_positive(step_size, "step_size")
    n, d = x.shape
    checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    scale0 = float(backend.to_numpy(xp.max(xp.abs(x))))
    for k in steps(n_steps, "annealed Langevin", progress, start=1):
        beta_t = bs[k - 1]
        s = score(x)
        x_new = x + (h * s + math.sqrt(2.0 * h / beta_t) * rng.standard_normal((n, d)))  # (121)
        check_diverged("annealed_langevin", k, x, s, x_new, h, scale0)
        x = x_new
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, xp.ones(n, dtype=x.dtype), x)


def check_diverged(sampler, k, x, s, x_new, h, scale0):
    """check_step for an unadjusted Langevin step x -> x_new, with s = score(x): one sum.

    x is finite (the previous step passed). On failure, tells the two causes apart: the chains
    had grown far beyond their start (scale0 = max |x0|): the step is past the stability limit;
    or they had not: the score was NaN or inf at ordinary points."""
    def why():
        bad = ~rows_finite(x_new)
        size = float(backend.to_numpy(xp.max(xp.abs(x[bad]))))      # |x| of those chains before
        if size > 1e6 * (1.0 + scale0):
            return (f"became NaN or inf after growing to |x| ~ {size:.1e}: ULA (Eq. 122) diverges "
                    "when step_size is past the stability limit ~2/L of the drift, L the "
                    "Lipschitz constant of the score (L = 1/s^2 for N(0, s^2 I): step_size < "
                    f"2 s^2); here step_size={h:g}. Use a smaller step_size, or mala")
        n_score = int(backend.to_numpy(xp.sum(bad & ~rows_finite(s))))
        return (f"became NaN or inf: the score returned NaN or inf at {n_score} of them, at points "
                f"with |x| <= {size:.3g}; check the score function there")
    check_step(xp.isfinite(xp.sum(x_new)), sampler, k, lambda: ~rows_finite(x_new), why)


def check_schedule(betas):
    """An annealing schedule: a 1-D sequence of T >= 1 inverse temperatures in (0, 1] -> floats."""
    b = backend.to_numpy(backend.asarray(betas, "betas"))
    if b.ndim != 1 or b.size == 0:
        got = f"the scalar betas={float(b)!r}" if b.ndim == 0 else f"betas of shape {b.shape}"
        raise ValueError("betas must be a 1-D sequence of T >= 1 inverse temperatures in (0, 1], "
                         f"one per step (e.g. numpy.linspace(0.1, 1.0, 100)); got {got}")
    bad = [i for i, v in enumerate(b) if not 0.0 < v <= 1.0]
    if bad:
        raise ValueError(f"betas must be inverse temperatures in (0, 1]; got betas[{bad[0]}]="
                         f"{float(b[bad[0]])!r}")
    return [float(v) for v in b]


def _sq_norms(a):
    """|a_i|^2 for every row of a (n, d): (n,) (einsum: a row-wise dot, no (n, d) temporary)."""
    return xp.einsum("ij,ij->i", a, a)
