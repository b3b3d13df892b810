"""Replica exchange (parallel tempering).

Run R chains on pi_beta(x) ∝ pi(x)^beta, 1 = beta_1 > ... > beta_R > 0 (flatter replicas cross barriers),
Metropolis moves within each replica (Eq. 42 on pi^beta), and swap adjacent states (x_i, x_j) with
    rho = min(1, pi_bi(x_j) pi_bj(x_i) / (pi_bi(x_i) pi_bj(x_j)))
        = min(1, exp((b_i - b_j) (log pi(x_j) - log pi(x_i))))
(Eq. 43), even pairs (1,2), (3,4), ... on even steps and odd pairs on odd steps.  Only beta_1 = 1 is kept.
Notes §3.2, Eq. (43), and §6.1 (replicas of Langevin chains).  Swendsen & Wang 1986; Geyer 1991.
"""
from numbers import Real
from typing import NamedTuple

from minigen import backend
from minigen.backend import check_positive, xp
from minigen.mcmc.metropolis import check_run, checked_call
from minigen.progress import steps


class ReplicaResult(NamedTuple):
    """samples: (n_steps // thin, n_chains, d) at beta = 1;  accept_rate: (R, n_chains) of the moves;
    swap_rate: (R - 1,), accepted / attempted swaps of the pair (beta_i, beta_i+1);
    final: (n_chains, d) at beta = 1;  final_replicas: (R, n_chains, d);
    replicas: (n_steps // thin, R, n_chains, d) if return_all else None."""
    samples: object
    accept_rate: object
    swap_rate: object
    final: object
    final_replicas: object
    replicas: object


def check_betas(betas):
    """Inverse temperatures: 1-D, betas[0] == 1, strictly decreasing, all > 0 -> list of floats."""
    b = backend.to_numpy(backend.asarray(betas, "betas"))
    vals = [float(v) for v in b.ravel()]
    if b.ndim != 1 or not vals or vals[0] != 1.0 or not all(0.0 < v <= 1.0 for v in vals) \
            or any(lo >= hi for hi, lo in zip(vals, vals[1:])):
        raise ValueError(f"betas must be strictly decreasing in (0, 1] with betas[0] = 1; got betas={vals}")
    return vals


def _swap_plan(betas, parity, dtype):
    """Pairs (i, i+1) with i % 2 == parity: lower indices (P,), gaps b_i - b_{i+1} (P, 1),
    the pair of every replica (R,) (P for none) and every replica's partner (R, 1)."""
    R = len(betas)
    pairs = list(range(parity, R - 1, 2))
    pair_of, partner = [len(pairs)] * R, list(range(R))
    for p, i in enumerate(pairs):
        pair_of[i], pair_of[i + 1], partner[i], partner[i + 1] = p, p, i + 1, i
    gap = xp.asarray([[betas[i] - betas[i + 1]] for i in pairs], dtype=dtype).reshape(len(pairs), 1)
    return xp.asarray(pairs, dtype=int), gap, xp.asarray(pair_of), xp.asarray(partner)[:, None]


def check_steps(step_size, R):
    """step_size: a scalar or one value per temperature, all > 0 -> list of R floats."""
    if isinstance(step_size, Real):
        return [check_positive(step_size, "step_size")] * R
    h = backend.to_numpy(backend.asarray(step_size, "step_size"))
    if h.shape != (R,):
        raise ValueError(f"step_size must be a scalar or have one value per beta ({R},); got shape {h.shape}")
    return [check_positive(float(v), "step_size") for v in h]


def replica_exchange(log_prob, x0, betas, n_steps, step_size, rng, thin=1, return_all=False,
                     progress=None) -> ReplicaResult:
    """Parallel tempering of n_chains chains at each of R = len(betas) temperatures.

    log_prob: (m, d) -> (m,), log pi at beta = 1; it is called ONCE per step, on all R * n_chains proposals.
    x0: (n_chains, d), the start of every replica.  step_size: scalar or (R,), the random-walk std per beta.
    """
    x, n_steps, thin = check_run(x0, n_steps, thin)
    betas = check_betas(betas)
    R, (n, d) = len(betas), x.shape
    step_sizes = check_steps(step_size, R)
    beta_rows = xp.repeat(xp.asarray(betas, dtype=x.dtype), n)                # (R n,): beta of every row
    step_rows = xp.repeat(xp.asarray(step_sizes, dtype=x.dtype), n)[:, None]       # (R n, 1)
    X = xp.concatenate([x] * R, axis=0)                                       # (R n, d): replica r in rows r n + [0, n)
    lp = checked_call(log_prob, X, "log_prob", (R * n,))                      # log pi (not tempered), cached
    kept = xp.empty((n_steps // thin, n, d), dtype=x.dtype)
    every = xp.empty((n_steps // thin, R, n, d), dtype=x.dtype) if return_all else None
    n_accept = xp.zeros(R * n, dtype=x.dtype)
    plans = [_swap_plan(betas, parity, x.dtype) for parity in (0, 1)]
    swap_count = [xp.zeros(len(plan[0]), dtype=x.dtype) for plan in plans]        # per parity, on device
    cols = xp.arange(n)[None, :]
    for k in steps(n_steps, "replica exchange", progress, start=1):
        # Metropolis move in every replica on pi^beta (Eq. 42): log r = beta (log pi(y) - log pi(x))
        Y = X + step_rows * rng.standard_normal((R * n, d))
        lp_y = log_prob(Y)                                                    # one batched call (R n, d)
        accept = xp.log(rng.random((R * n,))) < beta_rows * (lp_y - lp)
        X = xp.where(accept[:, None], Y, X)
        lp = xp.where(accept, lp_y, lp)
        n_accept = n_accept + accept
        pairs, gap, pair_of, partner = plans[k % 2]                           # even pairs on even steps
        if len(pairs):
            lp3 = lp.reshape(R, n)
            # Eq. (43): log rho = (b_i - b_j)(log pi(x_j) - log pi(x_i)),  j = i + 1
            swap = xp.log(rng.random((len(pairs), n))) < gap * (lp3[pairs + 1] - lp3[pairs])  # (P, n)
            swap_count[k % 2] = swap_count[k % 2] + xp.sum(swap, axis=1).astype(X.dtype)
            swapped = xp.concatenate([swap, xp.zeros((1, n), dtype=bool)], axis=0)[pair_of]  # (R, n)
            src = xp.where(swapped, partner, xp.arange(R)[:, None])              # (R, n): where each state comes from
            X = X.reshape(R, n, d)[src, cols].reshape(R * n, d)
            lp = lp3[src, cols].reshape(R * n)
        if k % thin == 0:
            kept[k // thin - 1] = X[:n]
            if return_all:
                every[k // thin - 1] = X.reshape(R, n, d)
    tries = [n * max(n_steps // 2, 1), n * ((n_steps + 1) // 2)]              # attempts of even / odd pairs
    swap_rate = xp.stack([swap_count[i % 2][i // 2] / tries[i % 2] for i in range(R - 1)]) if R > 1 \
        else xp.zeros(0, dtype=x.dtype)
    return ReplicaResult(kept, (n_accept / n_steps).reshape(R, n), swap_rate, X[:n], X.reshape(R, n, d), every)
