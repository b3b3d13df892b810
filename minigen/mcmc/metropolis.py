"""Metropolis-Hastings: a Markov chain whose transition kernel keeps pi invariant.

Propose y ~ Q(x, .), accept with rho(x, y) = min(1, Q(y, x) pi(y) / (Q(x, y) pi(x)))   (Algorithm 1, l. 4),
so that p(y|x) = Q(x, y) rho(x, y) (Eq. 40) satisfies detailed balance pi(x) p(y|x) = pi(y) p(x|y) (Eq. 41);
for a symmetric Q (the Gaussian random walk) rho = min(1, pi(y) / pi(x)) (Eq. 42).
Notes §3.2, Eq. (36)-(42), Algorithm 1, Fig. 15-16.  Metropolis et al. 1953; Hastings 1970.

Proposal contract (for a custom Q): an object with
    sample(x, rng) -> y          x, y: (n, d)      draws y ~ Q(x, .) for every chain
    log_density(y, x) -> (n,)    log Q(x, y), the log density of proposing y from x (up to a constant).
"""
from typing import NamedTuple

from minigen import backend
from minigen.backend import check_int, check_positive, xp
from minigen.progress import steps


class ChainResult(NamedTuple):
    """What a sampler returns.

    samples: (n_steps // thin, n_chains, d), the state after steps thin, 2 thin, ... (x0 not included)
    accept_rate: (n_chains,), fraction of accepted proposals per chain (1 for the unadjusted Langevin chain)
    final: (n_chains, d), the state after the last step (to restart a chain without storing it)
    """
    samples: object
    accept_rate: object
    final: object


# --- checks shared by the samplers of this room -------------------------------------------------------

def check_run(x0, n_steps, thin):
    """x0 -> (n_chains, d) backend array; n_steps >= 1; 1 <= thin <= n_steps."""
    x0 = backend.as_points(x0, "x0")
    n_steps = check_int(n_steps, "n_steps")
    thin = check_int(thin, "thin")
    if thin > n_steps:
        raise ValueError(f"thin must be <= n_steps={n_steps} (at least one kept sample); got thin={thin}")
    return x0, n_steps, thin


def checked_call(f, x, name, shape):
    """Evaluate f(x) once at the start of a chain and check its shape and that it is finite."""
    out = f(x)
    if tuple(getattr(out, "shape", ())) != shape:
        raise ValueError(f"{name}(x0) must have shape {shape}; got shape {tuple(getattr(out, 'shape', ()))}")
    if not bool(xp.all(xp.isfinite(out))):
        raise ValueError(f"{name}(x0) must be finite; got non-finite values (NaN or inf) at x0")
    return out


# --- the sampler ---------------------------------------------------------------------------------------

def metropolis_hastings(log_prob, x0, n_steps, step_size, rng, proposal=None, thin=1,
                        progress=None) -> ChainResult:
    """Algorithm 1 for n_chains chains in lockstep.

    log_prob: (n, d) -> (n,), log pi up to a constant.   x0: (n_chains, d), the states at step 0.
    step_size: std of the Gaussian random walk y = x + step_size * z (Eq. 42); ignored if `proposal` is given.
    proposal: None, or an object with sample(x, rng) and log_density(y, x) (see the module docstring).
    thin: keep one state every `thin` steps; samples has shape (n_steps // thin, n_chains, d).
    log_prob is called once per step (on the proposals): the log pi of the current state is cached.
    progress: a progress bar on long runs (None: in a terminal; False: never).
    """
    x, n_steps, thin = check_run(x0, n_steps, thin)
    n, d = x.shape
    if proposal is None:
        step_size = check_positive(step_size, "step_size")
    elif not (callable(getattr(proposal, "sample", None)) and callable(getattr(proposal, "log_density", None))):
        raise ValueError(f"proposal must have methods sample(x, rng) and log_density(y, x); got {proposal!r}")
    lp_x = checked_call(log_prob, x, "log_prob", (n,))                      # log pi(x), cached
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    n_accept = xp.zeros(n, dtype=x.dtype)
    for k in steps(n_steps, "Metropolis-Hastings", progress, start=1):
        if proposal is None:
            y = x + step_size * rng.standard_normal((n, d))               # Algorithm 1, l. 3: y ~ Q(x, .)
            lp_y = log_prob(y)
            log_r = lp_y - lp_x                                           # Eq. (42), in log space
        else:
            y = proposal.sample(x, rng)                                   # Algorithm 1, l. 3
            lp_y = log_prob(y)
            # Algorithm 1, l. 4: log r = log pi(y) + log Q(y, x) - log pi(x) - log Q(x, y)
            log_r = lp_y - lp_x + proposal.log_density(x, y) - proposal.log_density(y, x)
        accept = xp.log(rng.random((n,))) < log_r                         # l. 5: u <= r  (NaN -> reject)
        x = xp.where(accept[:, None], y, x)                               # l. 5-6
        lp_x = xp.where(accept, lp_y, lp_x)
        n_accept = n_accept + accept
        if k % thin == 0:
            kept[k // thin - 1] = x                                       # l. 7: keep x_i
    return ChainResult(kept, n_accept / n_steps, x)


class GaussianRandomWalk:
    """The default symmetric proposal y = x + step_size z as a proposal object (Eq. 42)."""

    def __init__(self, step_size):
        self.step_size = check_positive(step_size, "step_size")

    def sample(self, x, rng):
        return x + self.step_size * rng.standard_normal(x.shape)

    def log_density(self, y, x):
        """log Q(x, y) up to a constant: -|y - x|^2 / (2 step_size^2), (n,)."""
        return -0.5 * xp.sum((y - x) ** 2, axis=1) / self.step_size ** 2


def transition_matrix(pi, Q):
    """Exact Metropolis-Hastings kernel on a finite space (Eq. 40 + Algorithm 1, l. 4): P (S, S) from
    the target pi (S,) (unnormalized is fine) and the proposal matrix Q[x, y] = Q(x, y) (rows sum to 1).
    Host-side helper for small discrete spaces (Fig. 15, Eq. 39)."""
    pi, Q = backend.asarray(pi, "pi"), backend.asarray(Q, "Q")
    S = pi.shape[0]
    if pi.ndim != 1 or Q.shape != (S, S) or not bool(xp.all(pi > 0)):
        raise ValueError(f"pi must be (S,) positive and Q (S, S); got shapes {tuple(pi.shape)}, {tuple(Q.shape)}")
    ratio = (Q.T * pi[None, :]) / xp.maximum(Q * pi[:, None], 1e-300)    # Q(y,x) pi(y) / (Q(x,y) pi(x))
    off = Q * xp.minimum(1.0, ratio) * (1.0 - xp.eye(S))                  # Eq. (40), y != x
    return off + xp.diag(1.0 - xp.sum(off, axis=1))                       # rejected mass stays at x
