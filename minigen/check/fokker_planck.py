"""Check a student's 1D Fokker-Planck solver (notes §5.4, Th. 6, Eq. (105)-(108)).

    dp/dt = -d/dx (V p) + (sigma^2 / 2) d^2p/dx^2,   zero flux at the walls       (Eq. 106)
Oracles, closed forms: the mass h sum p_t is constant and p_t >= 0; for V = -kappa x (Ornstein-
Uhlenbeck) a Gaussian start stays Gaussian with mean m0 e^{-kappa t} and variance
s0^2 e^{-2 kappa t} + sigma^2 / (2 kappa) (1 - e^{-2 kappa t}); for V = -U' the density tends to
exp(-2 U / sigma^2) / Z (Eq. 116-118). The tolerances (1e-2) ask for a second-order flux:
first-order upwinding adds a diffusion |V| h / 2 (~10% here). Fokker 1914; Planck 1917.
"""
import math

import numpy as np

from minigen import backend
from minigen.check.exercise import Contract, Exercise, Measurement, Property

OU_GRID = np.linspace(-5.0, 5.0, 201)
OU_TIMES = [0.0, 0.2, 0.5, 1.0]
OU_CASES = ((1.0, 0.6), (2.0, 1.5))         # (kappa, sigma): sigma^2 / 2, sigma^2, sigma differ
M0, S0 = 1.0, 0.3
WELL_GRID = np.linspace(-2.5, 2.5, 101)
WELL_SIGMA, WELL_T = 1.2, 20.0
MOMENT_TOL, L1_TOL = 1e-2, 1e-2


