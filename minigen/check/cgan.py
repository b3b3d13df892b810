"""Check a student's conditional GAN value (notes §4.3, Eq. (64); Lemma 1 and Theorem 1 per label).

    V(D, G) = E_{(x,y)~p_data} log D(x|y) + E_{z, y~pi} log(1 - D(G(z|y)|y))          Eq. (64)
    D*(x|y) = p(x|y) / (p(x|y) + p_G(x|y))            (Lemma 1, Eq. (48), for each label y)
    V(D*, G) = sum_y pi(y) 2 JS(p(.|y) || p_G(.|y)) - log 4               (Eq. (53) per label)
Oracles, all exact: a discriminator given in closed form, sigmoid(w_y . x + b_y); discrete laws per
label whose samples hold each (state, label) in exact proportion, so the Monte-Carlo value is the
exact sum. Mirza & Osindero 2014, arXiv:1411.1784.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property
from minigen.check.gan import LOG4, device, js, number

CONTRACT = Contract(
    function="conditional_value",
    params=("discriminator", "x_real", "labels_real", "x_fake", "labels_fake"),
    title="Exercise: the conditional GAN's value V(D, G), notes §4.3 Eq. (64)",
    doc="""The value V(D, G) of Eq. (64), estimated on labelled samples.

discriminator: function (x (k, d), labels (k,) ints) -> (k,) array, D(x|y) in (0, 1)
    for each point x with its label y.
