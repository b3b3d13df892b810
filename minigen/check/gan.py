"""Check a student's optimal discriminator and GAN value (notes §2.7, §3.4, Lemma 1, Theorem 1).

    V(D, G) = E_{x~p_data} log D(x) + E_{z~p_z} log(1 - D(G(z)))                     Eq. (47)
    D*(x) = p_data(x) / (p_data(x) + p_G(x))                                      Eq. (48), (52)
    V(D*, G) = 2 JS(p_data || p_G) - log 4, = -log 4 iff p_G = p_data             Eq. (53)-(54)
Oracles, all exact: D* at random density pairs; V by Eq. (51) as a finite sum on discrete
distributions; JS(p, q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, summed here; samples that
hold each state of a discrete law in exact proportion, so a Monte-Carlo mean is the exact sum.
Goodfellow et al. 2014, arXiv:1406.2661.
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError

LOG4 = math.log(4.0)
# discrete laws (counts over 5 states) for Theorem 1: n = 20 data samples, m = 30 generated ones
COUNTS = [((4, 6, 2, 5, 3), (9, 3, 6, 3, 9)),
          ((1, 1, 8, 9, 1), (12, 5, 2, 1, 10)),
          ((2, 4, 6, 4, 4), (3, 6, 9, 6, 6))]           # the last pair: p_G = p_data


def _tol(scale=1.0):
    return (1e-9 if backend.float_dtype() == np.float64 else 1e-4) * scale


def device(a):
    """A copy of the host array ``a`` on the active backend (the student may write into it)."""
    return backend.asarray(np.array(a, dtype=float))


def _host(out, shape, what, finite=True):
    """The student's output as a host float array of ``shape`` (inf allowed unless finite)."""
    try:
        a = np.asarray(backend.to_numpy(out), dtype=float)
    except Exception:                                                # noqa: BLE001
        raise StudentError(f"{what} must be an array of shape {shape}; got "
                           f"{type(out).__name__}") from None
    if a.shape != tuple(shape):
        raise StudentError(f"{what} must have shape {tuple(shape)}; got {a.shape}")
    if np.any(np.isnan(a)) or (finite and not np.all(np.isfinite(a))):
        raise StudentError(f"{what} holds NaN or inf ({int((~np.isfinite(a)).sum())} entries)")
    return a


def number(out, what):
    """The student's scalar output (a float or a 0-d array) as a Python float."""
    try:
        a = np.asarray(backend.to_numpy(out), dtype=float)
    except Exception:                                                # noqa: BLE001
        raise StudentError(f"{what} must be one number (a float); got "
                           f"{type(out).__name__}") from None
    if a.ndim != 0:
        raise StudentError(f"{what} must be one number (a float); got an array of shape "
                           f"{a.shape}")
    if not np.isfinite(a):
        raise StudentError(f"{what} is {float(a)}")
    return float(a)


def js(p, q):
    """Jensen-Shannon divergence (natural log) of two discrete laws, 0 log 0 = 0."""
    m = 0.5 * (p + q)

    def kl(a):
        return float(np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0) / m), 0.0)))
    return 0.5 * kl(p) + 0.5 * kl(q)


def value(D, p, q):
    """Eq. (51) on a finite set of states: sum_k p_k log D_k + q_k log(1 - D_k)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(p * np.log(D) + q * np.log(1.0 - D)))


def _laws():
    """(p, q, counts_p, counts_q) for each pair of COUNTS."""
    out = []
    for cp, cq in COUNTS:
        cp, cq = np.array(cp, float), np.array(cq, float)
        out.append((cp / cp.sum(), cq / cq.sum(), cp, cq))
    return out


# ------------------------------------------------------------------ optimal_discriminator

D_CONTRACT = Contract(
    function="optimal_discriminator",
    params=("p_data", "p_g"),
    title="Exercise: the GAN's optimal discriminator D*, notes §3.4 Lemma 1, Eq. (48)",
    doc="""The best discriminator against a fixed generator G (Lemma 1, Eq. (48), (52)).

p_data: (n,) array, the data density p_data(x_i) at n points, >= 0.
p_g: (n,) array, the generator's density p_G(x_i) at the same points, >= 0,
    with p_data + p_g > 0 at every point.
