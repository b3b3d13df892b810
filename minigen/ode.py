"""Ordinary differential equations, the integrators the rooms share.

leapfrog: the symplectic splitting of Hamilton's equations dq/dt = grad K(p), dp/dt = -grad V(q)
(notes §2.8.1, Eq. (10)-(12)), used by the Hamiltonian flow and by HMC.
"""
from minigen import backend


def leapfrog(q, p, grad_V, grad_K, step_size, n_steps=1):
    """n_steps leapfrog steps of H = V(q) + K(p); q, p: (n, d); grad_V, grad_K: (n, d) -> (n, d).

    One step of size eps (half kick, drift, half kick):
        p <- p - (eps/2) grad V(q),   q <- q + eps grad K(p),   p <- p - (eps/2) grad V(q)
    is a composition of three shears: det J = 1, symplectic, and
    leapfrog(*leapfrog(q, p, .., eps), .., -eps) = (q, p) (a negative step_size runs the dynamics
    backwards). Outside autograd's trace, a point whose state becomes NaN or inf raises
    FloatingPointError naming the step.
    """
    q, p = backend.asarray(q, "q"), backend.asarray(p, "p")
    if len(q.shape) != 2 or tuple(q.shape) != tuple(p.shape):
        raise ValueError(f"q and p must have the same shape (n, d); got q {tuple(q.shape)}, "
                         f"p {tuple(p.shape)}")
    backend.check_callable(grad_V, "grad_V", "(n, d) -> (n, d)")
    backend.check_callable(grad_K, "grad_K", "(n, d) -> (n, d)")
    if backend.check_number(step_size, "step_size") == 0:
        raise ValueError(f"step_size must be a finite non-zero number; got step_size={step_size}")
    n_steps = backend.check_int(n_steps, "n_steps")
    # the closing half kick of a step and the opening one of the next are merged into one kick
    p = p - 0.5 * step_size * grad_V(q)                    # half kick, Eq. (12)
    for k in range(n_steps):
        q = q + step_size * grad_K(p)                      # drift
        kick = step_size if k < n_steps - 1 else 0.5 * step_size
        p = p - kick * grad_V(q)                           # kick
        # checked outside autograd's trace (there the arrays are boxes)
        if isinstance(p, backend.active().array_type) and (bad := backend.count_bad_rows(q, p)):
            raise FloatingPointError(
                f"leapfrog: {bad} of {q.shape[0]} points became NaN or inf at step {k + 1} of "
                f"{n_steps} (step_size={step_size}): leapfrog is stable only while step_size * "
                "sqrt(L_V L_K) < 2 (L: the largest curvatures of V and K): take a smaller "
                "step_size (a Hamiltonian flow: its training diverged, retrain with a smaller lr)")
    return q, p
