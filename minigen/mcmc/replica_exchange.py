"""Replica exchange (parallel tempering).

Run R chains on pi_beta(x) ∝ pi(x)^beta, 1 = beta_1 > ... > beta_R > 0 (flatter replicas cross
barriers), Metropolis moves within each replica (Eq. 42 on pi^beta), and swap adjacent states
(x_i, x_j), j = i + 1, with probability
    rho = min(1, pi_bi(x_j) pi_bj(x_i) / (pi_bi(x_i) pi_bj(x_j)))
        = min(1, exp((b_i - b_j) (log pi(x_j) - log pi(x_i))))                          (Eq. 43)
the pairs (1, 2), (3, 4), ... on even steps and (2, 3), (4, 5), ... on odd steps.  Only the
beta_1 = 1 replica samples pi.  Notes §3.2, Eq. (43), and §6.1 (replicas of Langevin chains).
Swendsen & Wang 1986; Geyer 1991.
"""
from typing import NamedTuple

from minigen import backend
from minigen.backend import check_callable, check_positive, xp
from minigen.mcmc.metropolis import LOG_PROB, check_ratio, check_run, checked_call
from minigen.progress import steps


class ReplicaResult(NamedTuple):
    """samples: (n_steps // thin, n_chains, d) at beta = 1;  accept_rate: (R, n_chains) of the
    moves;  swap_rate: (R - 1,), accepted / attempted swaps of the pair (beta_i, beta_i+1) (0 for a
    pair never attempted: n_steps = 1);  final: (n_chains, d) at beta = 1;  final_replicas:
    (R, n_chains, d);  replicas: (n_steps // thin, R, n_chains, d) if return_all else None."""
    samples: object
    accept_rate: object
    swap_rate: object
    final: object
    final_replicas: object
    replicas: object


