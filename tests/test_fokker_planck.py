"""The 1D Fokker-Planck scheme (Eq. 106) and its particles against closed forms.

Oracles: the Ornstein-Uhlenbeck transient (a Gaussian with mean x0 e^{-kt} and variance
s0^2 e^{-2kt} + sigma^2 / (2k) (1 - e^{-2kt})), the stationary law exp(-2 U / sigma^2) of a gradient
drift -U' (Eq. 116-118), mass and positivity, the Euler-Maruyama particles' moments (within 5 SE),
and the random walk's Var x_T = T sigma^2 (Eq. 110-111) with its exact fourth moment. The wrong
diffusion factor (sigma^2 for sigma^2 / 2, i.e. sigma -> sqrt(2) sigma) fails each of them.
"""
import math

import numpy as np
import pytest

from conftest import assert_on_backend, host
from minigen import backend
from minigen.transport.fokker_planck import (euler_maruyama_1d, fokker_planck_1d,
                                             fokker_planck_matrix, histogram_density, random_walk)

GRID = np.linspace(-5, 5, 401)
H = GRID[1] - GRID[0]


def normal(x, mean, var):
    return np.exp(-(x - mean) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)


def ou_law(t, kappa, sigma, m0, s0):
    return m0 * math.exp(-kappa * t), (s0 ** 2 * math.exp(-2 * kappa * t)
                                       + sigma ** 2 / (2 * kappa) * -math.expm1(-2 * kappa * t))


def moments(p):
    mean = (p * GRID).sum() * H
    return mean, (p * (GRID - mean) ** 2).sum() * H


@pytest.mark.parametrize("kappa,sigma", [(1.0, math.sqrt(2.0)), (2.0, 0.6), (0.5, 1.2)])
def test_ou_transient_is_the_closed_form_gaussian(kappa, sigma):
    m0, s0, times = 1.5, 0.3, [0.0, 0.1, 0.4, 1.0, 2.5]
    P = host(fokker_planck_1d(lambda x: -kappa * x, sigma, normal(GRID, m0, s0 ** 2), GRID,
                              times, dt=5e-4))
    wrong = host(fokker_planck_1d(lambda x: -kappa * x, math.sqrt(2) * sigma,
                                  normal(GRID, m0, s0 ** 2), GRID, times, dt=5e-4))
    for t, p, q in zip(times[1:], P[1:], wrong[1:]):
        mean, var = ou_law(t, kappa, sigma, m0, s0)
        m, v = moments(p)
        # implicit Euler: O(dt) = 5e-4 relative error; the grid: SG adds a diffusion
        # D (V h / D)^2 / 12, up to 1% of D here (the wrong factor changes var by >= 10%)
        assert abs(m - mean) < 2e-3 * abs(m0) and abs(v - var) < 1e-2 * var, (t, m, v, mean, var)
        assert np.abs(p - normal(GRID, mean, var)).sum() * H < 5e-3
        assert abs(moments(q)[1] - var) > 0.1 * var      # the wrong diffusion factor
        assert abs(p.sum() * H - 1) < 1e-12 and p.min() >= 0


def double_well_U(x, tilt=0.3):
    return (x ** 2 - 1) ** 2 + tilt * x


def double_well_drift(x, tilt=0.3):
    return -(4 * x * (x ** 2 - 1) + tilt)


@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.5])
def test_stationary_law_of_a_gradient_drift(sigma):
    # far in time the scheme's output is the kernel of A, whatever the start (here a bump on the
    # shallow well); exp(-2 U / sigma^2) up to the grid's O(h^2)
    grid = np.linspace(-2.5, 2.5, 301)
    h = grid[1] - grid[0]
    pi = np.exp(-2 * double_well_U(grid) / sigma ** 2)
    pi /= pi.sum() * h
    start = normal(grid, 1.0, 0.01)
    p = host(fokker_planck_1d(double_well_drift, sigma, start, grid, [0.0, 2000.0], dt=2.0))[-1]
    assert np.abs(p - pi).sum() * h < 1e-3
    wrong = np.exp(-double_well_U(grid) / sigma ** 2)      # exp(-U / sigma^2): factor 2 dropped
    wrong /= wrong.sum() * h
    assert np.abs(p - wrong).sum() * h > 0.05
    A = host(fokker_planck_matrix(double_well_drift, sigma, grid))
    assert np.abs(A.sum(axis=0)).max() < 1e-10 * np.abs(A).max()       # columns sum to 0: mass
    off = A - np.diag(np.diag(A))
    assert off.min() >= 0                                               # positivity


def test_mass_and_positivity_for_a_steep_drift_and_large_steps():
    # |V| h / D up to ~100: central differences would go negative; SG with implicit steps not
    p0 = np.where(np.abs(GRID) < 0.5, 1.0, 0.0)
    P = host(fokker_planck_1d(lambda x: -20 * x ** 3, 0.3, p0, GRID, [0, 0.05, 1, 10], dt=0.5))
    assert np.all(P >= 0)
    assert np.abs(P.sum(axis=1) / P[0].sum() - 1).max() < 1e-12


