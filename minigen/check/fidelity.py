"""Check a student's improved precision and recall (notes §4.4, Eq. (65)-(66)).

    B(x_i, r_i): r_i = the distance from x_i to its k-th nearest *other* real point,
    precision = 1/M sum_j 1[ |y_j - x_i| <= r_i for some i ]            fidelity, Eq. (65)
    recall    = 1/N sum_i 1[ |x_i - y_j| <= s_j for some j ]            diversity, Eq. (66)
with s_j the same radius of y_j among the fake points. Oracles, all exact: the balls of a few
points computed here with every distance written out (|a - b| by broadcasting, the radius by a
sort), on 1-D cases worked by hand, random clouds (no ties) and integer clouds whose points lie
exactly on spheres (distances 1, 2, 4, 5: a tie is exact in any float). Kynkäänniemi et al. 2019,
arXiv:1904.06991.
"""
import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property, StudentError
from minigen.check.gan import device, number

CONTRACT = Contract(
    function="precision_recall",
    params=("real", "fake", "k=5"),
    title="Exercise: improved precision and recall (k-NN balls), notes §4.4 Eq. (65)-(66)",
    doc="""Improved precision and recall of a generator (Kynkäänniemi et al. 2019).

real: (N, d) array, the data points x_i; fake: (M, d) array, the generated points y_j.
k: int >= 1. The ball around x_i has radius r_i = the distance from x_i to its k-th nearest
    other real point (x_i is not its own neighbour); the ball around y_j likewise among the
    fake points. A point at distance exactly r from the centre is inside (<=).
Returns (precision, recall), two floats in [0, 1]:
    precision = the fraction of fake points inside at least one real ball (fidelity, Eq. 65),
    recall = the fraction of real points inside at least one fake ball (diversity, Eq. 66).""")

MISTAKES = {   # name -> the oracle's flags
    "a point counted as its own neighbour (the (k-1)-th other point sets the radius)":
        dict(own=True),
    "the (k+1)-th nearest neighbour sets the radius, not the k-th": dict(shift=1),
    "precision and recall swapped": dict(swap=True),
    "strict < on the radius: a point on the sphere must count as inside (<=)": dict(strict=True),
}


def exact(real, fake, k, own=False, shift=0, swap=False, strict=False):
    """(precision, recall) with every distance written out; the flags are the named mistakes."""
    def radii(x):
        d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))      # (n, n)
        if not own:
            d[np.arange(len(x)), np.arange(len(x))] = np.inf        # x_i is not its own neighbour
        return np.sort(d, axis=1)[:, k - 1 + shift]

    def covered(points, centres, r):
        d = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
        inside = d < r[None, :] if strict else d <= r[None, :]
        return float(np.mean(inside.any(axis=1)))

    real, fake = np.asarray(real, float), np.asarray(fake, float)
    p, r = covered(fake, real, radii(real)), covered(real, fake, radii(fake))
    return (r, p) if swap else (p, r)


def col(values):
    return np.asarray(values, dtype=float)[:, None]


# real {0, 1, 3, 7}: k = 1 balls [-1, 1], [0, 2], [1, 5], [3, 11]; fake {0.5, 2.5, 12, 13.5}:
# k = 1 balls [-1.5, 2.5], [0.5, 4.5], [10.5, 13.5], [12, 15]; (p, r) = (1/2, 3/4) at k = 1,
# (3/4, 1) at k = 2. Every mistake of MISTAKES but strict < changes them.
HAND = (col([0, 1, 3, 7]), col([0.5, 2.5, 12, 13.5]))
# integer points on the spheres of their balls (k = 1 unless said), by hand:
TIES = [
    # real balls [-1, 1], [0, 2], [1, 5], [3, 11]: -1 and 11 on a sphere, 13 outside: p = 2/3
    ("fake on real spheres", col([0, 1, 3, 7]), col([-1, 11, 13]), 1),
    # fake {0, 4}: s = 4, 4; 8 on the sphere of B(4, 4), 9 outside: r = 2/3; real radii 4, 1, 1:
    # fake 0 on the sphere of B(4, 4): p = 1
    ("real on fake spheres", col([4, 8, 9]), col([0, 4]), 1),
    # duplicates: real {0, 0, 6, 10}, r = 0, 0, 4, 4; fake 0 at distance 0 <= 0: p = 2/3
    ("duplicated real point", col([0, 0, 6, 10]), col([0, 0.5, 3]), 1),
    # 2-D, 3-4-5 triangles: four of the five real radii are 5, fake points at 5 from them
    ("3-4-5 triangles in 2-D", np.array([[0, 0], [3, 4], [6, 8], [-3, 4], [0, 10]], float),
     np.array([[0, 5], [3, -4], [9, 12], [-6, 8], [20, 20]], float), 1),
    ("3-4-5 triangles, k = 2", np.array([[0, 0], [3, 4], [6, 8], [-3, 4], [0, 10]], float),
     np.array([[0, 5], [3, -4], [9, 12], [-6, 8], [20, 20]], float), 2),
]


