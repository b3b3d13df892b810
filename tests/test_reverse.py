"""Reverse diffusion (Th. 9, Eq. 135) with exact scores: the closed-form Gaussian flow, the exact
law of the discrete schemes, mixture regeneration; non-finite states and bad inputs raise."""
import functools
import math

import numpy as np
import pytest

from minigen import backend
from minigen.check.reverse import scheme_law, variance
from minigen.distributions import GaussianMixture
from minigen.diffusion.reverse import METHODS, reverse_sde, time_grid
from minigen.metrics import mode_occupancy
from oracles import sw_ratio

MEANS = np.array([[2.0, 0.0], [-2.0, 0.5], [0.0, 2.5], [0.5, -2.5]])
WEIGHTS = np.array([0.1, 0.2, 0.3, 0.4])
MIX = GaussianMixture(MEANS, np.array([0.3, 0.2, 0.35, 0.25]), WEIGHTS)


def exact_score(x, t):
    return MIX.ou_marginal(t).score(x)        # Eq. (130): p_t is again a mixture


def test_probability_flow_ode_matches_the_closed_form_gaussian_flow():
    # p_0 = N(0, s^2 Id): p_t = N(0, v_t Id), v_t = e^{-2t} s^2 + 1 - e^{-2t} (check.reverse's
    # variance), score -x / v_t; the ODE dy = (y + score) ds is linear and transports x_T to
    # x_T sqrt(v_t / v_T) exactly.
    s2, T, t_min = 0.25, 3.0, 0.01
    v = functools.partial(variance, s2=s2)
    x_T = backend.to_numpy(backend.rng(0).standard_normal((50, 2)))
    exact = x_T * math.sqrt(v(t_min) / v(T))
    errors = {}
    for method in ("euler", "heun"):
        for n in (100, 200):
            out = reverse_sde(lambda x, t: -x / v(t), x_T, np.linspace(T, t_min, n + 1), None,
                              alpha=0.0, method=method)
            errors[method, n] = np.abs(backend.to_numpy(out) - exact).max()
    assert errors["heun", 200] < 1e-3 * np.abs(exact).max()
    # global order: Euler O(h) (error halves), Heun O(h^2) (error / 4) when the steps are halved
    assert 1.8 < errors["euler", 100] / errors["euler", 200] < 2.2
    assert 3.6 < errors["heun", 100] / errors["heun", 200] < 4.4


def _scheme_variance(s2, times, alpha, method):
    """Exact variance at times[-1] of the discrete scheme (not the code) started from N(0, v(T)),
    the data N(0, s2): with the linear drift c_t y, c_t = 1 - (1 + alpha) / v(t), a step is
    y <- A y + B noise, noise ~ N(0, 2 alpha h), so V <- A^2 V + B^2 2 alpha h. Euler (A = 1 + c h,
    B = 1) is check.reverse's scheme_law; Heun, which the check does not cover, is written here:
    A = 1 + h (c + c' + c c' h) / 2, B = 1 + h c' / 2 (c' at the next time)."""
    if method == "euler":
        return scheme_law(times, alpha, s2=s2)[1]
    V = variance(times[0], s2)
    for t, t_next in zip(times[:-1], times[1:]):
        h, c, c2 = (t - t_next, 1 - (1 + alpha) / variance(t, s2),
                    1 - (1 + alpha) / variance(t_next, s2))
        A, B = 1 + h * (c + c2 + c * c2 * h) / 2, 1 + h * c2 / 2
        V = A * A * V + B * B * 2 * alpha * h
    return V


