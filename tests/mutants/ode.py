"""RK4 and Hutchinson's divergence estimator written from the notes in plain NumPy, with
switchable mistakes, and correct variants written otherwise."""
import functools

import numpy as np


def rk4(velocity, x0, times, mistake=None):
    x = x0
    path = [x0.copy()]
    for k in range(len(times) - 1):
        t = times[k]
        h = times[1] - times[0] if mistake == "first_h" else times[k + 1] - t
        th = t if mistake == "stage_time" else t + h / 2
        k1 = velocity(x, t)
        if mistake == "euler":
            step = h * k1
        elif mistake == "heun":
            step = h / 2 * (k1 + velocity(x + h * k1, t + h))
        else:
            k2 = velocity(x + h / 2 * k1, th)
            k3 = velocity(x + h / 2 * (k1 if mistake == "k3_from_k1" else k2), th)
            k4 = velocity(x + h * k3, t if mistake == "stage_time" else t + h)
            if mistake == "equal_weights":
                step = h * (k1 + k2 + k3 + k4) / 4
            else:
                step = h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        if mistake == "in_place":
            x += step
        else:
            x = x + step
        path.append(x.copy() if mistake == "in_place" else x)
    if mistake == "no_start":
        path[0] = path[1]
    return np.stack(path)


def rk4_tableau(velocity, x0, times):
    """Correct, written otherwise: the Butcher tableau as arrays, the path preallocated."""
    a = np.array([[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]])
    b, c = np.array([1, 2, 2, 1]) / 6, np.array([0, 0.5, 0.5, 1])
    times = np.asarray(times, dtype=float)
    path = np.empty((len(times),) + x0.shape)
    path[0] = x0
    for k, h in enumerate(np.diff(times)):
        ks = np.zeros((4,) + x0.shape)
        for i in range(4):
            ks[i] = velocity(path[k] + h * np.tensordot(a[i], ks, axes=1), times[k] + c[i] * h)
        path[k + 1] = path[k] + h * np.tensordot(b, ks, axes=1)
    return path


def hutchinson_divergence(jvp, x, n_probes, rng, mistake=None):
    n, d = x.shape
    total = np.zeros(n)
    shared = rng.choice([-1.0, 1.0], size=(1, d)) if mistake == "shared" else None
    for _ in range(n_probes):
        if mistake == "gaussian":
            z = rng.standard_normal((n, d))
        elif mistake == "uniform":
            z = rng.random((n, d))
        elif mistake == "unit":
            z = rng.standard_normal((n, d))
            z = z / np.linalg.norm(z, axis=1, keepdims=True)
        elif mistake == "shared":
            z = np.repeat(shared, n, axis=0)
        elif mistake == "no_rng":
            z = np.sign(np.random.default_rng(0).standard_normal((n, d)))
        else:
            z = rng.choice([-1.0, 1.0], size=(n, d))
        total = total + np.sum(z * jvp(z), axis=1)               # z^T J z, point by point
    return total if mistake == "sum" else total / n_probes


def hutchinson_stacked(jvp, x, n_probes, rng):
    """Correct, written otherwise: every probe drawn at once as 2 B - 1, B ~ Bernoulli(1/2)."""
    z = 2.0 * rng.integers(0, 2, size=(n_probes,) + x.shape) - 1.0
    return np.mean([np.einsum("nd,nd->n", zp, jvp(zp)) for zp in z], axis=0)


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


RK4_MUTANTS = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "equal_weights": ({"steps", "order"}, "equal weights"),
    "stage_time": ({"steps", "order"}, "middle stages evaluated at time t"),
    "k3_from_k1": ({"steps", "order"}, "k3 from k1"),
    "first_h": ({"steps"}, "first interval used for every interval"),
    "heun": ({"steps", "order"}, "Heun's scheme"),
    "euler": ({"steps", "order"}, "Euler's scheme"),
    "in_place": ({"contract"}, "x0 modified in place"),
    "no_start": ({"contract"}, "does not start with x0"),
}
HUTCHINSON_MUTANTS = {
    "gaussian": ({"variance"}, "Gaussian probes"),
    "uniform": ({"mean", "variance"}, "uniform in [0, 1)"),
    "unit": ({"mean", "variance"}, "unit length"),
    "sum": ({"mean", "variance"}, "summed, not averaged"),
    "shared": ({"mean", "variance"}, ""),
    "no_rng": ({"contract"}, "no random numbers drawn"),
}
