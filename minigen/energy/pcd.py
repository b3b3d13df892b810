"""Maximum likelihood for a neural energy: the MCMC gradient of Eq. (32) with persistent chains.

grad_theta l = E_data grad_theta U_theta - E_{p_theta} grad_theta U_theta       (Eq. 32)
The model term is a mean over chains y_i ~ p_theta_t (Eq. 35). Persistent contrastive divergence
keeps the chains from one theta_t to the next and moves them a few MALA steps per update; a
short-run variant restarts them from noise every step and learns a sampler, not a density.
Notes §3.1, Eq. (29)-(35). Tieleman 2008 (PCD); Du & Mordatch 2019, arXiv:1903.08689 (the energy
penalty alpha E[U^2], restarts); Nijkamp, Hill, Zhu & Wu 2019, arXiv:1904.09770 (short run).
"""
import math

import autograd

from minigen import backend, nn
from minigen.backend import check_choice, check_int, check_number, check_positive, xp
from minigen.mcmc.langevin import langevin, mala

CHAINS = ("persistent", "short_run")
TARGET_ACCEPT = 0.6      # persistent chains: the MALA step is adapted towards this acceptance


def langevin_target(energy, params):
    """(log_prob, score) of exp(-energy(params, .)) for mcmc.mala: z (n, d) -> (n,), (n, d).

    MALA asks for log_prob(y), then score(y) of the same y: one value-and-gradient pass serves
    both (the cache holds the last y): one forward pass, one backward pass with cotangent ones
    (rows are independent, so it gives every row's gradient)."""
    cache = {"z": None}

    def evaluate(z):
        if cache["z"] is not z:
            vjp, cache["u"] = autograd.make_vjp(lambda y: energy(params, y))(z)
            cache["g"] = vjp(xp.ones(z.shape[0]))                              # (n, d)
            cache["z"] = z
        return cache

    return (lambda z: -evaluate(z)["u"]), (lambda z: -evaluate(z)["g"])            # Eq. (44)


def pcd_loss(energy, params, x_data, y_model, alpha):
    """A scalar whose theta-gradient is Eq. (32) estimated by Eq. (35), plus the penalty.

    mean U(x_data) - mean U(y_model) + alpha (mean U(x_data)^2 + mean U(y_model)^2); the chains
    y_model (N, d) are constants (no gradient flows through the sampler). x_data: (B, d).
    """
    u_data, u_model = energy(params, x_data), energy(params, y_model)
    gap = xp.mean(u_data) - xp.mean(u_model)                                   # Eq. (32), (35)
    return gap + alpha * (xp.mean(u_data ** 2) + xp.mean(u_model ** 2))


def fit_pcd(energy, params, z, rng, *, n_steps, batch_size, lr, callback, progress,
            n_chains=512, mcmc_steps=5, chains="persistent", alpha=0.01, restart=0.02,
            step_size=0.02):
    """Gradient descent (Eq. 31) on the negative log-likelihood of exp(-energy(params, .)).

    energy(params, z) -> (n,), z: (n, d) standardized data. After every Adam step the chains
    (n_chains, d) move mcmc_steps steps under the new theta:
      chains="persistent": MALA from where they were; a fraction `restart` of them restarts from
        N(0, I) first, and the step size is adapted towards TARGET_ACCEPT;
      chains="short_run": every chain starts from N(0, I) and makes mcmc_steps ULA steps of the
        fixed step_size (Nijkamp et al. 2019): the chains never reach p_theta. On the blobs it
        needs alpha ~ 0.1: with 0.01 the wells deepen until ULA overshoots them and diverges.
    alpha >= 0: the energy penalty (0: plain Eq. 32; a small value keeps U from drifting).
    restart = alpha = 0 is plain PCD (Tieleman 2008).
    Returns (params, history of the loss, the final MALA step size).
    """
    chains = check_choice(chains, "chains", CHAINS)
    n_chains, mcmc_steps = check_int(n_chains, "n_chains"), check_int(mcmc_steps, "mcmc_steps")
    alpha = check_number(alpha, "alpha", low=0.0)
    restart = backend.check_probability(restart, "restart")
    state = {"y": rng.standard_normal((n_chains, z.shape[1])),
             "h": check_positive(step_size, "step_size")}

    def loss(p, step):
        return pcd_loss(energy, p, nn.minibatch(z, batch_size, rng), state["y"], alpha)

    def advance(step, p, value):
        log_prob, score = langevin_target(energy, p)
        if chains == "short_run":
            y0 = rng.standard_normal(tuple(state["y"].shape))
            state["y"] = langevin(score, y0, mcmc_steps, state["h"], rng, thin=mcmc_steps,
                                  progress=False).final
        else:
            fresh = rng.random((n_chains,)) < restart
            y0 = xp.where(fresh[:, None], rng.standard_normal(tuple(state["y"].shape)),
                          state["y"])
            run = mala(log_prob, score, y0, mcmc_steps, state["h"], rng, thin=mcmc_steps,
                       progress=False)
            state["y"] = run.final
            rate = float(backend.to_numpy(xp.mean(run.accept_rate)))
            state["h"] *= math.exp(0.05 * (rate - TARGET_ACCEPT))             # Robbins-Monro
        if callback is not None:
            callback(step, p, value)

    params, history = nn.train(loss, params, n_steps, lr=lr, callback=advance,
                               name=f"PCD ({chains} chains)", progress=progress)
    return params, history, state["h"]
