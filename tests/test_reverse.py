"""Reverse diffusion (Th. 9, Eq. 135) with exact scores: closed-form Gaussian flow, mixture regeneration."""
import math

import numpy as np
import pytest

from minigen import backend
from minigen.distributions import GaussianMixture
from minigen.diffusion.reverse import reverse_sde, time_grid
from minigen.metrics import mode_occupancy
from oracles import sw_ratio

MEANS = np.array([[2.0, 0.0], [-2.0, 0.5], [0.0, 2.5], [0.5, -2.5]])
WEIGHTS = np.array([0.1, 0.2, 0.3, 0.4])
MIX = GaussianMixture(MEANS, np.array([0.3, 0.2, 0.35, 0.25]), WEIGHTS)


def exact_score(x, t):
    return MIX.ou_marginal(t).score(x)        # Eq. (130): p_t is again a mixture


def test_probability_flow_ode_matches_the_closed_form_gaussian_flow():
    # p_0 = N(0, s^2 Id): p_t = N(0, v_t Id), v_t = e^{-2t} s^2 + 1 - e^{-2t}, score -x / v_t; the ODE
    # dy = (y + score) ds is linear and transports x_T to x_T sqrt(v_t / v_T) exactly.
    s2, T, t_min = 0.25, 3.0, 0.01
    v = lambda t: math.exp(-2 * t) * s2 + 1 - math.exp(-2 * t)
    x_T = backend.to_numpy(backend.rng(0).standard_normal((50, 2)))
    exact = x_T * math.sqrt(v(t_min) / v(T))
    errors = {}
    for method in ("euler", "heun"):
        for n in (100, 200):
            out = reverse_sde(lambda x, t: -x / v(t), x_T, np.linspace(T, t_min, n + 1), None, alpha=0.0, method=method)
            errors[method, n] = np.abs(backend.to_numpy(out) - exact).max()
    assert errors["heun", 200] < 1e-3 * np.abs(exact).max()
    # global order: Euler O(h) (error halves), Heun O(h^2) (error / 4) when the steps are halved
    assert 1.8 < errors["euler", 100] / errors["euler", 200] < 2.2
    assert 3.6 < errors["heun", 100] / errors["heun", 200] < 4.4


def test_reverse_sde_alpha_one_keeps_the_gaussian_variance():
    # alpha = 1 from N(0, v_T): the law at t_min is N(0, v_{t_min}); variance within 5 SE (var sqrt(2 / n))
    # plus the O(h) Euler bias (200 steps, bias < 2%).
    s2, T, t_min, n = 0.09, 4.0, 0.01, 50_000
    v = lambda t: math.exp(-2 * t) * s2 + 1 - math.exp(-2 * t)
    x_T = math.sqrt(v(T)) * backend.rng(1).standard_normal((n, 1))
    out = backend.to_numpy(reverse_sde(lambda x, t: -x / v(t), x_T, time_grid(200, T, t_min), backend.rng(2)))
    var = v(t_min)
    assert abs(out.var() - var) < 5 * var * math.sqrt(2 / n) + 0.02 * var
    assert abs(out.mean()) < 5 * math.sqrt(var / n)


@pytest.mark.parametrize("alpha,method", [(1.0, "euler"), (0.0, "heun"), (0.0, "euler"), (0.5, "heun")])
def test_reverse_diffusion_regenerates_the_mixture(alpha, method):
    n = 12_000                              # 3 chunks of 4000 for sw_ratio
    x_T = backend.rng(10).standard_normal((n, 2))
    out = reverse_sde(exact_score, x_T, time_grid(100, T=5.0, t_min=1e-3), backend.rng(11), alpha=alpha, method=method)
    assert sw_ratio(out, MIX) < 2.0
    # mode weights: components are > 6 std apart, so nearest-mode frequencies are multinomial; SE = sqrt(w (1 - w) / n)
    freq = backend.to_numpy(mode_occupancy(out, MEANS, WEIGHTS)[0])
    assert np.all(np.abs(freq - WEIGHTS) < 5 * np.sqrt(WEIGHTS * (1 - WEIGHTS) / n)), freq


def test_probability_flow_is_deterministic_and_the_sde_is_not():
    x_T = backend.rng(0).standard_normal((200, 2))
    times = time_grid(30)
    for method in ("euler", "heun"):
        a = reverse_sde(exact_score, x_T, times, backend.rng(1), alpha=0.0, method=method)
        b = reverse_sde(exact_score, x_T, times, backend.rng(2), alpha=0.0, method=method)
        np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))
    a = reverse_sde(exact_score, x_T, times, backend.rng(1), alpha=1.0)
    b = reverse_sde(exact_score, x_T, times, backend.rng(2), alpha=1.0)
    assert np.abs(backend.to_numpy(a) - backend.to_numpy(b)).max() > 0.1


def test_path_shape_and_time_grid():
    times = time_grid(25, T=4.0, t_min=0.01)
    assert len(times) == 26 and abs(times[0] - 4.0) < 1e-12 and abs(times[-1] - 0.01) < 1e-12
    sig = [math.sqrt(math.expm1(2 * t)) for t in times]          # geometric in sigma_t: constant ratio
    np.testing.assert_allclose(np.diff(np.log(sig)), np.full(25, np.log(sig[1] / sig[0])), rtol=1e-9)
    path = reverse_sde(exact_score, np.zeros((7, 2)), times, backend.rng(0), return_path=True)
    assert path.shape == (26, 7, 2)


def test_bad_inputs_raise():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="decreasing"):
        reverse_sde(exact_score, x, [0.1, 1.0], backend.rng(0))
    with pytest.raises(ValueError, match="times"):
        reverse_sde(exact_score, x, [1.0, -0.5], backend.rng(0))
    with pytest.raises(ValueError, match="t_min"):
        reverse_sde(exact_score, x, [1.0, 0.0], backend.rng(0))
    with pytest.raises(ValueError, match="alpha"):
        reverse_sde(exact_score, x, [1.0, 0.5], backend.rng(0), alpha=-0.5)
    with pytest.raises(ValueError, match="shape"):
        reverse_sde(lambda y, t: y[:, :1], x, [1.0, 0.5], backend.rng(0))
    with pytest.raises(ValueError, match="method"):
        reverse_sde(exact_score, x, [1.0, 0.5], backend.rng(0), method="rk4")
    with pytest.raises(ValueError, match="x_T"):
        reverse_sde(exact_score, np.zeros(5), [1.0, 0.5], backend.rng(0))
