"""Langevin sampling: a diffusion whose stationary law is p ∝ exp(-beta U).

dx = -grad U(x) dt + sqrt(2 / beta) dW  (Eq. 119): the drift is the score of exp(-U) (Eq. 117) and
Fokker-Planck is stationary only for sigma = sqrt(2 / beta) (Eq. 118).  Euler-Maruyama (Eq. 122):
x <- x + h score(x) + sigma sqrt(h) xi  (ULA, biased by O(h)); MALA makes it exact with Algorithm 1;
simulated annealing lets beta_t grow along the run (Eq. 121).  Notes §6.1, Eq. (114)-(122), Fig. 32.
Roberts & Tweedie 1996 (ULA, MALA); Kirkpatrick et al. 1983 (annealing).

Convention: `score` is grad log pi of the target pi = exp(-U) / Z at beta = 1, i.e. -grad U
(for a `Gibbs(U)` target, its `score` with beta = 1). `beta` then tempers: the chain samples pi^beta.
"""
import math

from minigen.backend import check_positive, xp
from minigen.mcmc.metropolis import ChainResult, check_run, checked_call
from minigen.progress import steps


def langevin(score, x0, n_steps, step_size, rng, beta=1.0, thin=1, sigma=None,
             progress=None) -> ChainResult:
    """Unadjusted Langevin algorithm (ULA) for n_chains chains in lockstep.

    score: (n, d) -> (n, d), grad log pi = -grad U.   x0: (n_chains, d).   step_size: h > 0.
    beta: inverse temperature, the chain targets pi^beta ∝ exp(-beta U) (Eq. 119).
    sigma: noise level; default sqrt(2 / beta) (Eq. 118). Any other sigma samples pi^(2 / sigma^2) instead.
    Returns ChainResult: samples (n_steps // thin, n_chains, d), accept_rate (all ones), final (n_chains, d).
    progress: a progress bar on long runs (None: in a terminal; False: never).
    """
    x, n_steps, thin = check_run(x0, n_steps, thin)
    h = check_positive(step_size, "step_size")
    beta = check_positive(beta, "beta")
    sigma = math.sqrt(2.0 / beta) if sigma is None else check_positive(sigma, "sigma")   # Eq. (118)
    n, d = x.shape
    checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    noise_scale = sigma * math.sqrt(h)
    for k in steps(n_steps, "ULA", progress, start=1):
        x = x + (h * score(x) + noise_scale * rng.standard_normal((n, d)))    # Eq. (122) with V = score (117)
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, xp.ones(n, dtype=x.dtype), x)


def mala(log_prob, score, x0, n_steps, step_size, rng, thin=1, progress=None) -> ChainResult:
    """Metropolis-adjusted Langevin: the ULA move y = x + h s(x) + sqrt(2h) xi as the proposal of Algorithm 1.

    The proposal Q(x, y) = N(y; x + h s(x), 2h I) is not symmetric, so the Hastings ratio uses
    log Q(x, y) = -|y - x - h s(x)|^2 / (4h) = -|xi|^2 / 2 and log Q(y, x) = -|x - y - h s(y)|^2 / (4h).
    log_prob: (n, d) -> (n,), score: (n, d) -> (n, d) of the same target pi; each is called once per step
    (log pi and s of the current state are cached).  Returns ChainResult with the per-chain acceptance.
    """
    x, n_steps, thin = check_run(x0, n_steps, thin)
    h = check_positive(step_size, "step_size")
    n, d = x.shape
    lp_x = checked_call(log_prob, x, "log_prob", (n,))
    s_x = checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    n_accept = xp.zeros(n, dtype=x.dtype)
    c = math.sqrt(2.0 * h)
    for k in steps(n_steps, "MALA", progress, start=1):
        xi = rng.standard_normal((n, d))
        y = x + (h * s_x + c * xi)                                            # Eq. (122) as proposal
        lp_y, s_y = log_prob(y), score(y)
        back = x - y - h * s_y                                                # x - (y + h s(y))
        # Algorithm 1, l. 4: log r = log pi(y) - log pi(x) + log Q(y, x) - log Q(x, y)
        log_r = lp_y - lp_x + 0.5 * (_sq_norms(xi) - _sq_norms(back) / (2.0 * h))
        accept = xp.log(rng.random((n,))) < log_r
        x = xp.where(accept[:, None], y, x)
        lp_x = xp.where(accept, lp_y, lp_x)
        s_x = xp.where(accept[:, None], s_y, s_x)
        n_accept = n_accept + accept
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, n_accept / n_steps, x)


def annealed_langevin(score, x0, betas, step_size, rng, thin=1, progress=None) -> ChainResult:
    """Simulated annealing (Eq. 121): one ULA step per inverse temperature, x <- x + h s(x) + sqrt(2h / beta_t) xi.

    betas: (T,) inverse temperatures in (0, 1], typically increasing from small (hot) to 1 (the target).
    Returns ChainResult: samples (T // thin, n_chains, d) after steps thin, 2 thin, ...; final (n_chains, d).
    """
    bs = _as_list(betas)
    if not bs or not all(0.0 < b <= 1.0 for b in bs):
        raise ValueError(f"betas must be a non-empty sequence of inverse temperatures in (0, 1]; got betas={bs!r}")
    x, n_steps, thin = check_run(x0, len(bs), thin)
    h = check_positive(step_size, "step_size")
    n, d = x.shape
    checked_call(score, x, "score", (n, d))
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    for k in steps(n_steps, "annealed Langevin", progress, start=1):
        beta_t = bs[k - 1]
        x = x + (h * score(x) + math.sqrt(2.0 * h / beta_t) * rng.standard_normal((n, d)))   # Eq. (121)-(122)
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, xp.ones(n, dtype=x.dtype), x)


def _sq_norms(a):
    """|a_i|^2 for every row of a (n, d): (n,) (einsum: a row-wise dot without an (n, d) temporary)."""
    return xp.einsum("ij,ij->i", a, a)


def _as_list(betas):
    try:
        return [float(b) for b in betas]
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a 1-D sequence of inverse temperatures > 0; got betas={betas!r}") from None
