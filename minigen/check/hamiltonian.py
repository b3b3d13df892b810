"""Check a student's leapfrog step of H(q, p) = V(q) + K(p) (notes §2.8.1, Eq. (10)-(12)).

    p <- p - (eps/2) grad V(q),   q <- q + eps grad K(p),   p <- p - (eps/2) grad V(q)
three shears, so det J = 1 (log|det J| = 0 in Eq. (12)); flipping p undoes it; the energy error
after a fixed time T is O(eps^2). Oracles, all exact: the closed-form one-step matrix on a
quadratic H, det J = 1 of the student's map by central differences on a non-quadratic H, the
momentum flip, and the order log2(err(eps) / err(eps/2)) = 2 on the harmonic oscillator.
Hamiltonian flows: hamiltonian-flows-blog.md; Toth et al. 2020 (arXiv:1909.13789); Hairer,
Lubich & Wanner 2006 (Geometric Numerical Integration).
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import (Contract, Exercise, Measurement, Property, StudentError,
                                    jacobians, tolerances)

A = np.array([[2.0, 0.5], [0.5, 1.0]])        # V(q) = q^T A q / 2
B = np.array([[1.0, 0.2], [0.2, 0.5]])        # K(p) = p^T B p / 2 (mass matrix B^{-1})
STEP, N = 0.3, 5
T_END, STEPS_ORDER = 1.5, (0.15, 0.075, 0.0375)     # fixed time; eps, eps/2, eps/4


def quadratic(q):
    return q @ A


def kinetic(p):
    return p @ B


def grad_V_nl(q):                              # V = q^T A q / 2 - sum cos q
    return q @ A + np.sin(q)


def grad_K_nl(p):                              # K = p^T B p / 2 + sum p^4 / 40 (even in p)
    return p @ B + 0.1 * p ** 3


def identity(y):                               # the harmonic oscillator: V = |q|^2/2, K = |p|^2/2
    return y


class Force:
    """A gradient handed to the student: (n, d) array of the backend -> (n, d)."""

    def __init__(self, f, name):
        self.f, self.name = f, name

    def __call__(self, y):
        y = backend.to_numpy(y)
        if y.ndim != 2:
            raise StudentError(f"{self.name} takes an (n, d) array; it got shape {y.shape}")
        return backend.asarray(self.f(y))

    def __repr__(self):
        return self.name


def scheme(q, p, grad_V, grad_K, eps, n_steps, mistake=None):
    """n_steps of leapfrog, or of the named wrong scheme, on host arrays (mistakes' predictions)."""
    if mistake == "swapped":
        grad_V, grad_K = grad_K, grad_V
    kick = 0.5 * eps if mistake == "kick_sign" else -0.5 * eps
    for _ in range(1 if mistake == "n_steps_ignored" else n_steps):
        if mistake == "euler":
            q, p = q + eps * grad_K(p), p - eps * grad_V(q)
        elif mistake == "no_half":
            p = p - eps * grad_V(q)
            q = q + eps * grad_K(p)
        else:
            p = p + kick * grad_V(q)
            q = q + eps * grad_K(p)
            p = p + kick * grad_V(q)
    return q, p


def step_matrix(eps, d=2):
    """The exact leapfrog map of the quadratic H on the column (q, p): half kick, drift, half
    kick, each a shear (2d, 2d)."""
    eye, zero = np.eye(d), np.zeros((d, d))
    kick = np.block([[eye, zero], [-0.5 * eps * A, eye]])
    drift = np.block([[eye, eps * B], [zero, eye]])
    return kick @ drift @ kick


def _run(student, ctx, q, p, grads, eps, n_steps, check_inputs=False):
    """The student's (q, p) (host (n, d) arrays); with check_inputs, also whether q, p changed."""
    q_in, p_in = backend.asarray(q.copy()), backend.asarray(p.copy())
    args = (q_in, p_in, Force(grads[0], "grad_V"), Force(grads[1], "grad_K"), eps)
    out = ctx.call(student, *args, *(() if n_steps is None else (n_steps,)))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise StudentError(f"your leapfrog must return a pair (q, p); got {type(out).__name__}")
    q1, p1 = (ctx.array(a, q.shape, f"the returned {w}") for a, w in zip(out, "qp"))
    if check_inputs:
        changed = [not np.array_equal(backend.to_numpy(a), b) for a, b in ((q_in, q), (p_in, p))]
        return q1, p1, changed
    return q1, p1


def _state(ctx, n=N, k=0):
    g = np.random.default_rng([ctx.seed, k])
    return g.standard_normal((n, 2)), g.standard_normal((n, 2))


def contract(student, ctx):
    q, p = _state(ctx)
    _, _, changed = _run(student, ctx, q, p, (quadratic, kinetic), STEP, 2, check_inputs=True)
    default = np.concatenate(_run(student, ctx, q, p, (quadratic, kinetic), STEP, None), axis=1)
    one = np.concatenate(_run(student, ctx, q, p, (quadratic, kinetic), STEP, 1), axis=1)
    differs = float(not np.allclose(default, one, rtol=0, atol=tolerances()[0]))
    return Measurement([*map(float, changed), differs], [0.0, 0.0, 0.0], tol=0.5,
                       labels=["q after the call", "p after the call", "n_steps omitted"],
                       mistakes={"q and p modified in place (q += ..., p -= ...)": [1.0, 1.0, 0.0],
                                 "p modified in place (p -= ...)": [0.0, 1.0, 0.0],
                                 "n_steps does not default to 1": [0.0, 0.0, 1.0]})


MISTAKES = {
    "explicit Euler: q and p both updated from the old state (not symplectic)": "euler",
    "half kicks missing: p <- p - eps grad V(q), then q <- q + eps grad K(p) (symplectic "
    "Euler, first order)": "no_half",
    "grad_V and grad_K swapped: the kicks move p by grad V(q), the drift moves q by "
    "grad K(p)": "swapped",
    "kick sign: p <- p + (eps/2) grad V(q); the force is minus grad V": "kick_sign",
    "n_steps ignored: one step taken": "n_steps_ignored"}


def one_step(student, ctx):
    q, p = _state(ctx)
    est, exp, labels, pred = [], [], [], {name: [] for name in MISTAKES}
    for n_steps in (1, 3):
        y = np.concatenate(_run(student, ctx, q, p, (quadratic, kinetic), STEP, n_steps), 1)
        M = np.linalg.matrix_power(step_matrix(STEP), n_steps)
        est.append(y.ravel())
        exp.append((np.concatenate([q, p], axis=1) @ M.T).ravel())       # rows: y M^T
        for name, m in MISTAKES.items():
            pred[name].append(np.concatenate(scheme(q, p, quadratic, kinetic, STEP, n_steps, m),
                                             axis=1).ravel())
        labels += [f"n_steps={n_steps}, point {i}, {w}" for i in range(N)
                   for w in ("q_1", "q_2", "p_1", "p_2")]
    return Measurement(np.concatenate(est), np.concatenate(exp), tol=tolerances()[0],
                       labels=labels, mistakes={k: np.concatenate(v) for k, v in pred.items()})


def _nl_map(run):
    return lambda y: np.concatenate(run(y[:, :2], y[:, 2:]), axis=1)


def volume(student, ctx):
    """det J = 1 of (q, p) -> leapfrog(q, p) (3 steps), central differences on a non-quadratic H."""
    _, h, tol = tolerances()
    y = np.concatenate(_state(ctx, 4, 1), axis=1)

    def det(run):
        return np.linalg.det(jacobians(_nl_map(run), y, h))
    est = det(lambda q, p: _run(student, ctx, q, p, (grad_V_nl, grad_K_nl), STEP, 3))
    return Measurement(est, np.ones(len(y)), tol=tol, labels=[f"point {i}" for i in range(len(y))],
                       mistakes={name: det(lambda q, p, m=m: scheme(q, p, grad_V_nl, grad_K_nl,
                                                                    STEP, 3, m))
                                 for name, m in MISTAKES.items()})


def reversibility(student, ctx):
    """Flip p, run, flip p: back to the start (4 steps on a non-quadratic H, K even in p)."""
    q, p = _state(ctx, N, 2)
    grads = (grad_V_nl, grad_K_nl)

    def there_and_back(run):
        q1, p1 = run(q, p)
        q2, p2 = run(q1, -p1)
        return np.concatenate([q2, -p2], axis=1).ravel()
    est = there_and_back(lambda q, p: _run(student, ctx, q, p, grads, STEP, 4))
    return Measurement(est, np.concatenate([q, p], axis=1).ravel(), tol=tolerances()[0],
                       labels=[f"point {i}, {w}" for i in range(N)
                               for w in ("q_1", "q_2", "p_1", "p_2")],
                       mistakes={name: there_and_back(lambda q, p, m=m: scheme(
                           q, p, *grads, STEP, 4, m)) for name, m in MISTAKES.items()})


def _orders(run, q, p):
    """log2 of the ratio of RMS energy errors at T_END for eps and eps/2, and eps/2 and eps/4."""
    def energy(q, p):
        return 0.5 * (q * q + p * p).sum(axis=1)
    errors = []
    for eps in STEPS_ORDER:
        q1, p1 = run(q, p, eps, int(round(T_END / eps)))
        errors.append(np.sqrt(np.mean((energy(q1, p1) - energy(q, p)) ** 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log2(np.array(errors[:-1]) / np.array(errors[1:]))


def energy_order(student, ctx):
    q, p = _state(ctx, 8, 3)
    grads = (identity, identity)
    est = _orders(lambda q, p, eps, n: _run(student, ctx, q, p, grads, eps, n), q, p)
    return Measurement(est, [2.0, 2.0], tol=0.2, labels=[
        f"log2 err({a}) / err({b})" for a, b in zip(STEPS_ORDER, STEPS_ORDER[1:])],
        mistakes={"first order: the error only halves with eps (explicit Euler, or the half "
                  "kicks missing)": [1.0, 1.0],
                  **{name: _orders(lambda q, p, eps, n, m=m: scheme(q, p, *grads, eps, n, m), q, p)
                     for name, m in MISTAKES.items() if m not in ("euler", "no_half")}})


HINT = ("hamiltonian-flows-blog.md, notes §2.8.1 Eq. (12): one step is a half kick "
        "p <- p - (eps/2) grad V(q), a drift q <- q + eps grad K(p), a half kick "
        "p <- p - (eps/2) grad V(q) at the new q")
HINT_VOLUME = ("each update must be a shear: p moved by a function of q alone, or q by a "
               "function of p alone (det 1, log|det J| = 0 in Eq. (12)); updating q and p from the "
               "same old state is not one")
HINT_REVERSE = ("the step must be symmetric, half kick - drift - half kick, so that the momentum "
                "flip runs it backwards; a full kick then a drift is not")
HINT_ORDER = ("the symmetric splitting (half kicks on both sides of the drift) makes leapfrog "
              "second order; take n_steps steps of size step_size")
CHECKS = "minigen.flows.hamiltonian"
EXERCISES = [Exercise(
    name="leapfrog", aliases=("leapfrog_step", "hamiltonian_leapfrog"),
    contract=Contract(
        function="leapfrog", params=("q", "p", "grad_V", "grad_K", "step_size", "n_steps=1"),
        title="Exercise: the leapfrog step of a Hamiltonian flow, notes §2.8.1 Eq. (12)",
        doc="""n_steps leapfrog steps of H(q, p) = V(q) + K(p) for n points at once.

q, p: (n, d) arrays, the positions and the momenta.
grad_V, grad_K: functions (n, d) -> (n, d), the gradients of V and of K.
step_size: eps; each step is a half kick of p, a drift of q, a half kick of p (leapfrog,
    Stormer-Verlet), so the map has det J = 1 (log|det J| = 0 in Eq. (12)).
Returns (q, p), each (n, d): the state after n_steps steps. Do not modify q, p in place."""),
    properties=[
        Property("contract", "returns (q, p) (n, d), the inputs left unchanged, n_steps=1 "
                 "by default", contract,
                 "return a pair (q, p) of new arrays (p = p - ..., never p -= ...); n_steps=1 by "
                 "default"),
        Property("one_step", "n_steps = 1, 3 on a quadratic H are the exact products of "
                 "three shears", one_step, HINT, ("contract",)),
        Property("volume", "det J = 1 on a non-quadratic H (central differences, Eq. 12)",
                 volume, HINT_VOLUME, ("contract",)),
        Property("reversibility", "flip p, run, flip p: back to the start", reversibility,
                 HINT_REVERSE, ("contract",)),
        Property("energy_order", "the energy error at a fixed time is O(eps^2) on the "
                 "harmonic oscillator: halving eps divides it by 4", energy_order,
                 HINT_ORDER, ("contract",)),
    ])]