@pytest.mark.parametrize("alpha,method", [(1.0, "euler"), (0.5, "heun"), (2.0, "euler")])
def test_reverse_sde_keeps_the_gaussian_variance(alpha, method):
    # p_0 = N(0, s^2): p_t = N(0, v_t), v_t = e^{-2t} s^2 + 1 - e^{-2t}. The sample variance at
    # t_min is compared with the scheme's exact variance (its first-order bias included, so no
    # bias term): 5 SE, SE = V sqrt(2 / (n - 1)) = 0.63% of V. That variance is compared with the
    # continuous v(t_min): the bias (2.8% for Euler at alpha = 1, 200 steps) halves when the
    # steps are halved.
    s2, T, t_min, n = 0.09, 4.0, 0.01, 50_000
    v = functools.partial(variance, s2=s2)
    x_T = math.sqrt(v(T)) * backend.rng(1).standard_normal((n, 1))
    times = time_grid(200, T=T, t_min=t_min)
    out = backend.to_numpy(reverse_sde(lambda x, t: -x / v(t), x_T, times, backend.rng(2),
                                       alpha=alpha, method=method))
    V = _scheme_variance(s2, times, alpha, method)
    assert abs(out.var(ddof=1) - V) < 5 * V * math.sqrt(2 / (n - 1)), (out.var(), V)
    assert abs(out.mean()) < 5 * math.sqrt(V / n)
    gaps = [_scheme_variance(s2, time_grid(k, T=T, t_min=t_min), alpha, method) / v(t_min) - 1
            for k in (200, 400)]
    assert abs(gaps[0]) < 0.06 and abs(gaps[1]) < 0.6 * abs(gaps[0]), gaps


def test_probability_flow_is_the_exact_linear_map_on_the_time_grid():
    # alpha = 0 with the score -x / v_t: the scheme multiplies x_T by prod_k A_k (see above)
    s2, T, t_min = 0.25, 5.0, 1e-3
    v = functools.partial(variance, s2=s2)
    times = time_grid(37, T=T, t_min=t_min)
    x_T = backend.to_numpy(backend.rng(3).standard_normal((20, 2)))
    for method in METHODS:
        gain = math.sqrt(_scheme_variance(s2, times, 0.0, method) / v(T))
        out = reverse_sde(lambda x, t: -x / v(t), x_T, times, None, alpha=0.0, method=method)
        np.testing.assert_allclose(backend.to_numpy(out), gain * x_T, rtol=1e-10)


@pytest.mark.parametrize("alpha,method", [(1.0, "euler"), (0.0, "heun"), (0.0, "euler"),
                                          (0.5, "heun")])
def test_reverse_diffusion_regenerates_the_mixture(alpha, method):
    n = 12_000                              # 3 chunks of 4000 for sw_ratio
    x_T = backend.rng(10).standard_normal((n, 2))
    out = reverse_sde(exact_score, x_T, time_grid(100, T=5.0, t_min=1e-3), backend.rng(11),
                      alpha=alpha, method=method)
    assert sw_ratio(out, MIX) < 2.0
    # mode weights: components are > 6 std apart, so nearest-mode frequencies are multinomial;
    # SE = sqrt(w (1 - w) / n)
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


@pytest.mark.parametrize("n_steps,T,t_min", [(25, 4.0, 0.01), (10, 1.0, 0.2), (3, 1000.0, 1e-4)])
def test_time_grid_is_geometric_in_sigma_t_from_T_to_t_min(n_steps, T, t_min):
    times = time_grid(n_steps, T=T, t_min=t_min)
    assert len(times) == n_steps + 1 and times[0] == T and times[-1] == t_min
    # log sigma_t = log sqrt(e^{2t} - 1) = t + log(1 - e^{-2t}) / 2: equal steps (constant ratio)
    log_sig = np.array([t + 0.5 * math.log(-math.expm1(-2 * t)) for t in times])
    np.testing.assert_allclose(np.diff(log_sig), (log_sig[-1] - log_sig[0]) / n_steps, rtol=1e-9)


def test_return_path_gives_every_time_and_ends_at_the_samples():
    times = time_grid(25, T=4.0, t_min=0.01)
    x_T = backend.rng(0).standard_normal((7, 2))
    path = reverse_sde(exact_score, x_T, times, backend.rng(1), return_path=True)
    assert path.shape == (26, 7, 2)
    end = reverse_sde(exact_score, x_T, times, backend.rng(1))
    np.testing.assert_array_equal(backend.to_numpy(path[0]), backend.to_numpy(x_T))
    np.testing.assert_array_equal(backend.to_numpy(path[-1]), backend.to_numpy(end))