def _tol():
    return 1e-9 if backend.float_dtype() == np.float64 else 1e-4


def _pr(student, ctx, real, fake, k):
    return _two_fractions(ctx.call(student, device(real), device(fake), k))


def _two_fractions(out):
    """The student's (precision, recall) as two Python floats in [0, 1]."""
    if isinstance(out, (str, bytes)) or not hasattr(out, "__len__") or len(out) != 2:
        raise StudentError("precision_recall must return two numbers (precision, recall); got "
                           f"{type(out).__name__}")
    p, r = number(out[0], "the returned precision"), number(out[1], "the returned recall")
    if not (0.0 <= p <= 1.0 and 0.0 <= r <= 1.0):
        raise StudentError(f"precision and recall are fractions in [0, 1]; got ({p:.3g}, "
                           f"{r:.3g})")
    return p, r


def _random_cases(ctx):
    g = np.random.default_rng(5000 + ctx.seed)
    return [("1-D by hand, k = 1",) + HAND + (1,), ("1-D by hand, k = 2",) + HAND + (2,),
            ("2-D, N = 30, M = 25, k = 3", g.standard_normal((30, 2)),
             0.7 + 1.5 * g.standard_normal((25, 2)), 3),
            ("3-D, N = 20, M = 40, k = 5", g.standard_normal((20, 3)),
             0.5 * g.standard_normal((40, 3)), 5),
            ("2-D, two clusters vs one, k = 2",
             np.concatenate([g.standard_normal((12, 2)), 6.0 + g.standard_normal((12, 2))]),
             g.standard_normal((15, 2)), 2)]


def _measure(student, ctx, cases, which):
    """Precision (which = 0) or recall (1) on each case, against exact() and its mistakes."""
    est = [_pr(student, ctx, real, fake, k)[which] for _, real, fake, k in cases]
    exp = [exact(real, fake, k)[which] for _, real, fake, k in cases]
    mistakes = {name: [exact(real, fake, k, **flags)[which] for _, real, fake, k in cases]
                for name, flags in MISTAKES.items()}
    return Measurement(est, exp, tol=_tol(), labels=[c[0] for c in cases], mistakes=mistakes)


def contract(student, ctx):
    """Two fractions in [0, 1]; the student's arrays are left as they were."""
    g = np.random.default_rng(5100 + ctx.seed)
    real, fake = g.standard_normal((10, 2)), g.standard_normal((8, 2))
    a, b = device(real), device(fake)
    _two_fractions(ctx.call(student, a, b, 3))
    changed = float(not (np.array_equal(backend.to_numpy(a), real)
                         and np.array_equal(backend.to_numpy(b), fake)))
    return Measurement([changed], [0.0], tol=0.5, labels=["the real and fake arrays"],
                       mistakes={"the input arrays were modified in place": [1.0]})


def precision(student, ctx):
    return _measure(student, ctx, _random_cases(ctx), 0)


def recall(student, ctx):
    return _measure(student, ctx, _random_cases(ctx), 1)


def ties(student, ctx):
    est, exp, labels = [], [], []
    mistakes = {name: [] for name in MISTAKES}
    for label, real, fake, k in TIES:
        est += _pr(student, ctx, real, fake, k)
        exp += exact(real, fake, k)
        labels += [f"{label}: precision", f"{label}: recall"]
        for name, flags in MISTAKES.items():
            mistakes[name] += exact(real, fake, k, **flags)
    return Measurement(est, exp, tol=_tol(), labels=labels, mistakes=mistakes)


HINT = ("notes §4.4, Eq. (65)-(66); Kynkäänniemi et al. 2019: r_i is the distance from x_i to "
        "its k-th nearest neighbour among the OTHER real points; precision counts fake points in "
        "some real ball, recall real points in some fake ball")
CHECKS = "minigen.metrics.fidelity"
EXERCISES = [Exercise(
    name="precision_recall", aliases=("pr", "improved_precision_recall"), contract=CONTRACT,
    properties=[
        Property("contract", "returns (precision, recall), two fractions, and leaves its "
                 "inputs as they were", contract, "return a tuple of two floats; work on copies"),
        Property("precision", "precision is the fraction of fake points in a real k-NN ball "
                 "(Eq. 65), on hand-worked and random clouds", precision, HINT, ("contract",)),
        Property("recall", "recall is the fraction of real points in a fake k-NN ball "
                 "(Eq. 66), on hand-worked and random clouds", recall, HINT, ("contract",)),
        Property("ties", "a point exactly on a ball's sphere is inside (<=), a duplicate is a "
                 "neighbour at distance 0", ties, "the ball is closed: |y - x_i| <= r_i",
                 ("precision", "recall")),
    ])]
