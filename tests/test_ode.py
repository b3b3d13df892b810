"""ODE integrators, divergence and Liouville's log-density.

Oracles: closed-form solutions (logistic and exp(sin t) components; x_t = expm(tA) x_0 for a
linear field) for the convergence orders, measured as slopes of log error vs log h; the exact
Gaussian law of a linear flow, N(0, expm(A) C expm(A)^T); the exact marginal velocity and density
of the path x_t = t x_1 + (1 - t) x_0 from N(0, I) to a Gaussian mixture (tests/oracles.py,
itself checked against the continuity equation by autograd); autograd's full Jacobian; the
closed-form variance of Hutchinson's estimator; Picard's iterates for V = a x as Taylor sums.
Wrong variants (a tableau with Heun's 1/2 dropped, RK4 with equal weights, the sign of the
divergence term, the Gaussian variance for Rademacher probes) must be rejected by the same tests.
"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from conftest import assert_close, host
from oracles import mixture_flow_log_prob, mixture_flow_velocity
from scipy.linalg import expm
from scipy.stats import multivariate_normal

from minigen import backend, ode

A = np.array([[0.3, 1.0, -0.4], [-0.6, -0.2, 0.5], [0.2, 0.1, 0.5]])
S = (A + A.T) / 2                                                     # the symmetric part of A


def linear(x, t):                                                     # V = A x, row by row
    return x @ backend.asarray(A.T)


def mixed(x, t):
    """Logistic x' = x (1 - x) in column 0, x' = cos(t) x in column 1: both in closed form."""
    xp = backend.xp
    return xp.concatenate([x[:, :1] * (1 - x[:, :1]), xp.cos(t) * x[:, 1:]], axis=1)


def mixed_exact(x0, t):
    e = np.exp(t)
    return np.stack([x0[:, 0] * e / (1 - x0[:, 0] + x0[:, 0] * e), x0[:, 1] * np.exp(np.sin(t))],
                    axis=1)


X0 = np.array([[0.2, 1.0], [0.7, -0.5], [0.05, 2.0]])
T = 2.0
NS = [20, 40, 80, 160]


def order(method, field=mixed, exact=mixed_exact, x0=X0, t0=0.0, t1=T):
    """The slope of log(max error at t1) against log h over the grids NS."""
    errors = [np.abs(host(ode.integrate(field, x0, np.linspace(t0, t1, n + 1), method)[-1])
                     - exact(x0, t1)).max() for n in NS]
    return np.polyfit(np.log(np.abs(t1 - t0) / np.array(NS)), np.log(errors), 1)[0], errors


HEUN_NO_HALF = ((0.0, 1.0), ((), (1.0,)), (1.0, 1.0))                # b = (1, 1)
RK4_EQUAL = ((0.0, 0.5, 0.5, 1.0), ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (0.25,) * 4)


@pytest.mark.parametrize("method", ["euler", "midpoint", "heun", "rk4"])
def test_convergence_order_on_closed_form_ode(method):
    slope, errors = order(method)
    assert abs(slope - ode.ORDERS[method]) < 0.2, (slope, errors)
    # the same order backwards in time, from t = T back to 0
    back, _ = order(method, exact=lambda x, t: mixed_exact(x, -T), x0=mixed_exact(X0, T),
                    t0=T, t1=0.0)
    assert abs(back - ode.ORDERS[method]) < 0.2, back
    # the tableau passed as data gives the same path as the name
    tableau = ode.TABLEAUX[method]
    assert_close(ode.integrate(mixed, X0, [0.0, 0.3, 1.0], tableau),
                 ode.integrate(mixed, X0, [0.0, 0.3, 1.0], method))


def test_wrong_tableaux_show_the_wrong_order():
    # Heun without its 1/2: x + h (k1 + k2) is not even consistent (order 0, no convergence)
    slope, errors = order(HEUN_NO_HALF)
    assert slope < 0.2 and min(errors) > 0.1, (slope, errors)
    # RK4 with weights 1/4 instead of 1/6, 1/3, 1/3, 1/6: b.c^2 = 3/8 != 1/3, order 2 only
    slope, errors = order(RK4_EQUAL)
    assert abs(slope - 2) < 0.2, (slope, errors)
    assert abs(order("rk4")[0] - slope) > 1.5


def test_integrate_returns_the_path_on_the_grid_and_runs_backwards():
    times = np.linspace(0.0, 1.0, 201)
    x0 = np.random.default_rng(0).standard_normal((5, 3))
    path = host(ode.integrate(linear, x0, times))
    assert path.shape == (201, 5, 3)
    np.testing.assert_array_equal(path[0], x0)
    for k in (50, 200):
        np.testing.assert_allclose(path[k], x0 @ expm(times[k] * A).T, atol=1e-10)
    back = host(ode.integrate(linear, path[-1], times[::-1]))[-1]      # decreasing times
    np.testing.assert_allclose(back, x0, atol=1e-10)


def test_autograd_through_integrate_gives_the_flow_jacobian(on_numpy):
    def end(v):
        return ode.integrate(linear, v[None, :], np.linspace(0.0, 1.0, 41))[-1, 0]
    J = autograd.jacobian(end)(np.array([0.3, -0.2, 1.0]))
    np.testing.assert_allclose(J, expm(A), atol=1e-7)


def nonlinear(x, t):
    xp = backend.xp
    a, b, c = x[:, :1], x[:, 1:2], x[:, 2:]
    return xp.concatenate([xp.sin(a * b) + t * c, a ** 2 - xp.tanh(c) * b,
                           xp.exp(-b ** 2) * c + a * t], axis=1)


def test_exact_divergence_is_the_trace_of_the_jacobian(backend_name):
    x = np.random.default_rng(3).standard_normal((6, 3))
    assert_close(ode.divergence(linear, x, 0.4), np.full(6, np.trace(A)))
    div = host(ode.divergence(nonlinear, x, 0.7))
    xs = host(x)
    if backend_name == "numpy":                                        # autograd's full Jacobian
        traces = [np.trace(autograd.jacobian(lambda v: nonlinear(v[None], 0.7)[0])(p)) for p in xs]
    else:                                                              # the closed form
        a, b, c = xs.T
        traces = b * np.cos(a * b) - np.tanh(c) + np.exp(-b ** 2)
    np.testing.assert_allclose(div, traces, atol=1e-10)


def _var_se(est):
    """The sample variance of est and its standard error sqrt((mu_4 - s^4) / N)."""
    c = est - est.mean()
    s2 = np.mean(c ** 2)
    return s2, np.sqrt((np.mean(c ** 4) - s2 ** 2) / len(est))


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_hutchinson_has_mean_trace_and_the_closed_form_variance(probe):
    n = 20000
    x = np.zeros((n, 3))
    est = host(ode.divergence(linear, x, 0.0, backend.rng(11), 1, probe=probe))
    off = 2 * (np.sum(S ** 2) - np.sum(np.diag(S) ** 2))                # Rademacher
    full = 2 * np.sum(S ** 2)                                           # Gaussian
    true, wrong = (off, full) if probe == "rademacher" else (full, off)
    se_mean = np.sqrt(true / n)
    assert abs(est.mean() - np.trace(A)) < 5 * se_mean
    var, se = _var_se(est)
    assert abs(var - true) < 5 * se, (var, true, se)
    # the other probe's formula, and ||A||_F^2 in place of ||S||_F^2, are rejected
    assert abs(var - wrong) > 10 * se
    assert abs(var - 2 * np.sum(A ** 2)) > 10 * se
    # P probes divide the variance by P
    est4 = host(ode.divergence(linear, x[:5000], 0.0, backend.rng(12), 4, probe=probe))
    var4, se4 = _var_se(est4)
    assert abs(var4 - true / 4) < 5 * se4


def on_host(log_prob):
    """A host (scipy) log-density as a base_log_prob of the active backend."""
    return lambda z: backend.asarray(log_prob(host(z)))


def test_linear_flow_keeps_a_gaussian_and_log_prob_ode_is_its_density():
    C = np.array([[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 0.8]])
    base = multivariate_normal(np.zeros(3), C)
    M = expm(A)
    pushed = multivariate_normal(np.zeros(3), M @ C @ M.T)             # law at t = 1
    x = np.random.default_rng(4).standard_normal((7, 3))
    times = np.linspace(0.0, 1.0, 101)
    got = host(ode.log_prob_ode(linear, x, times, on_host(base.logpdf)))
    np.testing.assert_allclose(got, pushed.logpdf(x), atol=1e-9)
    # log p_0(x_0) + int div V dt (the sign of Eq. 97 flipped) misses by 2 tr A = 1.2
    wrong = base.logpdf(x @ np.linalg.inv(M).T) + np.trace(A)
    assert np.abs(wrong - pushed.logpdf(x)).min() > 1.0
    # Hutchinson's divergence: unbiased; for a linear field the error is -(z^T A z - tr A)
    n, P = 4000, 2
    xs = np.random.default_rng(5).standard_normal((n, 3))
    est = host(ode.log_prob_ode(linear, xs, np.linspace(0, 1, 11), on_host(base.logpdf),
                                rng=backend.rng(6), n_probes=P))
    err = est - pushed.logpdf(xs)
    var_r = 2 * (np.sum(S ** 2) - np.sum(np.diag(S) ** 2)) / P        # of (1/P) sum z^T A z
    assert abs(err.mean()) < 5 * np.sqrt(var_r / n)
    # the probes are drawn once per trajectory: the error variance is var_r (T = 1); probes
    # redrawn at each of the 10 steps would average out, to var_r / 4 or less
    var, se_var = _var_se(err)
    assert abs(var - var_r) < 5 * se_var and var - var_r / 4 > 10 * se_var


def test_autograd_differentiates_log_prob_ode_through_the_divergence(on_numpy):
    """d/d theta log p_1(x) for V = theta A x: autograd (nested vjp) against the closed form
    log p_1(x) = log N(expm(-theta A) x; 0, I) - theta tr A."""
    x = np.array([[0.4, -1.0, 0.3], [1.2, 0.1, -0.5]])
    base = lambda z: -0.5 * anp.sum(z ** 2, axis=1)                     # noqa: E731

    def total(theta):
        v = lambda y, t: theta * (y @ A.T)                             # noqa: E731
        return anp.sum(ode.log_prob_ode(v, x, np.linspace(0, 1, 41), base))

    def exact(theta):
        return np.sum(-0.5 * np.sum((x @ expm(-theta * A).T) ** 2, axis=1) - theta * np.trace(A))
    e = 1e-5
    fd = (exact(0.7 + e) - exact(0.7 - e)) / (2 * e)
    np.testing.assert_allclose(autograd.grad(total)(0.7), fd, rtol=1e-6)


MEANS = np.array([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]])
STDS = np.array([0.3, 0.5, 0.2])
WEIGHTS = np.array([0.5, 0.3, 0.2])


def test_the_mixture_oracle_solves_the_continuity_equation(on_numpy):
    """d/dt log p_t + div V + V . grad log p_t = 0 (Eq. 96-97), by autograd; p_0 = N(0, I)."""
    v, lp = mixture_flow_velocity(MEANS, STDS, WEIGHTS), mixture_flow_log_prob(MEANS, STDS, WEIGHTS)
    x = np.random.default_rng(7).standard_normal((5, 2)) * 1.5
    for t in (0.1, 0.5, 0.9):
        dt = autograd.jacobian(lambda s: lp(x, s))(t)                # (n,)
        grad = autograd.elementwise_grad(lambda y: lp(y, t))(x)
        div = sum(autograd.elementwise_grad(lambda y, i=i: v(y, t)[:, i])(x)[:, i]
                  for i in range(2))
        np.testing.assert_allclose(dt + div + np.sum(v(x, t) * grad, axis=1), 0.0, atol=1e-10)
    z = np.random.default_rng(8).standard_normal((4, 2))
    np.testing.assert_allclose(lp(z, 0.0), multivariate_normal(np.zeros(2)).logpdf(z))


def test_mixture_flow_log_prob_ode_reproduces_the_mixture():
    v, lp = mixture_flow_velocity(MEANS, STDS, WEIGHTS), mixture_flow_log_prob(MEANS, STDS, WEIGHTS)
    base = on_host(multivariate_normal(np.zeros(2)).logpdf)
    x = np.concatenate([MEANS + 0.3, np.random.default_rng(9).standard_normal((5, 2)) * 2])
    exact = host(lp(backend.asarray(x), 1.0))
    got = host(ode.log_prob_ode(v, x, np.linspace(0.0, 1.0, 201), base))
    assert np.abs(got - exact).max() < 1e-6
    # Heun converges at order 2 on the log-density too
    errs = [np.abs(host(ode.log_prob_ode(v, x, np.linspace(0, 1, m + 1), base, method="heun"))
                   - exact).max() for m in (50, 100)]
    assert 3.0 < errs[0] / errs[1] < 5.0, errs
    # pushing N(0, I) samples with RK4 lands on the mixture: its mean within 5 SE
    z = np.random.default_rng(10).standard_normal((4000, 2))
    x1 = host(ode.integrate(v, z, np.linspace(0.0, 1.0, 101)))[-1]
    mean = WEIGHTS @ MEANS
    second = WEIGHTS @ (MEANS ** 2 + STDS[:, None] ** 2)
    se = np.sqrt((second - mean ** 2) / len(z))
    assert np.all(np.abs(x1.mean(0) - mean) < 5 * se)


def test_picard_iterates_are_taylor_sums_and_converge():
    a, x0 = -1.5, np.array([[1.0, -2.0]])
    times = np.linspace(0.0, 1.0, 401)
    it = host(ode.picard(lambda x, t: a * x, x0, times, 12))
    assert it.shape == (13, 401, 1, 2)
    tt = times[:, None, None]
    # iterates 1 and 2 integrate polynomials of degree <= 1: the trapezoidal rule is exact
    np.testing.assert_allclose(it[1], x0 * (1 + a * tt), atol=1e-12)
    np.testing.assert_allclose(it[2], x0 * (1 + a * tt + (a * tt) ** 2 / 2), atol=1e-12)
    # Eq. (95): sup error of iterate k <= (|a| T)^k / k! sup|x - x0| (+ the grid's O(h^2))
    errs = [np.abs(it[k] - x0 * np.exp(a * tt)).max() for k in range(13)]
    bound0 = np.abs(x0 * np.exp(a * tt) - x0).max()
    for k in range(13):
        assert errs[k] <= abs(a) ** k / np.prod(np.arange(1, k + 1)) * bound0 + 1e-5
    assert errs[-1] < 1e-5
    # on a nonlinear field, Picard's limit is the ODE's solution (RK4 on the same grid)
    lim = host(ode.picard(mixed, X0, np.linspace(0, 0.5, 401), 25))[-1, -1]
    np.testing.assert_allclose(lim, mixed_exact(X0, 0.5), atol=1e-5)


def test_backends_agree(backend_name, xpb):
    x0 = np.random.default_rng(1).standard_normal((4, 3))
    path = ode.integrate(nonlinear, x0, np.linspace(0, 1, 11), "heun")
    assert isinstance(path, backend.active().array_type) and path.shape == (11, 4, 3)
    div = ode.divergence(nonlinear, x0, 0.3, backend.rng(2), n_probes=3)
    assert div.shape == (4,)
    base = lambda z: -0.5 * xpb.sum(z ** 2, axis=1)                   # noqa: E731
    lp = ode.log_prob_ode(linear, x0, np.linspace(0, 1, 21), base)
    x_0 = host(x0) @ np.linalg.inv(expm(A)).T
    assert_close(lp, -0.5 * np.sum(x_0 ** 2, axis=1) - np.trace(A), rtol=1e-8)
    it = ode.picard(linear, x0, np.linspace(0, 1, 5), 2)
    assert it.shape == (3, 5, 4, 3)


def test_bad_arguments_are_refused_with_clear_messages():
    x = np.zeros((3, 2))
    bad = [
        (lambda: ode.integrate(mixed, x, [[0.0, 1.0]]), ValueError, "times must be a 1-D"),
        (lambda: ode.integrate(mixed, x, [0.0]), ValueError, "at least 2"),
        (lambda: ode.integrate(mixed, x, [0.0, 1.0, 0.5]), ValueError, "strictly increasing"),
        (lambda: ode.integrate(mixed, x, [0.0, 0.0]), ValueError, "strictly increasing"),
        (lambda: ode.integrate(mixed, x, [0.0, np.nan]), ValueError, "finite"),
        (lambda: ode.integrate(mixed, x, [0, 1], "rk5"), ValueError, "method='rk5' is unknown"),
        (lambda: ode.integrate(mixed, x, [0, 1], ((0,), ((1,),), (1,))), ValueError, "tableau"),
        (lambda: ode.integrate(mixed, x[0], [0, 1]), ValueError, "x0 must have shape"),
        (lambda: ode.integrate(mixed, x * np.nan, [0, 1]), ValueError, "x0 contains NaN"),
        (lambda: ode.integrate(None, x, [0, 1]), TypeError, "velocity must be a function"),
        (lambda: ode.integrate(lambda y, t: y[:, 0], x, [0, 1]), ValueError, "shape of x"),
        (lambda: ode.divergence(linear, np.zeros((2, 3)), 0.0, None, 2), TypeError, "rng"),
        (lambda: ode.divergence(linear, np.zeros((2, 3)), 0.0, None, -1), ValueError, "n_probes"),
        (lambda: ode.divergence(linear, np.zeros((2, 3)), 0.0, backend.rng(0), 1, probe="u"),
         ValueError, "probe='u'"),
        (lambda: ode.log_prob_ode(mixed, x, [0, 1], None), TypeError, "base_log_prob"),
        (lambda: ode.picard(mixed, x, [0, 1], -1), ValueError, "n_iter"),
    ]
    for call, error, message in bad:
        with pytest.raises(error, match=message):
            call()


def test_a_state_that_becomes_nonfinite_raises_naming_the_step():
    x = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError, match=r"2 of 3 points.*step 0 .*velocity returned"):
            ode.integrate(lambda y, t: y / y[:, :1], x, [0.0, 0.5, 1.0])
        with pytest.raises(FloatingPointError, match=r"3 of 3 points.*step 1 .*\|h\| = 1 is too"):
            ode.integrate(lambda y, t: 1e308 + 0 * y, x, [0.0, 1.0, 2.0], "euler")
