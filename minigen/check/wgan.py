"""Check a student's WGAN gradient penalty (notes §4.2, Eq. (62)-(63); Gulrajani et al. 2017).

    penalty = E (||grad f(x~)|| - 1)^2,   x~ = u x_real + (1 - u) x_fake,   u ~ U[0, 1]
softens the constraint ||f||_L <= 1 of the Kantorovich-Rubinstein duality (Theorem 3, Eq. (62)):
a 1-Lipschitz critic has ||grad f|| <= 1, and the optimal one has ||grad f|| = 1 on the segments
between coupled points. Oracles, all exact: a linear critic f = a.x (||grad f|| = |a| everywhere,
penalty (|a| - 1)^2), and f(x) = a.x + x^T B x / 2 + c sum_j sin(x_j), whose gradient
a + B x + c cos(x) the check evaluates in closed form at the student's points.
Arjovsky et al. 2017, arXiv:1701.07875; Gulrajani et al. 2017, arXiv:1704.00028.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property
from minigen.check.gan import device, number

CONTRACT = Contract(
    function="gradient_penalty",
    params=("grad_critic", "x_real", "x_fake", "u"),
    title="Exercise: the WGAN-GP gradient penalty, notes §4.2 Eq. (62)-(63)",
    doc="""The gradient penalty of WGAN-GP (Gulrajani et al. 2017) on one batch.

grad_critic: function (k, d) -> (k, d), the gradient grad_x f of the critic f at each
    of k points.
