"""Improved precision and recall (Kynkäänniemi et al. 2019) written as a student would, in plain
NumPy, with switchable mistakes; plus correct variants written otherwise.

MUTANTS maps a mistake to (the properties that must fail, a substring of the named mistake that
a failing property must report, or "" when none is named)."""
import functools

import numpy as np


def variant(fn=None, **flags):
    fn = precision_recall if fn is None else fn
    f = functools.partial(fn, **flags)
    return functools.update_wrapper(f, fn)


def _distances(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))      # (n, m)


def precision_recall(real, fake, k=5, mistake=None):
    real, fake = np.asarray(real), np.asarray(fake)
    if mistake == "in_place":
        real.sort(axis=0)                            # "sorting helps": the caller's array too

    def radius(x):
        d = _distances(x, x)
        if mistake != "own":
            np.fill_diagonal(d, np.inf)              # a point is not its own neighbour
        return np.sort(d, axis=1)[:, k if mistake == "k_plus_1" else k - 1]

    def fraction_inside(points, centres, r):
        d = _distances(points, centres)
        inside = d < r if mistake == "strict" else d <= r
        return float(inside.any(axis=1).mean())

    precision = fraction_inside(fake, real, radius(real))
    recall = fraction_inside(real, fake, radius(fake))
    return (recall, precision) if mistake == "swapped" else (precision, recall)


def with_self_at_index_k(real, fake, k=5):
    """Correct, written otherwise: sorted rows that include the point itself (distance 0, always
    first), so the k-th other neighbour sits at index k; squared distances by one matmul."""
    def sq(a, b):
        return np.maximum((a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :], 0.0)

    def covered(points, centres):
        r2 = np.sort(sq(centres, centres), axis=1)[:, k]
        return float((sq(points, centres) <= r2[None, :]).any(axis=1).mean())
    real, fake = np.asarray(real), np.asarray(fake)
    return covered(fake, real), covered(real, fake)


def point_by_point(real, fake, k=5):
    """Correct but unvectorized: a loop over points, the radius by sorting a list."""
    def radii(x):
        return [sorted(np.linalg.norm(x - x[i], axis=1).tolist()[:i]
                       + np.linalg.norm(x - x[i], axis=1).tolist()[i + 1:])[k - 1]
                for i in range(len(x))]

    def frac(points, centres, r):
        return sum(any(np.linalg.norm(p - c) <= rc for c, rc in zip(centres, r))
                   for p in points) / len(points)
    real, fake = np.asarray(real), np.asarray(fake)
    return frac(fake, real, radii(real)), frac(real, fake, radii(fake))


CORRECT = [precision_recall, with_self_at_index_k, point_by_point]

MUTANTS = {   # mistake -> (the properties that must fail, the named mistake they report)
    "own": ({"precision", "recall"}, "its own neighbour"),
    "k_plus_1": ({"precision", "recall"}, "(k+1)-th nearest neighbour"),
    "swapped": ({"precision", "recall"}, "precision and recall swapped"),
    "strict": ({"ties"}, "strict <"),
    "in_place": ({"contract"}, "modified in place"),
}