def test_particles_match_the_pde_and_the_ou_moments():
    kappa, sigma, m0 = 1.0, 0.8, 1.0
    n, t = 50_000, 0.7
    x = host(euler_maruyama_1d(lambda z: -kappa * z, sigma, m0 + np.zeros(n), [0.0, t],
                               backend.rng(0), dt=1e-3))[-1]
    mean, var = ou_law(t, kappa, sigma, m0, 0.0)
    # 5 SE: SE(mean) = sqrt(var / n), SE(var) = var sqrt(2 / n); the Euler bias O(dt) is 1e-3
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n) + 1e-3
    assert abs(x.var() - var) < 5 * var * math.sqrt(2 / n) + 2e-3
    wrong_var = ou_law(t, kappa, math.sqrt(2) * sigma, m0, 0.0)[1]
    assert abs(wrong_var - var) > 10 * 5 * var * math.sqrt(2 / n)
    edges = np.linspace(-1.5, 3.0, 31)
    hist = host(histogram_density(x, edges))
    exact = normal(0.5 * (edges[1:] + edges[:-1]), mean, var)
    width = edges[1] - edges[0]
    # per bin, count ~ Binomial(n, p_i w): SE of the density sqrt(p_i / (n w)); bin-centre bias
    # of the density is w^2 p'' / 24 < 1e-3
    se = np.sqrt(exact / (n * width))
    assert np.all(np.abs(hist - exact) < 5 * se + 3e-3)


def test_random_walk_variance_is_T_sigma_squared():
    n, T, sigma = 40_000, 2.0, 0.7
    for n_steps in (1, 4, 100):
        x = host(random_walk(n, T, sigma, n_steps, backend.rng(n_steps)))
        assert x.shape == (n_steps + 1, n)
        var, N, dx2 = T * sigma ** 2, n_steps, T * sigma ** 2 / n_steps
        m4 = (3 * N * N - 2 * N) * dx2 ** 2                     # E x_T^4 of N Rademacher jumps
        se = math.sqrt((m4 - var ** 2) / n) if N > 1 else 1e-12
        s2 = np.mean(x[-1] ** 2)                                # the mean is 0 exactly
        assert abs(s2 - var) < 5 * se + 1e-9, (n_steps, s2, var)
        # wrong scaling dx = sigma dt (not sigma sqrt(dt)) gives Var = T sigma^2 dt
        assert abs(var * (T / n_steps) - var) > 10 * (5 * se)
        if N == 100:    # the CLT: the excess kurtosis is -2 / N
            kurt = np.mean(x[-1] ** 4) / s2 ** 2
            assert abs(kurt - (3 - 2 / N)) < 0.1
        # Eq. (112) on the lattice: every increment is +-dx
        assert np.allclose(np.abs(np.diff(x, axis=0)), math.sqrt(dx2))


def test_bad_inputs():
    with pytest.raises(ValueError, match="uniform"):
        fokker_planck_1d(lambda x: x, 1.0, np.ones(3), [0.0, 1.0, 3.0], [0, 1])
    with pytest.raises(ValueError, match="p0"):
        fokker_planck_1d(lambda x: x, 1.0, -np.ones(5), np.arange(5.0), [0, 1])
    with pytest.raises(ValueError, match="times"):
        fokker_planck_1d(lambda x: x, 1.0, np.ones(5), np.arange(5.0), [1, 0])
    with pytest.raises(ValueError, match="sigma"):
        fokker_planck_1d(lambda x: x, 0.0, np.ones(5), np.arange(5.0), [0, 1])
    with pytest.raises(ValueError, match="drift"):
        fokker_planck_1d(lambda x: x[:2], 1.0, np.ones(5), np.arange(5.0), [0, 1])
    with pytest.raises(TypeError, match="rng"):
        random_walk(10, 1.0, 1.0, 5, 0)


def test_histogram_density_against_counting():
    x = np.random.default_rng(0).standard_normal(1000)
    edges = np.linspace(-2, 2, 9)
    hist = host(histogram_density(x, edges))
    counts = [np.sum((x >= lo) & (x < hi)) for lo, hi in zip(edges[:-1], edges[1:])]
    assert hist == pytest.approx(np.array(counts) / (1000 * 0.5), rel=1e-12)


def test_runs_on_each_backend(backend_name):
    grid = np.linspace(-3, 3, 61)
    P = fokker_planck_1d(lambda x: -x, 1.0, normal(grid, 0.5, 0.2), grid, [0, 0.5], dt=0.01)
    assert_on_backend(P, "P")
    x = euler_maruyama_1d(lambda x: -x, 1.0, np.zeros(100), [0, 0.1], backend.rng(0), dt=0.05)
    assert_on_backend(x, "x")
    assert_on_backend(random_walk(5, 1.0, 1.0, 3, backend.rng(0)), "walk")
    assert_on_backend(histogram_density(x[-1], grid), "hist")
