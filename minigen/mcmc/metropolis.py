"""Metropolis-Hastings: a Markov chain whose transition kernel keeps pi invariant.

Propose y ~ Q(x, .), accept with rho(x, y) = min(1, Q(y, x) pi(y) / (Q(x, y) pi(x)))  (Algorithm 1,
l. 4), so that p(y|x) = Q(x, y) rho(x, y) (Eq. 40) satisfies detailed balance
pi(x) p(y|x) = pi(y) p(x|y) (Eq. 41); for a symmetric Q (the Gaussian random walk)
rho = min(1, pi(y) / pi(x)) (Eq. 42).  Notes §3.2, Eq. (36)-(42), Algorithm 1, Fig. 15-16.
Metropolis et al. 1953; Hastings 1970.

Proposal contract (for a custom Q): an object with
    sample(x, rng) -> y          x, y: (n, d); draws y ~ Q(x, .) for every chain
    log_density(y, x) -> (n,)    log Q(x, y) up to a constant: the log density of proposing y
                                 from x
"""
import math
from typing import NamedTuple

from minigen import backend
from minigen.backend import check_callable, check_int, check_optional, check_positive, check_rng, xp
from minigen.progress import steps

LOG_PROB = "(n, d) -> (n,)"


class ChainResult(NamedTuple):
    """What a sampler returns.

    samples: (n_steps // thin, n_chains, d), the states after steps thin, 2 thin, ... (not x0)
    accept_rate: (n_chains,), accepted proposals / n_steps per chain (1 for unadjusted Langevin)
    final: (n_chains, d), the state after the last step (to restart a chain without storing it)
    """
    samples: object
    accept_rate: object
    final: object


# --- checks shared by the samplers of this room -------------------------------------------------

def check_run(x0, n_steps, rng, thin, progress):
    """x0 -> (n_chains, d) finite backend array; n_steps >= 1; 1 <= thin <= n_steps; a generator."""
    x0 = backend.as_points(x0, "x0")
    n_steps = check_int(n_steps, "n_steps")
    thin = check_int(thin, "thin")
    if thin > n_steps:
        raise ValueError(f"thin must be <= n_steps={n_steps} (at least one kept sample); "
                         f"got thin={thin}")
    backend.check_progress(progress)
    return x0, n_steps, check_rng(rng), thin


def checked_call(f, x, name, shape):
    """f(x0), evaluated once at the start of a chain: the right shape, finite on every chain.
    A ValueError or TypeError inside f (x0 of the wrong dimension for the target) says so."""
    try:
        out = f(x)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{name}(x0) failed on x0 of shape {tuple(x.shape)}: {err}") from err
    if tuple(getattr(out, "shape", ())) != shape:
        raise ValueError(f"{name}(x0) must have shape {shape}; "
                         f"got shape {tuple(getattr(out, 'shape', ()))}")
    if not bool(xp.all(xp.isfinite(out))):
        raise ValueError(f"{name}(x0) must be finite: start every chain where pi > 0; got NaN or "
                         f"inf on {count(~rows_finite(out))} of {shape[0]} chains")
    return out


def check_step(ok, sampler, k, bad, why):
    """The per-step guard of every sampler of this room: no chain turns NaN without a word.

    ok: a 0-d boolean array, ONE reduction over the step's numbers, False whenever a chain went
    wrong; reading it (a device synchronization on a GPU) is the step's only extra cost.
    Then bad() -> (n,) bool marks those chains exactly (none: the reduction itself overflowed,
    e.g. a sum of huge finite states, and the run goes on), and a FloatingPointError names the
    step, how many chains went wrong and why (why() -> str). bad and why are evaluated only when
    ok is False."""
    if bool(ok):
        return
    rows = backend.to_numpy(bad())
    if not rows.any():
        return
    raise FloatingPointError(f"{sampler}: at step {k}, {int(rows.sum())} of {rows.size} chains "
                             f"{why()}")


def check_ratio(log_r, sampler, k, lp_y, y, terms=()):
    """check_step for Algorithm 1, l. 4: no log acceptance ratio (n,) is NaN or +inf.

    -inf is a sure rejection (a proposal outside the support) and passes. The reduction is a max,
    which NaN propagates. On failure, counts what was not finite: log_prob(y) (n,), the proposals
    y (n, d) and the other terms of the ratio, ((name, array), ...)."""
    def why():
        parts = [f"log_prob returned NaN at {count(xp.isnan(lp_y))} and +inf at "
                 f"{count(lp_y == math.inf)} of the proposals",
                 f"{count(~rows_finite(y))} proposals are not finite points"]
        parts += [f"{name} is NaN or inf at {count(~rows_finite(v))}" for name, v in terms]
        return ("have a NaN or +inf acceptance ratio (Algorithm 1, l. 4): " + "; ".join(parts)
                + ". log_prob must return a finite value, or -inf outside the support, at every "
                  "point a chain proposes")
    check_step(xp.max(log_r) < math.inf, sampler, k, lambda: ~(log_r < math.inf), why)