x_real: (n, d) array and labels_real: (n,) ints, n pairs (x_i, y_i) ~ p_data.
x_fake: (m, d) array, generated points G(z_j|y'_j), and labels_fake: (m,) ints,
    the labels y'_j ~ pi they were generated for.
Returns V: a float, mean_i log D(x_i|y_i) + mean_j log(1 - D(G(z_j|y'_j)|y'_j)).""")


def _tol(scale=1.0):
    return (1e-9 if backend.float_dtype() == np.float64 else 1e-4) * max(1.0, abs(scale))


def device_labels(y):
    """Integer labels (k,) on the active backend (the student may write into them)."""
    return backend.xp.asarray(np.array(y, dtype=np.int64))


class Discriminator:
    """D(x|y) given by a host function d(x (k, d), y (k,)) -> (k,): what the student calls."""

    def __init__(self, d):
        self.d = d

    def student_view(self):
        def discriminator(x, labels):
            xh = np.asarray(backend.to_numpy(x), dtype=float)
            yh = np.asarray(backend.to_numpy(labels))
            if xh.ndim != 2 or yh.shape != (xh.shape[0],):
                raise ValueError("discriminator takes x (k, d) and labels (k,), one label per "
                                 f"point; got shapes {xh.shape} and {yh.shape}")
            if not np.all(yh == np.round(yh)):
                raise ValueError("discriminator takes integer labels")
            return backend.asarray(self.d(xh, yh.astype(int)))
        return discriminator


def _v(student, ctx, D, x_real, y_real, x_fake, y_fake):
    out = ctx.call(student, D.student_view(), device(x_real), device_labels(y_real),
                   device(x_fake), device_labels(y_fake))
    return number(out, "the returned value V")


def value(d, x_real, y_real, x_fake, y_fake, mistake=None):
    """The value computed here from the host function d; the keywords are the named mistakes."""
    if mistake == "ignored":
        y_real, y_fake = 0 * y_real, 0 * y_fake
    if mistake == "real_labels":
        y_fake = y_real
    if mistake == "swapped":
        y_real, y_fake = y_fake, y_real
    lr, lf = np.log(d(x_real, y_real)), np.log1p(-d(x_fake, y_fake))
    if mistake == "log_d_fake":
        lf = np.log(d(x_fake, y_fake))
    if mistake == "per_label":
        ks = np.intersect1d(y_real, y_fake)                  # labels seen on both sides
        return float(np.mean([lr[y_real == k].mean() + lf[y_fake == k].mean() for k in ks]))
    return float(lr.mean() + lf.mean())


MISTAKES = {"the labels ignored: D judged every point with label 0": "ignored",
            "the fakes judged with the data's labels, not the labels G drew them for":
            "real_labels",
            "labels_real and labels_fake swapped": "swapped",
            "log D(G(z|y)|y) in place of log(1 - D(G(z|y)|y))": "log_d_fake",
            "one mean per label, averaged with equal weights: pi(y) dropped": "per_label"}


def _mistakes(d, *args):
    return {name: value(d, *args, mistake=flag) for name, flag in MISTAKES.items()}


def _logistic(g, d, k):
    w, b = 1.5 * g.standard_normal((k, d)), g.standard_normal(k)

    def D(x, y):
        return 1.0 / (1.0 + np.exp(-(np.sum(x * w[y], axis=1) + b[y])))
    return D


def monte_carlo_value(student, ctx):
    """The estimate for a D given in closed form: each point judged with its own label."""
    g = np.random.default_rng(4000 + ctx.seed)
    est, exp, labels, mistakes = [], [], [], {}
    for n, d, k in ((12, 2, 3), (25, 1, 4), (16, 3, 2)):
        D = _logistic(g, d, k)
        p = g.dirichlet(np.ones(k)) * 0.6 + 0.4 / k                  # unequal label frequencies
        args = (g.standard_normal((n, d)), g.choice(k, n, p=p),
                1.0 + g.standard_normal((n, d)), g.choice(k, n, p=p))
        est.append(_v(student, ctx, Discriminator(D), *args))
        exp.append(value(D, *args))
        for name, val in _mistakes(D, *args).items():
            mistakes.setdefault(name, []).append(val)
        labels.append(f"n = m = {n}, d = {d}, {k} labels")
    return Measurement(est, exp, tol=_tol(4.0), labels=labels, mistakes=mistakes)


# laws over 4 states for 2 labels: counts of data (x, y) and of generated (x, y) points, with the
# same label counts (12 and 8: pi = 0.6, 0.4). Last pair: p_G(.|y) = p(.|1 - y) with pi uniform:
# the marginals agree (Eq. (47) would give -log 4) but V > -log 4
LAWS = [(((3, 4, 1, 4), (1, 2, 4, 1)), ((6, 2, 2, 2), (1, 1, 3, 3))),
        (((5, 5, 1, 1), (0, 1, 3, 4)), ((1, 2, 4, 5), (4, 3, 1, 0))),
        (((4, 3, 2, 1), (1, 2, 3, 4)), ((1, 2, 3, 4), (4, 3, 2, 1)))]


def _exact_sample(g, counts):
    """Points x = state (k, 1) and labels holding each (state, label) in exact proportion."""
    pairs = [(s, y) for y, c in enumerate(counts) for s, n in enumerate(c) for _ in range(n)]
    pairs = [pairs[i] for i in g.permutation(len(pairs))]
    return (np.array([[float(s)] for s, _ in pairs]), np.array([y for _, y in pairs]))


def theorem1_per_label(student, ctx):
    """At D*(x|y) of Lemma 1 per label, on exact samples: V = sum_y pi(y) 2 JS_y - log 4."""
    g = np.random.default_rng(4100 + ctx.seed)
    est, exp, labels, mistakes = [], [], [], {}
    for k, (cp, cq) in enumerate(LAWS):
        cp, cq = np.array(cp, float), np.array(cq, float)
        p, q = cp / cp.sum(axis=1, keepdims=True), cq / cq.sum(axis=1, keepdims=True)
        table = p / (p + q)                                         # D*(s|y): (labels, states)

        def D(x, y, table=table):
            return np.clip(table[y, x[:, 0].astype(int)], 1e-300, 1 - 1e-16)
        args = (*_exact_sample(g, cp.astype(int)), *_exact_sample(g, cq.astype(int)))
        est.append(_v(student, ctx, Discriminator(D), *args))
        pi = cp.sum(axis=1) / cp.sum()
        exp.append(float(sum(w * 2 * js(a, b) for w, a, b in zip(pi, p, q)) - LOG4))
        for name, val in _mistakes(D, *args).items():
            mistakes.setdefault(name, []).append(val)
        labels.append("same marginals, labels crossed: V > -log 4" if k == 2
                      else f"law pair {k}: V = sum_y pi(y) 2 JS_y - log 4")
    return Measurement(est, exp, tol=_tol(4.0), labels=labels, mistakes=mistakes)


HINT = ("notes §4.3, Eq. (64): V = E log D(x|y) + E log(1 - D(G(z|y)|y)): each point is judged "
        "with its own label (a generated point with the label it was generated for), one mean "
        "per expectation over all points, so each label weighs its frequency pi(y); at D* of "
        "Lemma 1 per label, V = sum_y pi(y) 2 JS - log 4 (Theorem 1)")
CHECKS = "minigen.gans.cgan"
EXERCISES = [Exercise(
    name="conditional_value", aliases=("cgan_value", "cgan"), contract=CONTRACT,
    properties=[
        Property("monte_carlo_value", "V = mean log D(x_i|y_i) + mean log(1 - D(x'_j|y'_j)) for "
                 "a D given in closed form (Eq. 64)", monte_carlo_value, HINT),
        Property("theorem1_per_label", "at D*(x|y) of Lemma 1, V = sum_y pi(y) 2 JS(p(.|y) || "
                 "p_G(.|y)) - log 4, even where the marginals agree", theorem1_per_label, HINT),
    ])]