Returns D*: (n,) array, D*(x_i) in [0, 1].""")


def _d_star(student, ctx, p, q, finite=True):
    out = ctx.call(student, device(p), device(q))
    return _host(out, p.shape, "the returned D*", finite)


def density_ratio(student, ctx):
    """D* at random densities on 40 points, over 16 orders of magnitude."""
    g = np.random.default_rng(2000 + ctx.seed)
    p = np.exp(g.uniform(-18.0, 18.0, 40))                   # densities, not probabilities
    q = p * np.exp(g.uniform(-3.0, 3.0, 40))                 # p_G within e^3 of p_data
    d = _d_star(student, ctx, p, q)
    return Measurement(d, p / (p + q), tol=_tol(), labels=[f"point {i}" for i in range(40)],
                       mistakes={
                           "p_data and p_g swapped: D = p_g / (p_data + p_g)": q / (p + q),
                           "the density ratio p_data / p_g, not p_data / (p_data + p_g)": p / q,
                           "D* = 1/2 everywhere (true only when p_G = p_data)":
                           np.full(40, 0.5)})


def range_and_edges(student, ctx):
    """D* = 1 where p_G = 0, 0 where p_data = 0, 1/2 where they are equal; always in [0, 1]."""
    g = np.random.default_rng(2100 + ctx.seed)
    p_edge, q_edge = np.array([0.3, 0.0, 2.5, 7.0, 1e-200]), np.array([0.0, 0.4, 2.5, 0.0, 0.0])
    p = np.concatenate([p_edge, g.exponential(1.0, 30)])
    q = np.concatenate([q_edge, g.exponential(1.0, 30) * 10.0 ** g.integers(-3, 4, 30)])
    d = _d_star(student, ctx, p, q, finite=False)
    outside = np.maximum(0.0, np.maximum(d[5:] - 1.0, -d[5:]))        # distance to [0, 1]
    est = np.concatenate([d[:5], [outside.max()]])
    labels = ["p_g = 0: D* = 1", "p_data = 0: D* = 0", "p_data = p_g: D* = 1/2",
              "p_g = 0: D* = 1", "p_data = 1e-200, p_g = 0: D* = 1", "D* in [0, 1]"]
    with np.errstate(divide="ignore", invalid="ignore"):
        swapped = q / (p + q)
    return Measurement(est, [1.0, 0.0, 0.5, 1.0, 1.0, 0.0], tol=_tol(), labels=labels,
                       mistakes={"p_data and p_g swapped: D = p_g / (p_data + p_g)":
                                 np.concatenate([swapped[:5], [0.0]])})


def theorem1_at_d_star(student, ctx):
    """V(D, G) of Eq. (51), summed here at the student's D, is 2 JS - log 4 (Eq. (53))."""
    est, exp, labels, swapped = [], [], [], []
    for k, (p, q, _, _) in enumerate(_laws()):
        d = _d_star(student, ctx, p, q, finite=False)
        est.append(value(d, p, q))
        exp.append(2.0 * js(p, q) - LOG4)
        swapped.append(value(q / (p + q), p, q))
        labels.append("p_G = p_data: V = -log 4" if np.allclose(p, q) else f"law pair {k}")
    return Measurement(est, exp, tol=_tol(), labels=labels, mistakes={
        "p_data and p_g swapped: D = p_g / (p_data + p_g)": swapped,
        "D* = 1/2 everywhere: V = -log 4 whatever p_G": np.full(len(est), -LOG4)})


D_HINT = ("notes §3.4, Lemma 1, Eq. (48) and (52): a log y + b log(1 - y) is largest at "
          "y = a / (a + b), with a = p_data(x), b = p_G(x); no epsilon, no clipping: D* does not "
          "change when both densities are multiplied by one constant")

# ------------------------------------------------------------------ value_function

V_CONTRACT = Contract(
    function="value_function",
    params=("d_real", "d_fake"),
    title="Exercise: the GAN value function V(D, G), notes §3.4 Eq. (47), Theorem 1",
    doc="""The value V(D, G) of Eq. (47), estimated on samples.

d_real: (n,) array, D(x_i) in (0, 1] on n data samples x_i ~ p_data.
d_fake: (m,) array, D(G(z_j)) in [0, 1) on m generated samples G(z_j), z_j ~ p_z.
Returns V: a float, the Monte-Carlo estimate of E log D(x) + E log(1 - D(G(z))).""")


def _v(student, ctx, d_real, d_fake):
    out = ctx.call(student, device(d_real), device(d_fake))
    return number(out, "the returned value V")