def rows_finite(a):
    """(n,) bool: the rows of a (n,) or (n, d) array that are all finite."""
    ok = xp.isfinite(a)
    return ok if ok.ndim == 1 else xp.all(ok, axis=1)


def count(mask):
    """The number of True entries of a boolean array, as a Python int (a host read)."""
    return int(backend.to_numpy(xp.sum(mask)))


# --- the sampler --------------------------------------------------------------------------------

def metropolis_hastings(log_prob, x0, n_steps, step_size, rng, *, proposal=None, thin=1,
                        progress=None) -> ChainResult:
    """Algorithm 1 for n_chains chains in lockstep.

    log_prob: (n, d) -> (n,), log pi up to a constant (-inf outside the support); called once per
    step, on the proposals (log pi of the current states is cached).  x0: (n_chains, d).
    step_size: std of the Gaussian random walk y = x + step_size z (Eq. 42); with a `proposal`
    (an object with sample(x, rng) and log_density(y, x), see the module docstring) it is not used
    and may be None.  thin: keep one state in `thin`: samples (n_steps // thin, n_chains, d).
    progress: a progress bar on long runs (None: in a terminal; False: never).
    Random numbers per step: the proposal's (rng.standard_normal((n, d)) for the random walk),
    then rng.random((n,)) for the acceptance test.
    """
    log_prob = check_callable(log_prob, "log_prob", LOG_PROB)
    x, n_steps, rng, thin = check_run(x0, n_steps, rng, thin, progress)
    n, d = x.shape
    if proposal is None:
        step_size = check_positive(step_size, "step_size")
    else:
        check_optional(check_positive, step_size, "step_size")
        if not all(callable(getattr(proposal, m, None)) for m in ("sample", "log_density")):
            raise TypeError("proposal must have methods sample(x, rng) and log_density(y, x); "
                            f"got proposal={type(proposal).__name__}")
    lp_x = checked_call(log_prob, x, "log_prob", (n,))                  # log pi(x), cached
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    n_accept = xp.zeros(n, dtype=x.dtype)
    for k in steps(n_steps, "Metropolis-Hastings", progress, start=1):
        if proposal is None:
            y = x + step_size * rng.standard_normal((n, d))           # Algorithm 1, l. 3
            lp_y = log_prob(y)
            log_r, terms = lp_y - lp_x, ()                            # Eq. (42), in log space
        else:
            y = proposal.sample(x, rng)                               # Algorithm 1, l. 3
            lp_y = log_prob(y)
            log_q = proposal.log_density(x, y) - proposal.log_density(y, x)
            log_r = lp_y - lp_x + log_q                               # Algorithm 1, l. 4
            terms = (("proposal.log_density", log_q),)
        check_ratio(log_r, "metropolis_hastings", k, lp_y, y, terms)
        accept = xp.log(rng.random((n,))) < log_r                     # l. 5: u <= r
        x = xp.where(accept[:, None], y, x)                           # l. 5-6
        lp_x = xp.where(accept, lp_y, lp_x)
        n_accept = n_accept + accept
        if k % thin == 0:
            kept[k // thin - 1] = x                                   # l. 7: keep x_i
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
    """The exact Metropolis-Hastings kernel on a finite space {0, ..., S-1} (Eq. 40, Algorithm 1).

    pi: (S,) target, > 0 (unnormalized is fine); Q: (S, S) proposal, Q[x, y] = Q(x, y) >= 0, rows
    summing to 1. Returns P: (S, S), P[x, y] = Q(x, y) rho(x, y) for y != x and the rejected mass
    on the diagonal; pi P = pi (Eq. 39). For small discrete spaces (Fig. 15)."""
    pi, Q = backend.asarray(pi, "pi"), backend.asarray(Q, "Q")
    S = pi.shape[0] if pi.ndim == 1 else 0
    if S == 0 or not bool(xp.all(xp.isfinite(pi) & (pi > 0))):
        raise ValueError(f"pi must have shape (S,) with S >= 1 and entries finite and > 0; "
                         f"got pi={backend.to_numpy(pi)}")
    if Q.shape != (S, S) or not bool(xp.all(xp.isfinite(Q) & (Q >= 0))) or \
            not bool(xp.all(xp.abs(xp.sum(Q, axis=1) - 1.0) < 1e-9)):
        raise ValueError(f"Q must be a ({S}, {S}) matrix of probabilities whose rows sum to 1; "
                         f"got Q={backend.to_numpy(Q)}")
    # ratio[x, y] = Q(y, x) pi(y) / (Q(x, y) pi(x))                     Algorithm 1, l. 4
    ratio = (Q.T * pi[None, :]) / xp.maximum(Q * pi[:, None], 1e-300)
    off = Q * xp.minimum(1.0, ratio) * (1.0 - xp.eye(S))              # Eq. (40), y != x
    return off + xp.diag(1.0 - xp.sum(off, axis=1))                   # rejected mass stays at x