def replica_exchange(log_prob, x0, betas, n_steps, step_size, rng, *, thin=1, return_all=False,
                     progress=None) -> ReplicaResult:
    """Parallel tempering of n_chains chains at each of R = len(betas) temperatures.

    log_prob: (m, d) -> (m,), log pi at beta = 1; called ONCE per step, on all R n_chains
    proposals.  x0: (n_chains, d), the start of every replica.  betas: (R,), R >= 2, the ladder
    1 = betas[0] > betas[1] > ... > 0.  step_size: a scalar or (R,), the random-walk std per beta.
    Random numbers per step: rng.standard_normal((R, n, d)) and rng.random((R, n)) for the moves,
    then rng.random((P, n)) for the swaps of the P pairs of this step's parity.
    """
    log_prob = check_callable(log_prob, "log_prob", LOG_PROB)
    x, n_steps, rng, thin = check_run(x0, n_steps, rng, thin, progress)
    betas = check_ladder(betas)
    R, (n, d) = len(betas), x.shape
    step = xp.asarray(check_steps(step_size, R), dtype=x.dtype)[:, None, None]      # (R, 1, 1)
    backend.check_flag(return_all, "return_all")
    beta = xp.asarray(betas, dtype=x.dtype)[:, None]                                # (R, 1)
    gap = beta[:-1] - beta[1:]                                      # (R - 1, 1): b_i - b_(i+1)
    X = xp.stack([x] * R)                                           # (R, n, d): replica r is X[r]
    lp = checked_call(log_prob, X.reshape(R * n, d), "log_prob", (R * n,)).reshape(R, n)
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    every = xp.empty((n_steps // thin, R, n, d), dtype=x.dtype) if return_all else None
    n_accept = xp.zeros((R, n), dtype=x.dtype)
    n_swap = xp.zeros(R - 1, dtype=x.dtype)                         # accepted swaps of pair i
    for k in steps(n_steps, "replica exchange", progress, start=1):
        # Metropolis move in every replica on pi^beta (Eq. 42): log r = beta (log pi(y) - log pi(x))
        Y = X + step * rng.standard_normal((R, n, d))
        lp_y = log_prob(Y.reshape(R * n, d)).reshape(R, n)          # one batched call
        log_r = beta * (lp_y - lp)
        check_ratio(log_r.reshape(R * n), "replica_exchange", k, lp_y.reshape(R * n),
                    Y.reshape(R * n, d))
        accept = xp.log(rng.random((R, n))) < log_r
        X = xp.where(accept[:, :, None], Y, X)
        lp = xp.where(accept, lp_y, lp)
        n_accept = n_accept + accept
        X, lp, n_swap = swap_neighbours(X, lp, gap, k % 2, rng, n_swap)
        if k % thin == 0:
            kept[k // thin - 1] = X[0]
            if return_all:
                every[k // thin - 1] = X
    # pair i is tried on the steps k in [1, n_steps] with k % 2 == i % 2
    tries = xp.asarray([(n_steps + i % 2) // 2 for i in range(R - 1)], dtype=x.dtype)
    swap_rate = n_swap / (n * xp.maximum(tries, 1.0))
    return ReplicaResult(kept, n_accept / n_steps, swap_rate, X[0], X, every)


def swap_neighbours(X, lp, gap, parity, rng, n_swap):
    """Eq. (43) on the pairs (i, j = i + 1), i = parity, parity + 2, ... < R - 1, every chain.

    X: (R, n, d) states, lp: (R, n) their log pi, gap: (R - 1, 1) the b_i - b_j, n_swap: (R - 1,)
    swaps accepted so far. Draws rng.random((P, n)), P the number of pairs (nothing if P = 0).
    Returns X, lp and n_swap after the swaps (new arrays: the inputs are not modified)."""
    R, n = X.shape[:2]
    i, j = slice(parity, R - 1, 2), slice(parity + 1, R, 2)         # the pairs (i, j) of this step
    P = len(range(R)[i])
    if P == 0:
        return X, lp, n_swap
    # Eq. (43): log rho = log pi_bi(x_j) + log pi_bj(x_i) - log pi_bi(x_i) - log pi_bj(x_j)
    #                   = (b_i - b_j) (log pi(x_j) - log pi(x_i))
    log_rho = gap[i] * (lp[j] - lp[i])                              # (P, n)
    swap = xp.log(rng.random((P, n))) < log_rho                     # (P, n)
    X, lp, n_swap = X.copy(), lp.copy(), n_swap.copy()
    X[i], X[j] = xp.where(swap[:, :, None], X[j], X[i]), xp.where(swap[:, :, None], X[i], X[j])
    lp[i], lp[j] = xp.where(swap, lp[j], lp[i]), xp.where(swap, lp[i], lp[j])
    n_swap[i] = n_swap[i] + xp.sum(swap, axis=1)
    return X, lp, n_swap


def check_ladder(betas):
    """A ladder of R >= 2 inverse temperatures 1 = betas[0] > betas[1] > ... > 0 -> floats."""
    b = backend.to_numpy(backend.asarray(betas, "betas"))
    rule = "a 1-D ladder of R >= 2 inverse temperatures 1 = betas[0] > betas[1] > ... > 0"
    if b.ndim != 1 or b.size < 2:
        got = f"the scalar betas={float(b)!r}" if b.ndim == 0 else f"betas of shape {b.shape}"
        raise ValueError(f"betas must be {rule} (one replica per temperature; with a single one "
                         f"there is nothing to swap: use metropolis_hastings); got {got}")
    vals = [float(v) for v in b]
    bad = [r for r, v in enumerate(vals) if not 0.0 < v <= 1.0]
    if bad:
        raise ValueError(f"betas must be {rule}; got betas[{bad[0]}]={vals[bad[0]]!r}")
    if vals[0] != 1.0:
        raise ValueError(f"betas must be {rule}: betas[0] = 1 is the target pi; got "
                         f"betas[0]={vals[0]!r}")
    up = [r for r in range(1, len(vals)) if vals[r] >= vals[r - 1]]
    if up:
        r = up[0]
        raise ValueError(f"betas must be {rule}: strictly decreasing; got betas[{r - 1}]="
                         f"{vals[r - 1]!r}, betas[{r}]={vals[r]!r}")
    return vals


def check_steps(step_size, R):
    """step_size: a scalar or one value per temperature, all finite and > 0 -> list of R floats."""
    if getattr(step_size, "ndim", 0) == 0 and not isinstance(step_size, (list, tuple)):
        return [check_positive(step_size, "step_size")] * R
    h = backend.to_numpy(backend.asarray(step_size, "step_size"))
    if h.shape != (R,):
        raise ValueError(f"step_size must be a scalar or have one value per beta, shape ({R},); "
                         f"got shape {h.shape}")
    return [check_positive(float(v), f"step_size[{r}]") for r, v in enumerate(h)]
