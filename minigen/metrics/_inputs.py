"""The input checks and the one distance kernel the metrics modules share (private)."""
from minigen.backend import asarray, check_finite, xp


def _array(a, name, ndims, shape_doc, min_len=0):
    """``a`` as a finite backend array with ndim in ``ndims`` and at least min_len rows."""
    a = asarray(a, name)
    if a.ndim not in ndims or (a.ndim and a.shape[0] < min_len):
        raise ValueError(f"{name}: expected shape {shape_doc}, got shape {tuple(a.shape)}")
    return check_finite(a, name)


def _pair(x, y, names=("x", "y"), min_n=2, same_n=False):
    """Two point sets (m, d), (n, d) with m, n >= min_n, the same d (and m = n if same_n)."""
    x, y = (_array(a, s, (2,), f"(n >= {min_n}, d)", min_n) for a, s in zip((x, y), names))
    if x.shape[1] != y.shape[1] or (same_n and x.shape != y.shape):
        raise ValueError(f"{names[0]} {tuple(x.shape)} and {names[1]} {tuple(y.shape)}: "
                         f"need the same {'shape' if same_n else 'd'}")
    return x, y


def _sq_dist(a, b):
    """|a_i - b_k|^2 with one matmul, (n, K): no (n, K, d) temporary."""
    d2 = xp.sum(a * a, axis=1)[:, None] - 2.0 * (a @ b.T) + xp.sum(b * b, axis=1)[None, :]
    return xp.maximum(d2, 0.0)