def test_a_state_that_becomes_nonfinite_raises_with_the_step_and_the_points():
    x = np.ones((5, 2))
    x[:3] = 0.0
    big = lambda y, t: 1e308 * backend.xp.abs(y)                      # noqa: E731
    with np.errstate(all="ignore"):                                   # the overflow is the point
        # a score that is NaN (0 / 0) at the 3 points at 0, at the first step
        with pytest.raises(FloatingPointError, match=r"3 of 5 points.*step 0.*score returned NaN"):
            reverse_sde(lambda y, t: y / y, x, time_grid(5), None, alpha=0.0)
        # a finite drift that overflows the state at the 2 points at 1: the step is too large
        for method in METHODS:                   # Heun's corrector never sees a NaN predictor
            with pytest.raises(FloatingPointError, match=r"2 of 5 points.*step 0.*step h = 4"):
                reverse_sde(big, x, [5.0, 1.0], None, alpha=0.0, method=method)
        with pytest.raises(FloatingPointError, match=r"2 of 5 points.*step 1 .*score returned"):
            reverse_sde(lambda y, t: 1e200 * y ** 3, x, time_grid(5), backend.rng(0))


X = np.zeros((5, 2))
TIMES = [1.0, 0.5]
R = backend.rng
BAD_CALLS = [
    (lambda: reverse_sde(exact_score, X, [0.1, 1.0], R(0)), ValueError, "times.*decreasing"),
    (lambda: reverse_sde(exact_score, X, [1.0, 1.0, 0.5], R(0)), ValueError, "times.*decreasing"),
    (lambda: reverse_sde(exact_score, X, [1.0, -0.5], R(0)), ValueError, "times must be >= 0"),
    (lambda: reverse_sde(exact_score, X, [1.0, 0.0], R(0)), ValueError, "times must end at t_min"),
    (lambda: reverse_sde(exact_score, X, [1.0, math.nan], R(0)), ValueError, "times.*finite"),
    (lambda: reverse_sde(exact_score, X, [1.0], R(0)), ValueError, "times must be a 1-D"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), alpha=-0.5), ValueError, "alpha"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), alpha=math.nan), ValueError, "alpha"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), alpha=math.inf), ValueError, "alpha"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), alpha="1"), ValueError, "alpha"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), 0.5), TypeError, "positional"),
    (lambda: reverse_sde(lambda y, t: y[:, :1], X, TIMES, R(0)), ValueError, "score.*shape"),
    (lambda: reverse_sde(lambda y, t: [[0.0, 0.0]] * 5, X, TIMES, R(0)), ValueError,
     "score.*shape"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), method="rk4"), ValueError,
     r"method='rk4'.*\['euler', 'heun'\]"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), method=None), ValueError, "method"),
    (lambda: reverse_sde(exact_score, X, TIMES, R(0), return_path="no"), TypeError,
     "return_path"),
    (lambda: reverse_sde(exact_score, np.zeros(5), TIMES, R(0)), ValueError, "x_T"),
    (lambda: reverse_sde(exact_score, np.full((2, 2), np.nan), TIMES, R(0)), ValueError, "x_T"),
    (lambda: reverse_sde(exact_score, X, TIMES, 0), TypeError, r"rng.*minigen.backend.rng\(0\)"),
    (lambda: reverse_sde(exact_score, X, TIMES, None), TypeError, "rng"),
    (lambda: reverse_sde(MIX, X, TIMES, R(0)), TypeError, "score.*ou_marginal"),
    (lambda: reverse_sde(None, X, TIMES, R(0)), TypeError, "score must be a function"),
    (lambda: time_grid(2.5), ValueError, "n_steps must be an integer"),
    (lambda: time_grid(0), ValueError, "n_steps"),
    (lambda: time_grid("10"), ValueError, "n_steps"),
    (lambda: time_grid(10, T=math.inf), ValueError, "T must"),
    (lambda: time_grid(10, T=math.nan), ValueError, "T must"),
    (lambda: time_grid(10, T=-1.0), ValueError, "T must"),
    (lambda: time_grid(10, t_min=0.0), ValueError, "t_min"),
    (lambda: time_grid(10, T=1.0, t_min=2.0), ValueError, "t_min < T"),
    (lambda: time_grid(10, 5.0), TypeError, "positional"),
]


@pytest.mark.parametrize("call,error,message", BAD_CALLS)
def test_bad_inputs_raise_errors_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()
