"""Check a student's replica-exchange swap (parallel tempering; notes §3.2, Eq. (43)).

R replicas target pi_b = pi^b, 1 = b_0 > b_1 > ...; the swap of adjacent states (x_i, x_j),
j = i + 1, is accepted with probability
    rho = min(1, pi_bi(x_j) pi_bj(x_i) / (pi_bi(x_i) pi_bj(x_j)))
        = min(1, exp((b_i - b_j) (log pi(x_j) - log pi(x_i))))                         (Eq. 43)
on the pairs (0, 1), (2, 3), ... for parity 0 and (1, 2), (3, 4), ... for parity 1.
Oracles: a flat log pi makes every ratio 1 (the pairing alone shows); rho in closed form from
log pi at hand-made states, the two pairs of a chain swapping independently (frequencies over
m chains, SE sqrt(rho (1 - rho) / m)); and swaps keep the tempered laws N(0, I / b_r) of
pi = N(0, I) from exact samples (SE of a Gaussian variance v sqrt(2 / n)).
Swendsen & Wang 1986; Geyer 1991.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError

BETAS = np.array([1.0, 0.6, 0.35, 0.2, 0.1])
R = len(BETAS)
N_PAIRING = 1000
# hand-made states: 4 configurations of the R replicas in 2-D (found by a search for rho spread
# over (0, 1] and every named mistake >= 40 SE away), each held by M_STATE chains
STATES = np.array([
    [[-1.2, -1.6], [-2.6, 1.6], [-4.6, -0.2], [-2.0, -1.6], [4.1, 4.7]],
    [[0.1, 0.9], [0.7, 0.8], [0.9, -0.9], [0.6, -0.1], [4.4, -3.6]],
    [[0.1, 0.4], [-1.6, -3.2], [-2.9, 2.4], [-1.1, -0.9], [1.3, -1.4]],
    [[-0.9, 0.9], [1.2, -1.7], [-1.6, -2.4], [2.5, -2.2], [-1.3, 1.9]]])
M_STATE = 4000
N_INV, ROUNDS = 20_000, 40
GLOBAL_RNG = ("random numbers drawn from a global state (np.random), not from rng: two runs "
              "with the same rng differ")


def std_normal(x):
    """log pi of N(0, I), (m, d) -> (m,), on arrays of the active backend."""
    return -0.5 * (x * x).sum(axis=1)


def flat(x):
    return 0.0 * x[:, 0]


def pairs(parity, r=R):
    return [(i, i + 1) for i in range(parity, r - 1, 2)]


def permutation(swapped):
    """Where each replica's new state comes from when the pairs ``swapped`` are exchanged."""
    perm = list(range(R))
    for i, j in swapped:
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def swap_probability_exact(lp, betas, parity, log_ratio=None):
    """rho of Eq. (43) for each pair (i, i + 1) of this parity, from lp (R,), log pi at the
    states of the R replicas; ``log_ratio(b_i, b_j, lp_i, lp_j)`` replaces
    (b_i - b_j)(lp_j - lp_i) for a named mistake."""
    f = log_ratio or (lambda bi, bj, li, lj: (bi - bj) * (lj - li))        # Eq. (43)
    return np.array([min(1.0, np.exp(f(betas[i], betas[j], lp[i], lp[j])))
                     for i, j in pairs(parity, len(betas))])


def swap_run(student, ctx, log_prob, x, parity, stream=None):
    rng = ctx.rng(stream)
    out = ctx.call(student, log_prob, backend.asarray(x), backend.asarray(BETAS), rng, parity)
    new = ctx.array(out, x.shape, "the returned states")
    if rng.draws == 0:
        raise StudentError("your replica_swap drew no random numbers from rng: every random "
                           "number must come from the rng argument")
    return new


def contract(student, ctx):
    """Shapes, the use of rng, and the same states for the same seed."""
    x = np.random.default_rng(1000 + ctx.seed).standard_normal((R, 20, 2))
    a, b = (swap_run(student, ctx, std_normal, x, 0, stream=1) for _ in range(2))
    return Measurement([float(not np.array_equal(a, b))], [0.0], tol=0.5,
                       labels=["two runs with the same seed"], mistakes={GLOBAL_RNG: [1.0]})


