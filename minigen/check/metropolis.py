"""Check a student's Metropolis-Hastings (notes §3.2, Algorithm 1, Eq. (40)-(42)).

Oracles, none of them a sampler: the exact one-step kernel of a 3-state chain,
P(x, y) = Q(x, y) min(1, pi(y) Q(y, x) / (pi(x) Q(x, y))) for y != x (Eq. 40), for a symmetric and
a non-symmetric proposal; the acceptance probability of the Gaussian random walk on N(0, 1),
E_z min(1, pi(x + s z) / pi(x)) (Eq. 42) by quadrature; and the invariance of a correlated
Gaussian: chains started from exact samples keep its covariance (Eq. 41).
Frequencies over n chains have the binomial SE sqrt(p (1 - p) / n).
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError

PI3 = np.array([0.2, 0.3, 0.5])
Q_SYM = np.array([[0.2, 0.4, 0.4], [0.4, 0.2, 0.4], [0.4, 0.4, 0.2]])
Q_ASYM = np.array([[0.1, 0.6, 0.3], [0.2, 0.1, 0.7], [0.5, 0.4, 0.1]])
N_PER_STATE = 20_000
STEP = 1.7                    # the random walk's std: not 1, so std and variance differ
X_RW = np.array([0.0, 1.0, 2.5])
N_RW = 20_000
COV = np.array([[1.0, 0.8], [0.8, 1.0]])
N_INV, STEPS_INV = 20_000, 20

CONTRACT = Contract(
    function="metropolis_hastings",
    params=("log_prob", "x0", "n_steps", "step_size", "rng", "proposal=None"),
    title="Exercise: Metropolis-Hastings, notes §3.2 Algorithm 1",
    doc="""Run n_chains Metropolis-Hastings chains in lockstep (Algorithm 1).

log_prob: function (n, d) -> (n,), log pi up to a constant.
x0: (n_chains, d) array, the states at step 0.
step_size: std of the Gaussian random walk y = x + step_size * z, used when proposal is None.
rng: a numpy.random.Generator; draw every random number from it.
proposal: None, or an object with proposal.sample(x, rng) -> y (n, d) and
    proposal.log_density(y, x) -> (n,) = log Q(x, y), the density of proposing y from x.