def _normal(x, m, v):
    return np.exp(-(x - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)


def _solve(student, ctx, drift, sigma, p0, grid, times):
    def v(x):
        return backend.asarray(drift(backend.to_numpy(x)))
    out = ctx.call(student, v, sigma, backend.asarray(p0), backend.asarray(grid), list(times))
    return ctx.array(out, (len(times), len(grid)), "the densities")


def _ou_runs(student, ctx):
    runs = []
    for kappa, sigma in OU_CASES:
        P = _solve(student, ctx, lambda x, k=kappa: -k * x, sigma, _normal(OU_GRID, M0, S0 ** 2),
                   OU_GRID, OU_TIMES)
        runs.append((kappa, sigma, P))
    return runs


def contract(student, ctx):
    """Shape (len(times), k), finite; row 0 is p0."""
    P = _ou_runs(student, ctx)[0][2]
    p0 = _normal(OU_GRID, M0, S0 ** 2)
    return Measurement(P[0] - p0, np.zeros(len(p0)), tol=1e-9,
                       labels=[f"p at t = 0, cell {i}" for i in range(len(p0))])


def mass(student, ctx):
    h = OU_GRID[1] - OU_GRID[0]
    est, labels = [], []
    for kappa, sigma, P in _ou_runs(student, ctx):
        est += list(P.sum(axis=1) * h - P[0].sum() * h)
        labels += [f"kappa = {kappa:g}, sigma = {sigma:g}, t = {t:g}" for t in OU_TIMES]
    return Measurement(est, np.zeros(len(est)), tol=1e-6, labels=labels)


def positivity(student, ctx):
    est = [min(P.min(), 0.0) for _, _, P in _ou_runs(student, ctx)]
    return Measurement(est, [0.0] * len(est), tol=1e-9,
                       labels=[f"min p, kappa = {k:g}, sigma = {s:g}" for k, s in OU_CASES])


def _ou_law(t, kappa, sigma2):
    """(mean, variance) at t of dx = -kappa x dt + sqrt(sigma2) dW from N(M0, S0^2)."""
    decay = math.exp(-kappa * t)
    return M0 * decay, S0 ** 2 * decay ** 2 + sigma2 / (2 * kappa) * (1 - decay ** 2)


def ou_moments(student, ctx):
    """Mean and variance / the closed-form variance at each time (tol 1e-2)."""
    h = OU_GRID[1] - OU_GRID[0]
    est, exp, labels = [], [], []
    wrong = {"sigma^2 for sigma^2 / 2 in the diffusion: a variance growing twice too fast":
             lambda k, s: (k, 2 * s * s), "sigma for sigma^2": lambda k, s: (k, s)}
    pred = {name: [] for name in wrong}
    for kappa, sigma, P in _ou_runs(student, ctx):
        for t, p in zip(OU_TIMES[1:], P[1:]):
            m = (p * OU_GRID).sum() * h / (p.sum() * h)
            var = (p * (OU_GRID - m) ** 2).sum() * h / (p.sum() * h)
            mean_x, var_x = _ou_law(t, kappa, sigma ** 2)
            est += [m, var / var_x]
            exp += [mean_x, 1.0]
            labels += [f"mean, kappa = {kappa:g}, sigma = {sigma:g}, t = {t:g}",
                       f"variance / exact, kappa = {kappa:g}, sigma = {sigma:g}, t = {t:g}"]
            for name, f in wrong.items():
                mw, vw = _ou_law(t, *f(kappa, sigma))
                pred[name] += [mw, vw / var_x]
    return Measurement(est, exp, tol=MOMENT_TOL, labels=labels, mistakes=pred)


def _well_u(x):
    return (x ** 2 - 1) ** 2 + 0.3 * x


def stationary(student, ctx):
    """L1 distance at t = 20 to exp(-2 U / sigma^2) / Z for the drift -U' (tol 1e-2)."""
    h = WELL_GRID[1] - WELL_GRID[0]
    p0 = _normal(WELL_GRID, 1.0, 0.04)
    P = _solve(student, ctx, lambda x: -(4 * x * (x ** 2 - 1) + 0.3), WELL_SIGMA, p0, WELL_GRID,
               [0.0, WELL_T])

    def law(power):
        q = np.exp(-power * _well_u(WELL_GRID) / WELL_SIGMA ** 2)
        return q / (q.sum() * h)
    pi = law(2.0)
    l1 = np.abs(P[-1] / (P[-1].sum() * h) - pi).sum() * h
    return Measurement([l1], [0.0], tol=L1_TOL, labels=["L1(p_20, exp(-2U / sigma^2) / Z)"],
                       mistakes={"sigma^2 for sigma^2 / 2: the law exp(-U / sigma^2)":
                                 [np.abs(law(1.0) - pi).sum() * h]})


HINT = ("notes Th. 6, Eq. (106)-(108): dp/dt + dJ/dx = 0 with J = V p - (sigma^2 / 2) dp/dx; a "
        "finite-volume update p_i -= dt (J_{i+1/2} - J_{i-1/2}) / h with J = 0 at the walls keeps "
        "the mass")
CHECKS = "minigen.transport.fokker_planck"
EXERCISES = [Exercise(
    name="fokker_planck_1d", aliases=("fokker_planck",), contract=Contract(
        function="fokker_planck_1d", params=("drift", "sigma", "p0", "grid", "times"),
        title="Exercise: the Fokker-Planck equation in 1D, notes §5.4 Th. 6 Eq. (106)",
        doc="""\
The densities p_t of dx = V(x) dt + sigma dW on a grid, from p0 at times[0] (Eq. 106).

drift: function x (k,) -> V(x) (k,); sigma: float > 0; p0: (k,) density values at the cell
centres grid (k,), uniformly spaced by h; times: increasing list of floats.
No flux through the walls at grid[0] - h/2 and grid[-1] + h/2. Pick your own time steps;
use a second-order flux (central or Scharfetter-Gummel): first-order upwinding is too diffusive.
Returns (len(times), k): the densities at each time, row 0 being p0."""),
    properties=[
        Property("contract", "returns (len(times), k), row 0 = p0", contract, HINT),
        Property("mass", "h sum_i p_t,i is constant (to 1e-6)", mass, HINT, ("contract",)),
        Property("positivity", "p_t >= 0", positivity, HINT, ("contract",)),
        Property("ou_moments", "Ornstein-Uhlenbeck: the closed-form mean and variance",
                 ou_moments, HINT, ("mass",)),
        Property("stationary", "V = -U': p_t -> exp(-2 U / sigma^2) / Z (Eq. 116-118)",
                 stationary, HINT, ("mass",))])]
