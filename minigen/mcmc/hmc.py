"""Hamiltonian Monte Carlo: Metropolis-Hastings whose proposal is a leapfrog trajectory.

Augment x with a momentum p ~ N(0, I): H(x, p) = U(x) + |p|^2 / 2, U = -log pi. Each step draws a
fresh p, runs n_leapfrog leapfrog steps of Hamilton's equations (notes §2.8.1, Eq. (10)-(12):
volume-preserving and reversible under p -> -p), and accepts (x', p') with probability
min(1, exp(H(x, p) - H(x', p'))) (Algorithm 1, l. 4, on the joint law exp(-H)). The energy
error is O(step_size^2) over a fixed time, so long moves are accepted.  Notes §3.2, Eq. (40)-(42).
Duane, Kennedy, Pendleton & Roweth 1987; Neal 2011 (arXiv:1206.1901).
"""
from minigen import backend
from minigen.backend import check_callable, check_int, check_number, check_positive, xp
from minigen.mcmc.langevin import SCORE, _sq_norms
from minigen.mcmc.metropolis import LOG_PROB, ChainResult, check_ratio, check_run, checked_call
from minigen.ode import leapfrog
from minigen.progress import steps


def hmc(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng, *, jitter=0.0, thin=1,
        progress=None) -> ChainResult:
    """Hamiltonian Monte Carlo for n_chains chains in lockstep, unit mass matrix.

    log_prob: (n, d) -> (n,), log pi up to a constant; score: (n, d) -> (n, d), grad log pi, of
    the same target. x0: (n_chains, d). step_size: the leapfrog step eps > 0; n_leapfrog: L >= 1
    leapfrog steps per proposal (a trajectory of time eps L; L = 1 is MALA with h = eps^2 / 2).
    jitter: in [0, 1); each step uses one step size drawn uniformly in eps [1 - jitter,
    1 + jitter] for all chains (Neal 2011, §5.4.2.2). A fixed trajectory time T turns a Gaussian
    mode of frequency w by the angle w T: modes with w T near a multiple of pi are only flipped,
    their variance (and that of phi^2-like observables) then relaxes very slowly; jitter ~0.2
    mixes them.
    Per step: log_prob once and score L times (log pi and its gradient at the current state
    are kept from the step before).
    Returns ChainResult: samples (n_steps // thin, n_chains, d), accept_rate (n_chains,), final.
    A trajectory that turns NaN or inf (eps past the leapfrog stability limit ~2 / sqrt(L_U),
    L_U the largest curvature of U) raises FloatingPointError naming the step.
    progress: a progress bar on long runs (None: in a terminal; False: never).
    Random numbers per step: rng.random() if jitter > 0, rng.standard_normal((n, d)) (the
    momentum), rng.random((n,)).
    """
    log_prob = check_callable(log_prob, "log_prob", LOG_PROB)
    score = check_callable(score, "score", SCORE)
    x, n_steps, rng, thin = check_run(x0, n_steps, rng, thin, progress)
    eps = check_positive(step_size, "step_size")
    n_leapfrog = check_int(n_leapfrog, "n_leapfrog")
    jitter = check_number(jitter, "jitter", 0.0, 1.0, high_open=True)
    n, d = x.shape
    lp_x = checked_call(log_prob, x, "log_prob", (n,))
    # a trajectory's first gradient is known: grad U at the current state, the end of the last
    # trajectory where it was accepted and its start where it was not
    grads = {"start": -checked_call(score, x, "score", (n, d)), "end": None}

    def grad_U(q):
        # leapfrog asks for grad U at its start q = x first (its opening half kick)
        if grads["start"] is not None:
            g, grads["start"] = grads["start"], None
            return g
        grads["end"] = g = -score(q)
        return g

    def grad_K(p):                                                   # K(p) = |p|^2 / 2
        return p

    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    n_accept = xp.zeros(n, dtype=x.dtype)
    for k in steps(n_steps, "HMC", progress, start=1):
        h = eps * (1.0 + jitter * (2.0 * float(rng.random()) - 1.0)) if jitter else eps
        p = rng.standard_normal((n, d))                              # fresh momentum every step
        g_x = grads["start"]
        try:
            y, p_y = leapfrog(x, p, grad_U, grad_K, h, n_leapfrog)    # Eq. (12), L steps
        except FloatingPointError as err:
            raise FloatingPointError(
                f"hmc: at step {k}, the leapfrog trajectory diverged ({err}); with the unit "
                f"mass, take step_size < 2 / sqrt(largest curvature of -log pi); here "
                f"step_size={h:g}") from None
        lp_y = log_prob(y)
        # Algorithm 1, l. 4 on exp(-H): log r = -H(y, p_y) + H(x, p), H = -log pi + |p|^2 / 2
        log_r = lp_y - lp_x + 0.5 * (_sq_norms(p) - _sq_norms(p_y))
        check_ratio(log_r, "hmc", k, lp_y, y)
        accept = xp.log(rng.random((n,))) < log_r
        x = xp.where(accept[:, None], y, x)                          # p is then discarded
        lp_x = xp.where(accept, lp_y, lp_x)
        grads["start"] = xp.where(accept[:, None], grads["end"], g_x)
        n_accept = n_accept + accept
        if k % thin == 0:
            kept[k // thin - 1] = x
    return ChainResult(kept, n_accept / n_steps, x)


def energy_error(log_prob, score, x, p, step_size, n_leapfrog):
    """H(x', p') - H(x, p) (n,) after one leapfrog trajectory from (x, p), both (n, d): the
    quantity HMC's acceptance exp(-dH) tests; O(step_size^2) at a fixed time step_size n_leapfrog
    (the diagnostic for choosing step_size)."""
    x, p = backend.as_points(x, "x"), backend.as_points(p, "p")
    y, p_y = leapfrog(x, p, lambda q: -score(q), lambda m: m, step_size, n_leapfrog)
    return log_prob(x) - log_prob(y) + 0.5 * (_sq_norms(p_y) - _sq_norms(p))