Returns samples: (n_steps, n_chains, d), the states after steps 1, ..., n_steps.""")


class TableProposal:
    """Q(x, .) on the states {0, 1, 2}, points (n, 1) holding the state as a float."""

    def __init__(self, Q):
        self.Q, self.cum = Q, np.cumsum(Q, axis=1)

    def sample(self, x, rng):
        u = backend.to_numpy(rng.random((x.shape[0],)))
        i = backend.to_numpy(x)[:, 0].astype(int)
        y = np.minimum((u[:, None] > self.cum[i]).sum(axis=1), 2)
        return backend.asarray(y[:, None].astype(float))

    def log_density(self, y, x):
        i, j = (backend.to_numpy(a)[:, 0].astype(int) for a in (x, y))
        return backend.asarray(np.log(self.Q[i, j]))


def _std_normal(x):
    return -0.5 * (x * x).sum(axis=1)


def log_pi3(x):
    return backend.asarray(np.log(PI3)[backend.to_numpy(x)[:, 0].astype(int)])


def kernel(Q, pi=PI3, hastings=True, invert=False, swap=False):
    """The exact one-step kernel (S, S) by enumeration; the flags are the named mistakes."""
    S = len(pi)
    P = np.zeros((S, S))
    for x in range(S):
        for y in range(S):
            if y != x and Q[x, y] > 0:                   # a move Q never proposes: P = 0
                ratio = pi[y] / pi[x]
                if invert:
                    ratio = 1.0 / ratio
                if hastings:
                    ratio *= Q[x, y] / Q[y, x] if swap else Q[y, x] / Q[x, y]
                P[x, y] = Q[x, y] * min(1.0, ratio)
        P[x, x] = 1.0 - P[x].sum()
    return P


def _run(student, ctx, log_prob, x0, n_steps, step_size, proposal, stream=None):
    rng = ctx.rng(stream)
    out = ctx.call(student, log_prob, backend.asarray(x0), n_steps, step_size, rng, proposal)
    samples = ctx.array(out, (n_steps,) + x0.shape, "the returned samples")
    if rng.draws == 0:
        raise StudentError("your metropolis_hastings drew no random numbers from rng: every "
                           "random number must come from the rng argument")
    return samples


def _one_step_frequencies(student, ctx, Q):
    x0 = np.repeat(np.arange(3.0), N_PER_STATE)[:, None]
    y = _run(student, ctx, log_pi3, x0, 1, 1.0, TableProposal(Q))[0, :, 0]
    if not np.all(np.isin(y, [0.0, 1.0, 2.0])):
        raise StudentError("with a proposal on the states {0, 1, 2}, a chain moved to a state "
                           "the proposal never offers")
    freq = np.array([[np.mean(y[x * N_PER_STATE:(x + 1) * N_PER_STATE] == s) for s in range(3)]
                     for x in range(3)])
    return freq


def _kernel_measurement(freq, Q, mistakes):
    P = kernel(Q)
    se = np.sqrt(np.maximum(P * (1 - P), 1e-4) / N_PER_STATE)
    labels = [f"P({x} -> {y})" for x in range(3) for y in range(3)]
    return Measurement(freq.ravel(), P.ravel(), se.ravel(), labels=labels,
                       mistakes={k: v.ravel() for k, v in mistakes.items()})


def contract(student, ctx):
    """Shapes, the use of rng, and the same samples for the same seed."""
    x0 = np.zeros((5, 2))
    a, b = (_run(student, ctx, _std_normal, x0, 3, 0.5, None, stream=1) for _ in range(2))
    differ = float(not np.array_equal(a, b))
    return Measurement([differ], [0.0], tol=0.5, labels=["two runs with the same seed"],
                       mistakes={"random numbers drawn from a global state (np.random), not "
                                 "from rng: two runs with the same rng differ": [1.0]})


def symmetric_kernel(student, ctx):
    freq = _one_step_frequencies(student, ctx, Q_SYM)
    return _kernel_measurement(freq, Q_SYM, {
        "acceptance ratio inverted, min(1, pi(x) / pi(y))": kernel(Q_SYM, invert=True),
        "every proposal accepted": Q_SYM})


def hastings_correction(student, ctx):
    freq = _one_step_frequencies(student, ctx, Q_ASYM)
    return _kernel_measurement(freq, Q_ASYM, {
        "Hastings factor Q(y, x) / Q(x, y) missing": kernel(Q_ASYM, hastings=False),
        "log_density arguments swapped: Q(x, y) / Q(y, x)": kernel(Q_ASYM, swap=True),
        "acceptance ratio inverted": kernel(Q_ASYM, invert=True),
        "every proposal accepted": Q_ASYM})


def _rw_acceptance(x, s, invert=False):
    """E_z min(1, pi(x + s z) / pi(x)) on pi = N(0, 1), z ~ N(0, 1), by Gauss-Hermite quadrature
    (invert: the mistaken min(1, pi(x) / pi(y)))."""
    z, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / w.sum()
    y = x + s * z
    log_r = -0.5 * (y * y - x * x)
    return float(np.sum(w * np.exp(np.minimum(0.0, -log_r if invert else log_r))))


def random_walk_acceptance(student, ctx):
    x0 = np.repeat(X_RW, N_RW)[:, None]
    y = _run(student, ctx, lambda x: -0.5 * x[:, 0] ** 2, x0, 1, STEP, None)[0, :, 0]
    moved = (y != x0[:, 0]).reshape(3, N_RW).mean(axis=1)
    p = np.array([_rw_acceptance(x, STEP) for x in X_RW])
    return Measurement(moved, p, np.sqrt(p * (1 - p) / N_RW),
                       labels=[f"x = {x}" for x in X_RW],
                       mistakes={"step_size used as a variance: y = x + step_size^2 z":
                                 [_rw_acceptance(x, STEP ** 2) for x in X_RW],
                                 "step_size used as sqrt: y = x + sqrt(step_size) z":
                                 [_rw_acceptance(x, np.sqrt(STEP)) for x in X_RW],
                                 "acceptance ratio inverted":
                                 [_rw_acceptance(x, STEP, invert=True) for x in X_RW],
                                 "every proposal accepted": np.ones(3)})


def whole_moves(student, ctx):
    """Algorithm 1 accepts or refuses the whole proposal y: in d = 2 no chain moves one coordinate
    and keeps the other (exact: any partial move is a mistake)."""
    x = _run(student, ctx, _std_normal, np.zeros((N_RW, 2)), 1, STEP, None)[0]
    moved = x != 0.0
    partial = float(np.any(moved.any(axis=1) & ~moved.all(axis=1)))
    return Measurement([partial], [0.0], tol=0.5, labels=["one step from x = 0 in d = 2"],
                       mistakes={"each coordinate accepted separately (one uniform per "
                                 "coordinate): accept or refuse the whole y": [1.0]})


def invariance(student, ctx):
    """Chains started from exact N(0, COV) samples keep E x_i x_j = COV_ij after STEPS_INV steps."""
    L = np.linalg.cholesky(COV)
    g = np.random.default_rng(1000 + ctx.seed)
    x0 = g.standard_normal((N_INV, 2)) @ L.T
    inv = np.linalg.inv(COV)

    def log_prob(x):
        x = backend.to_numpy(x)
        return backend.asarray(-0.5 * np.einsum("ni,ij,nj->n", x, inv, x))
    x = _run(student, ctx, log_prob, x0, STEPS_INV, 1.0, None)[-1]
    products = np.stack([x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1]])   # (3, n)
    # Var(x_i x_j) = C_ii C_jj + C_ij^2 under N(0, C): the SE of the mean over n chains
    var = np.array([2 * COV[0, 0] ** 2, 2 * COV[1, 1] ** 2, COV[0, 0] * COV[1, 1] + COV[0, 1] ** 2])
    return Measurement(products.mean(axis=1), [COV[0, 0], COV[1, 1], COV[0, 1]],
                       np.sqrt(var / N_INV), labels=["E x1^2", "E x2^2", "E x1 x2"])


def pilot(student, ctx):
    x0 = np.zeros((2000, 2))
    seconds = ctx.timed(lambda: _run(student, ctx, _std_normal, x0, 5, 0.5, None))
    total = 6 * N_PER_STATE + 4 * N_RW + N_INV * STEPS_INV       # chain-steps of the check
    return seconds, total / (2000 * 5)


HINT = ("notes §3.2, Algorithm 1 line 4: accept y with probability "
        "min(1, pi(y) Q(y, x) / (pi(x) Q(x, y))) (Eq. 40-42); log Q(x, y) = "
        "proposal.log_density(y, x)")
CHECKS = "minigen.mcmc.metropolis"
EXERCISES = [Exercise(
    name="metropolis_hastings", aliases=("mh", "metropolis"), contract=CONTRACT, pilot=pilot,
    properties=[
        Property("contract", "returns (n_steps, n_chains, d), draws from rng, same seed same "
                 "samples", contract, "draw every random number from the rng argument"),
        Property("symmetric_kernel", "one step on 3 states with a symmetric Q is the exact "
                 "kernel of Eq. (40), (42)", symmetric_kernel, HINT, ("contract",)),
        Property("hastings_correction", "one step with a non-symmetric Q is the exact kernel of "
                 "Eq. (40)", hastings_correction, HINT, ("contract",)),
        Property("random_walk_acceptance", "the Gaussian random walk y = x + step_size z is "
                 "accepted as often as Eq. (42) says", random_walk_acceptance,
                 "notes Eq. (42): y = x + step_size * z with z ~ N(0, I); accept with "
                 "probability min(1, pi(y) / pi(x))", ("contract",)),
        Property("whole_moves", "a proposal is accepted or refused as a whole (Algorithm 1, "
                 "l. 5)", whole_moves, "notes Algorithm 1, line 5: one uniform u per chain, "
                 "x_i = y if u <= rho(x, y), else x_i = x_(i-1)", ("contract",)),
        Property("invariance", "chains started from N(0, C) keep its covariance (Eq. 41)",
                 invariance, "notes Eq. (41): detailed balance makes pi invariant; keep the "
                 "cached log pi(x) of each chain in step with its state",
                 ("symmetric_kernel", "random_walk_acceptance", "whole_moves")),
    ])]