def _holds(new, x, perm):
    """Fraction of chains whose replica r holds x[perm[r]] (every coordinate), for each r."""
    return np.array([np.mean(np.all(new[r] == x[perm[r]], axis=-1)) for r in range(R)])


def pairing(student, ctx):
    """A flat log pi makes every ratio of Eq. (43) equal to 1: each pair of the parity swaps."""
    c = np.arange(N_PAIRING, dtype=float)
    x = np.stack([np.stack([np.full_like(c, r), c], axis=1) for r in range(R)])   # (R, n, 2)
    est, labels, mistakes = [], [], {}
    wrong = {"the pairs of the other parity": lambda p: permutation(pairs(1 - p)),
             "every adjacent pair swapped in one sweep": lambda p: list(range(1, R)) + [0],
             "no swap: x returned unchanged": lambda p: list(range(R))}
    for parity in (0, 1):
        est.append(_holds(swap_run(student, ctx, flat, x, parity), x, permutation(pairs(parity))))
        labels += [f"parity {parity}, replica {r}" for r in range(R)]
        for name, perm in wrong.items():
            truth = permutation(pairs(parity))
            mistakes.setdefault(name, []).extend(
                float(perm(parity)[r] == truth[r]) for r in range(R))
    return Measurement(np.concatenate(est), np.ones(2 * R), tol=0.01, labels=labels,
                       mistakes=mistakes)


RATIO_MISTAKES = {
    "ratio inverted: min(1, exp(-(b_i - b_j)(log pi(x_j) - log pi(x_i))))":
        lambda bi, bj, li, lj: (bj - bi) * (lj - li),
    "betas not applied: min(1, pi(x_j) / pi(x_i))": lambda bi, bj, li, lj: lj - li,
    "only replica i's factor: min(1, pi_bi(x_j) / pi_bi(x_i))":
        lambda bi, bj, li, lj: bi * (lj - li),
    "betas used as temperatures: pi_b = pi^(1 / b)":
        lambda bi, bj, li, lj: (1 / bi - 1 / bj) * (lj - li),
    "every swap accepted": lambda bi, bj, li, lj: 0.0}


SHARED_UNIFORM = ("one uniform shared by all the pairs of a chain: both pairs swap with "
                  "probability min(rho_a, rho_b), not rho_a rho_b")


def _frequency(events, p):
    """The frequency of ``events`` over M_STATE chains, and its binomial SE at the larger of
    p (1 - p) and the measured q (1 - q) (a named mistake is judged at its own spread)."""
    q = events.mean()
    return q, np.sqrt(max(p * (1 - p), q * (1 - q), 1e-4) / M_STATE)


def swap_probability(student, ctx):
    """Each pair swaps with probability rho (Eq. 43), and the two pairs of a chain independently:
    both swap with probability rho_a rho_b."""
    x = np.repeat(STATES.transpose(1, 0, 2), M_STATE, axis=1)          # (R, K M_STATE, 2)
    est, se, expected, labels = [], [], [], []
    mistakes = {k: [] for k in list(RATIO_MISTAKES) + [SHARED_UNIFORM]}
    for parity in (0, 1):
        new = swap_run(student, ctx, std_normal, x, parity)
        for k, states in enumerate(STATES):
            chains = slice(k * M_STATE, (k + 1) * M_STATE)
            lp = -0.5 * (states ** 2).sum(axis=1)                       # log pi, N(0, I)
            rho = swap_probability_exact(lp, BETAS, parity)
            swapped = [np.all(new[i, chains] == x[j, chains], axis=-1)
                       & np.all(new[j, chains] == x[i, chains], axis=-1)
                       for i, j in pairs(parity)]
            events = swapped + [swapped[0] & swapped[1]]                 # each pair, then both
            truth = list(rho) + [rho[0] * rho[1]]
            for e, p in zip(events, truth):
                q, s = _frequency(e, p)
                est.append(q)
                se.append(s)
            expected += truth
            labels += [f"parity {parity}, pair ({i}, {j}), states {k}" for i, j in pairs(parity)]
            labels.append(f"parity {parity}, both pairs, states {k}")
            for name, f in RATIO_MISTAKES.items():
                r = swap_probability_exact(lp, BETAS, parity, f)
                mistakes[name] += list(r) + [r[0] * r[1]]
            mistakes[SHARED_UNIFORM] += list(rho) + [min(rho)]
    return Measurement(est, expected, se, labels=labels, mistakes=mistakes)