x_real: (m, d) array, data samples; x_fake: (m, d) array, generated samples.
u: (m, 1) array in [0, 1], one interpolation weight per pair.
Returns a float: the mean over the m pairs of (||grad f(x~_i)|| - 1)^2, at the
    interpolates x~_i = u_i x_real_i + (1 - u_i) x_fake_i.""")


def _tol(scale=1.0):
    return (1e-9 if backend.float_dtype() == np.float64 else 1e-4) * max(1.0, abs(scale))


class Critic:
    """f(x) = a.x + x^T B x / 2 + c sum_j sin(x_j), B symmetric; grad(x) is its gradient."""

    def __init__(self, a, B=None, c=0.0):
        self.a = np.asarray(a, float)
        d = len(self.a)
        self.B, self.c = np.zeros((d, d)) if B is None else np.asarray(B, float), c

    def gradient(self, x):
        """grad f at host points x (k, d) -> (k, d)."""
        return self.a + x @ self.B + self.c * np.cos(x)

    def student_view(self):
        """grad_critic as the student gets it: device arrays in, device arrays out."""
        d = len(self.a)

        def grad_critic(x):
            h = np.asarray(backend.to_numpy(x), dtype=float)
            if h.shape == (d,):
                return backend.asarray(self.gradient(h[None])[0])
            if h.ndim != 2 or h.shape[1] != d:
                raise ValueError(f"grad_critic takes points of shape (k, {d}); got {h.shape}")
            return backend.asarray(self.gradient(h))
        return grad_critic


def penalty(critic, x_real, x_fake, u, *, swap=False, where="interpolates"):
    """The penalty computed here; the keywords are the named mistakes."""
    if swap:
        u = 1.0 - u
    if where == "gradients":
        g = u * critic.gradient(x_real) + (1 - u) * critic.gradient(x_fake)
    else:
        x = {"interpolates": u * x_real + (1 - u) * x_fake, "real": x_real, "fake": x_fake,
             "midpoint": 0.5 * (x_real + x_fake)}[where]
        g = critic.gradient(x)                                       # (m, d)
    r = np.sqrt(np.sum(g * g, axis=1))                               # ||grad f(x~_i)||: (m,)
    return float(np.mean((r - 1.0) ** 2))


def _gp(student, ctx, critic, x_real, x_fake, u):
    args = [device(a) for a in (x_real, x_fake, u)]
    out = ctx.call(student, critic.student_view(), *args)
    return number(out, "the returned penalty"), args


def _batch(g, m, d, shift=2.0):
    x_real = g.standard_normal((m, d))
    x_fake = shift + 0.7 * g.standard_normal((m, d))
    return x_real, x_fake, g.uniform(0.0, 1.0, (m, 1))


def contract(student, ctx):
    """One number, and x_real, x_fake, u left as they were."""
    g = np.random.default_rng(3000 + ctx.seed)
    x_real, x_fake, u = _batch(g, 6, 2)
    _, args = _gp(student, ctx, Critic([0.6, -0.8], 0.3 * np.eye(2)), x_real, x_fake, u)
    changed = float(any(not np.array_equal(backend.to_numpy(a), h)
                        for a, h in zip(args, (x_real, x_fake, u))))
    return Measurement([changed], [0.0], tol=0.5, labels=["inputs after the call"],
                       mistakes={"x_real, x_fake or u modified in place": [1.0]})


LINEAR = [(np.array([0.6, 0.8]), 9), (np.array([1.0, -2.0, 2.0]), 9), (np.array([0.3, -0.4]), 5)]


def linear_critic(student, ctx):
    """f = a.x: ||grad f|| = |a| everywhere, so the penalty is (|a| - 1)^2 (0 when |a| = 1)."""
    g = np.random.default_rng(3100 + ctx.seed)
    est, exp, labels = [], [], []
    for a, m in LINEAR:
        est.append(_gp(student, ctx, Critic(a), *_batch(g, m, len(a)))[0])
        s = np.linalg.norm(a)
        exp.append((s - 1.0) ** 2)
        labels.append(f"|a| = {s:g}, m = {m}")
    s = np.array([np.linalg.norm(a) for a, _ in LINEAR])
    m = np.array([m for _, m in LINEAR])
    return Measurement(est, exp, tol=_tol(4.0), labels=labels, mistakes={
        "squared norm ||grad f||^2 in place of the norm": (s * s - 1.0) ** 2,
        "(||grad f|| - 1) not squared": s - 1.0,
        "the absolute value | ||grad f|| - 1 | in place of its square": np.abs(s - 1.0),
        "one-sided penalty max(0, ||grad f|| - 1)^2": np.maximum(s - 1.0, 0.0) ** 2,
        "a sum over the m pairs in place of the mean": m * (s - 1.0) ** 2,
        "one norm of the whole (m, d) batch of gradients, not one per point":
        (np.sqrt(m) * s - 1.0) ** 2})


def interpolation(student, ctx):
    """A curved critic: the penalty depends on where the gradient is taken."""
    g = np.random.default_rng(3200 + ctx.seed)
    est, exp, labels, mistakes = [], [], [], {}
    names = {"u applied the other way round: x~ = (1 - u) x_real + u x_fake": dict(swap=True),
             "the penalty on x_real only, not on the interpolates": dict(where="real"),
             "the penalty on x_fake only, not on the interpolates": dict(where="fake"),
             "the penalty at the midpoints (x_real + x_fake) / 2: u ignored":
             dict(where="midpoint"),
             "gradients interpolated, u grad f(x_real) + (1 - u) grad f(x_fake), not taken "
             "at x~": dict(where="gradients")}
    for k, (m, d) in enumerate(((12, 2), (7, 3), (20, 2))):
        A = g.standard_normal((d, d))
        critic = Critic(0.8 * g.standard_normal(d), 0.3 * (A + A.T), 0.5)
        x_real, x_fake, u = _batch(g, m, d)
        if k == 2:
            u[:4] = [[0.0], [1.0], [0.0], [1.0]]                     # the two ends of the segment
        est.append(_gp(student, ctx, critic, x_real, x_fake, u)[0])
        exp.append(penalty(critic, x_real, x_fake, u))
        for name, flags in names.items():
            mistakes.setdefault(name, []).append(penalty(critic, x_real, x_fake, u, **flags))
        labels.append(f"batch {k}: m = {m}, d = {d}")
    return Measurement(est, exp, tol=_tol(max(exp)), labels=labels, mistakes=mistakes)


HINT = ("Gulrajani et al. 2017, Eq. (3), the soft form of ||f||_L <= 1 in Eq. (62)-(63) "
        "(notes §4.2): the mean over pairs of (||grad f(x~)|| - 1)^2, the Euclidean norm of "
        "each point's gradient, at x~ = u x_real + (1 - u) x_fake")
CHECKS = "minigen.gans.wgan"
EXERCISES = [Exercise(
    name="gradient_penalty", aliases=("gp", "wgan_gp"), contract=CONTRACT,
    properties=[
        Property("contract", "returns one number and leaves x_real, x_fake and u unchanged",
                 contract, "compute x~ in a new array; do not write into the inputs"),
        Property("linear_critic", "a linear critic f = a.x pays (|a| - 1)^2: 0 when it is "
                 "1-Lipschitz with slope 1", linear_critic, HINT, ("contract",)),
        Property("interpolation", "a curved critic's penalty is taken at x~ = u x_real + "
                 "(1 - u) x_fake", interpolation, HINT, ("linear_critic",)),
    ])]
