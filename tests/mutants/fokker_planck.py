"""The Fokker-Planck exercise written as a student would, in plain NumPy, with switchable
mistakes: an explicit finite-volume scheme for Eq. (106); plus a correct implicit variant."""
import functools

import numpy as np


def variant(fn, **flags):
    return functools.update_wrapper(functools.partial(fn, **flags), fn)


def fokker_planck_1d(drift, sigma, p0, grid, times, mistake=None):
    """Explicit Euler, central fluxes J = V (p_i + p_{i+1}) / 2 - D (p_{i+1} - p_i) / h."""
    x, p = np.asarray(grid, float), np.asarray(p0, float).copy()
    h = x[1] - x[0]
    D = {"sigma2": sigma ** 2, "sigma": sigma / 2}.get(mistake, sigma ** 2 / 2)
    faces = 0.5 * (x[1:] + x[:-1])
    V = np.asarray(drift(faces), float) * (-1 if mistake == "drift_sign" else 1)
    Vc = np.asarray(drift(x), float)
    dt = 0.2 * min(h * h / D, h / (np.abs(V).max() + 1e-12))
    out, t = [p.copy()], times[0]
    for t_next in times[1:]:
        n = int(np.ceil((t_next - t) / dt))
        tau = (t_next - t) / n
        for _ in range(n):
            if mistake == "non_conservative":       # V dp/dx + D p'': the p dV/dx term lost
                dp = np.gradient(p, h)
                lap = np.concatenate([[p[1] - p[0]], p[2:] - 2 * p[1:-1] + p[:-2],
                                      [p[-2] - p[-1]]]) / h ** 2
                p = p + tau * (-Vc * dp + D * lap)
                continue
            J = V * 0.5 * (p[1:] + p[:-1]) - D * (p[1:] - p[:-1]) / h
            J = np.concatenate([[0.0], J, [0.0]])
            p = p - tau * (J[1:] - J[:-1]) / h
        out.append(p.copy())
        t = t_next
    return np.array(out)


def fokker_planck_implicit(drift, sigma, p0, grid, times):
    """Correct, written otherwise: implicit Euler (a dense solve), the matrix built face by face,
    the advective flux V p taken at each face from the mean of the two cells' V p."""
    x = np.asarray(grid, float)
    h, k, D = x[1] - x[0], len(x), sigma ** 2 / 2
    Vc = np.asarray(drift(x), float)
    A = np.zeros((k, k))
    for i in range(k - 1):          # J = (V_i p_i + V_{i+1} p_{i+1}) / 2 - D (p_{i+1} - p_i) / h
        row = np.zeros(k)
        row[i], row[i + 1] = Vc[i] / 2 + D / h, Vc[i + 1] / 2 - D / h
        A[i] -= row / h
        A[i + 1] += row / h
    p, out = np.asarray(p0, float), [np.asarray(p0, float)]
    for t0, t1 in zip(times[:-1], times[1:]):
        n = int(np.ceil((t1 - t0) / 2e-3))
        M = np.linalg.inv(np.eye(k) - (t1 - t0) / n * A)
        for _ in range(n):
            p = M @ p
        out.append(p)
    return np.array(out)


FOKKER_PLANCK = {   # mistake -> (the properties that must fail, the named mistake of the first)
    "sigma2": ({"ou_moments", "stationary"}, "sigma^2 for sigma^2 / 2"),
    "sigma": ({"ou_moments", "stationary"}, "sigma for sigma^2"),
    "drift_sign": ({"ou_moments", "stationary"}, ""),
    "non_conservative": ({"mass"}, ""),
}
MUTANTS = {"fokker_planck_1d": (fokker_planck_1d, FOKKER_PLANCK)}
CORRECT = {"fokker_planck_1d": [fokker_planck_1d, fokker_planck_implicit]}