def invariance(student, ctx):
    """Replicas started from exact samples of N(0, I / b_r) keep E x^2 = 1 / b_r through ROUNDS
    swaps of alternating parity."""
    g = np.random.default_rng(2000 + ctx.seed)
    x = g.standard_normal((R, N_INV, 2)) / np.sqrt(BETAS)[:, None, None]
    for k in range(ROUNDS):
        x = swap_run(student, ctx, std_normal, x, k % 2)
    x2 = (x ** 2).reshape(R, -1)                                         # (R, 2 n)
    v = 1.0 / BETAS
    se = np.sqrt(np.maximum(2 * v ** 2, x2.var(axis=1)) / x2.shape[1])
    return Measurement(x2.mean(axis=1), v, se, labels=[f"E x^2 of replica {r} (beta = {b})"
                                                       for r, b in enumerate(BETAS)])


def pilot(student, ctx):
    x = np.zeros((R, 2000, 2))
    seconds = ctx.timed(lambda: swap_run(student, ctx, std_normal, x, 0))
    total = 2 * N_PAIRING + 2 * len(STATES) * M_STATE + ROUNDS * N_INV     # chains x calls
    return seconds, total / 2000


CONTRACT = Contract(
    function="replica_swap", params=("log_prob", "x", "betas", "rng", "parity"),
    title="Exercise: the replica-exchange swap, notes §3.2 Eq. (43)",
    doc="""One round of swaps between adjacent temperatures (Eq. 43), in every chain.

log_prob: function (m, d) -> (m,), log pi up to a constant (at beta = 1).
x: (R, n, d) array, x[r] the states of the n chains at inverse temperature betas[r].
betas: (R,) array, 1 = betas[0] > betas[1] > ... > 0; replica r targets pi^betas[r].
rng: a numpy.random.Generator; draw every random number from it.
parity: 0 for the pairs (0, 1), (2, 3), ...; 1 for the pairs (1, 2), (3, 4), ...
Swap x[i] and x[i + 1] of a chain with probability
min(1, pi_bi(x_j) pi_bj(x_i) / (pi_bi(x_i) pi_bj(x_j))), pi_b = pi^b.
Returns the new states: (R, n, d).""")

HINT = ("notes Eq. (43): accept the swap with probability min(1, pi_bi(x_j) pi_bj(x_i) / "
        "(pi_bi(x_i) pi_bj(x_j))), pi_b = pi^b, i.e. log rho = (b_i - b_j)(log pi(x_j) - "
        "log pi(x_i))")
CHECKS = "minigen.mcmc.replica_exchange"
EXERCISES = [Exercise(
    name="replica_swap", aliases=("replica_exchange", "swap"), contract=CONTRACT, pilot=pilot,
    properties=[
        Property("contract", "returns (R, n, d), draws from rng, same seed same states",
                 contract, "draw every random number from the rng argument"),
        Property("pairing", "with a flat log pi every pair of the parity swaps, no other state "
                 "moves", pairing, "parity 0: the pairs (0, 1), (2, 3), ...; parity 1: (1, 2), "
                 "(3, 4), ...; each swap exchanges the whole states x[i] and x[i + 1] of a "
                 "chain", ("contract",)),
        Property("swap_probability", "each pair swaps with the probability of Eq. (43) at "
                 "hand-made states", swap_probability, HINT, ("pairing",)),
        Property("invariance", "swaps keep the tempered laws N(0, I / b_r) of pi = N(0, I) "
                 "(Eq. 43 is detailed balance on the product of the pi_b)", invariance,
                 HINT,
                 ("swap_probability",)),
    ])]