def _v_mistakes(a, b):
    """What each named mistake returns from a = D on data (n,), b = D on samples (m,)."""
    la, lb = np.log(a), np.log(1.0 - b)
    v = la.mean() + lb.mean()
    return {"log D(G(z)) in place of log(1 - D(G(z)))": la.mean() + np.log(b).mean(),
            "the sign of V flipped (the discriminator's loss -V): log 4 - 2 JS, +log 4 at "
            "p_G = p_data": -v,
            "log base 2: -2, not -log 4, at p_G = p_data": v / math.log(2.0),
            "sums in place of means": la.sum() + lb.sum(),
            "one mean over the n + m samples together, not one mean per expectation":
            (la.sum() + lb.sum()) / (len(a) + len(b)),
            "the log of the means, not the mean of the logs":
            math.log(a.mean()) + math.log(1.0 - b.mean())}


def monte_carlo_value(student, ctx):
    """The estimate on given outputs of D: mean log d_real + mean log(1 - d_fake)."""
    g = np.random.default_rng(2200 + ctx.seed)
    est, exp, mistakes, labels = [], [], {}, []
    for n, m in ((7, 11), (25, 4), (16, 16)):
        a, b = g.uniform(0.02, 0.98, n), g.uniform(0.02, 0.98, m)
        est.append(_v(student, ctx, a, b))
        exp.append(np.log(a).mean() + np.log(1.0 - b).mean())
        for name, val in _v_mistakes(a, b).items():
            mistakes.setdefault(name, []).append(val)
        labels.append(f"n = {n}, m = {m}")
    return Measurement(est, exp, tol=_tol(), labels=labels, mistakes=mistakes)


def theorem1(student, ctx):
    """At D*, on samples that hold each state in exact proportion: V = 2 JS - log 4 (Eq. (53))."""
    g = np.random.default_rng(2300 + ctx.seed)
    est, exp, mistakes, labels = [], [], {}, []
    for k, (p, q, cp, cq) in enumerate(_laws()):
        d = p / (p + q)                                            # Eq. (48)
        a = g.permutation(np.repeat(d, cp.astype(int)))            # D*(x_i), x_i ~ p: (20,)
        b = g.permutation(np.repeat(d, cq.astype(int)))            # D*(G(z_j)): (30,)
        est.append(_v(student, ctx, a, b))
        exp.append(2.0 * js(p, q) - LOG4)                          # Eq. (53)
        for name, val in _v_mistakes(a, b).items():
            mistakes.setdefault(name, []).append(val)
        labels.append("p_G = p_data: V = -log 4 (Eq. 54)" if np.allclose(p, q)
                      else f"law pair {k}: V = 2 JS - log 4")
    return Measurement(est, exp, tol=_tol(), labels=labels, mistakes=mistakes)


V_HINT = ("notes §3.4, Eq. (47): V = E_x log D(x) + E_z log(1 - D(G(z))), one mean per "
          "expectation, natural log; Theorem 1, Eq. (53)-(54): at D*, V = 2 JS - log 4")
CHECKS = "minigen.gans.gan"
EXERCISES = [
    Exercise(
        name="optimal_discriminator", aliases=("d_star", "lemma1"), contract=D_CONTRACT,
        properties=[
            Property("density_ratio", "D* = p_data / (p_data + p_G) at random densities "
                     "(Eq. 48)", density_ratio, D_HINT),
            Property("range_and_edges", "D* lies in [0, 1]: 1 where p_G = 0, 0 where "
                     "p_data = 0, 1/2 where p_G = p_data", range_and_edges, D_HINT),
            Property("theorem1", "V(D*, G) = 2 JS(p_data || p_G) - log 4 on discrete laws, "
                     "-log 4 when p_G = p_data (Eq. 53-54)", theorem1_at_d_star,
                     "notes §3.4, Theorem 1, Eq. (53): V(D*, G) = 2 JS - log 4 only at D* of "
                     "Eq. (48); reread Lemma 1"),
        ]),
    Exercise(
        name="value_function", aliases=("gan_value", "theorem1"), contract=V_CONTRACT,
        properties=[
            Property("monte_carlo_value", "V = mean log D(x_i) + mean log(1 - D(G(z_j))) on "
                     "given outputs of D (Eq. 47)", monte_carlo_value, V_HINT),
            Property("theorem1", "at D*, V = 2 JS(p_data || p_G) - log 4, and -log 4 when "
                     "p_G = p_data (Eq. 53-54)", theorem1, V_HINT),
        ]),
]
