"""HMC: exact on a Gaussian, second-order energy error, reversible, and wrong variants rejected.

Oracles: closed-form Gaussian moments with their closed-form SEs over independent chains started
from exact samples (Var x_i = C_ii, Var (x_i - mu_i)(x_j - mu_j) = C_ii C_jj + C_ij^2), every
decision at 5 SE; the leapfrog theorem dH = O(eps^2) at a fixed time (slope 2 on a log-log plot;
explicit Euler, slope 1, is rejected by the same statistic); leapfrog's time reversal. The wrong
HMCs of tests/mutants/hmc.py (no accept/reject, kinetic energy forgotten, momentum never
refreshed) are rejected by the same moment test that passes minigen's hmc.
"""
import numpy as np
import pytest

from conftest import assert_on_backend
from minigen import backend
from minigen.backend import xp
from minigen.energy.phi4 import Phi4
from minigen.mcmc import hmc
from minigen.mcmc.hmc import energy_error
from minigen.ode import leapfrog
from mutants import hmc as hm

MU = np.array([1.0, -2.0, 0.5])
C = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, -0.5], [0.0, -0.5, 0.3]])
P = np.linalg.inv(C)


def log_prob(x):
    z = x - backend.asarray(MU)
    return -0.5 * xp.sum((z @ backend.asarray(P)) * z, axis=1)


def score(x):
    return -(x - backend.asarray(MU)) @ backend.asarray(P)


def exact(n, seed=0):
    return np.random.default_rng(seed).multivariate_normal(MU, C, size=n)


def moment_z(x):
    """Deviations in SE of the means and centred second moments of x (n, 3) from N(MU, C)."""
    x = np.asarray(x)
    n = len(x)
    z = [(x.mean(0) - MU) / np.sqrt(np.diag(C) / n)]
    c = x - MU
    for i in range(3):
        for j in range(i, 3):
            se = np.sqrt((C[i, i] * C[j, j] + C[i, j] ** 2) / n)
            z.append([(np.mean(c[:, i] * c[:, j]) - C[i, j]) / se])
    return np.abs(np.concatenate(z))


@pytest.mark.parametrize("eps, n_leapfrog, jitter, thin", [(0.3, 5, 0.0, 1), (0.15, 12, 0.3, 2),
                                                            (0.5, 1, 0.0, 5)])
def test_hmc_keeps_a_gaussian_exactly(eps, n_leapfrog, jitter, thin):
    n = 20_000
    run = hmc(log_prob, score, exact(n), 10, eps, n_leapfrog, backend.rng(1), jitter=jitter,
              thin=thin, progress=False)
    assert run.samples.shape == (10 // thin, n, 3)
    assert np.array_equal(run.samples[-1], run.final)
    assert moment_z(run.final).max() < 5
    assert 0.3 < float(np.mean(run.accept_rate)) < 1.0


@pytest.mark.parametrize("mistake", ["no_accept", "no_kinetic", "no_refresh"])
def test_the_moment_test_rejects_a_wrong_hmc(mistake):
    # eps = 0.5 is near the stability limit of the stiff direction (sd ~0.5): leapfrog alone
    # is visibly biased there, and HMC's accept/reject is what makes it exact
    n = 20_000
    rng = backend.rng(1)
    wrong = hm.hmc(log_prob, score, exact(n), 10, 0.5, 5, rng, mistake=mistake)[-1]
    assert moment_z(wrong).max() > 10
    right = hmc(log_prob, score, exact(n), 10, 0.5, 5, backend.rng(1), progress=False).final
    assert moment_z(right).max() < 5


def test_hmc_from_a_cold_start_converges():
    run = hmc(log_prob, score, np.zeros((2000, 3)), 300, 0.3, 6, backend.rng(2), progress=False)
    assert moment_z(run.final).max() < 5


def test_energy_error_is_second_order():
    # dH after a fixed time T = eps L on a phi^4 field: mean |dH| ~ eps^2 (slope 2)
    target = Phi4(4, 0.22, 0.3)
    g = np.random.default_rng(3)
    x, p = g.standard_normal((500, 16)), g.standard_normal((500, 16))
    steps = [(0.2, 5), (0.1, 10), (0.05, 20)]
    err = [np.mean(np.abs(energy_error(target.log_prob, target.score, x, p, e, n)))
           for e, n in steps]
    slopes = np.log2(np.array(err[:-1]) / np.array(err[1:]))
    assert np.all(np.abs(slopes - 2) < 0.2), slopes

    # the statistic rejects a first-order integrator: explicit Euler, slope 1
    def euler_dH(eps, n):
        q, m = x.copy(), p.copy()
        for _ in range(n):
            q, m = q + eps * m, m + eps * target.score(q)
        return np.mean(np.abs(target.energy(q) - target.energy(x)
                              + 0.5 * (np.sum(m * m, 1) - np.sum(p * p, 1))))
    e = [euler_dH(eps / 10, n * 10) for eps, n in steps]          # same T, in its O(eps) regime
    euler_slopes = np.log2(np.array(e[:-1]) / np.array(e[1:]))
    assert np.all(np.abs(euler_slopes - 1) < 0.2) and np.all(np.abs(euler_slopes - 2) > 0.5)


def test_the_leapfrog_hmc_uses_is_reversible():
    target = Phi4(4, 0.3, 0.1)
    g = np.random.default_rng(4)
    x, p = g.standard_normal((5, 16)), g.standard_normal((5, 16))

    def grad_U(q):
        return -target.score(q)
    y, p_y = leapfrog(x, p, grad_U, lambda m: m, 0.1, 20)
    x_back, p_back = leapfrog(y, -p_y, grad_U, lambda m: m, 0.1, 20)
    np.testing.assert_allclose(x_back, x, atol=1e-10)
    np.testing.assert_allclose(-p_back, p, atol=1e-10)


def test_calls_per_step():
    calls = {"log_prob": 0, "score": 0}

    def lp(x):
        calls["log_prob"] += 1
        return log_prob(x)

    def sc(x):
        calls["score"] += 1
        return score(x)
    hmc(lp, sc, exact(10), 7, 0.2, 4, backend.rng(0), progress=False)
    # one call each at x0; then per step log_prob once and score L times (the gradient at the
    # current state is kept from the step before)
    assert calls == {"log_prob": 1 + 7, "score": 1 + 7 * 4}


def test_hmc_on_every_backend(xpb):
    x0 = xpb.asarray(exact(200))
    run = hmc(log_prob, score, x0, 5, 0.3, 4, backend.rng(0), jitter=0.1, progress=False)
    for a in run:
        assert_on_backend(a)
    assert run.samples.shape == (5, 200, 3)


def test_same_seed_same_chains_and_the_random_draws():
    a = hmc(log_prob, score, exact(50), 4, 0.6, 3, backend.rng(7), progress=False).samples
    b = hmc(log_prob, score, exact(50), 4, 0.6, 3, backend.rng(7), progress=False).samples
    np.testing.assert_array_equal(a, b)
    # the documented draws: a momentum (n, d) then uniforms (n,), per step
    # (every step from fresh gradients: the one HMC keeps from the step before must be the same,
    # after accepted and rejected moves alike)
    rng = backend.rng(7)
    x = exact(50)
    for k in range(4):
        p = rng.standard_normal((50, 3))
        y, p_y = leapfrog(x, p, lambda q: -score(q), lambda m: m, 0.6, 3)
        log_r = log_prob(y) - log_prob(x) + 0.5 * (np.sum(p * p, 1) - np.sum(p_y * p_y, 1))
        accept = np.log(rng.random(50)) < log_r
        assert 0 < accept.sum() < 50                   # both branches of the kept gradient
        x = np.where(accept[:, None], y, x)
        np.testing.assert_allclose(a[k], x, atol=1e-12)


def test_a_diverging_trajectory_names_the_step():
    # N(0, 0.01 I): curvature 100, leapfrog unstable for eps > 0.2
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(FloatingPointError, match="hmc: at step 1.*step_size"):
        hmc(lambda x: -50 * xp.sum(x * x, 1), lambda x: -100 * x, np.ones((4, 2)), 3, 1.0, 400,
            backend.rng(0), progress=False)


def test_a_nan_log_prob_is_refused():
    def lp(x):
        return xp.where(x[:, 0] > 0.5, np.nan, -0.5 * xp.sum(x * x, 1))
    with pytest.raises(FloatingPointError, match="hmc.*NaN"):
        hmc(lp, lambda x: -x, np.zeros((100, 2)), 50, 0.5, 3, backend.rng(0), progress=False)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"step_size": 0.0}, ValueError, "step_size"), ({"step_size": -0.1}, ValueError, "step_size"),
    ({"n_leapfrog": 2.5}, ValueError, "n_leapfrog"), ({"n_leapfrog": 0}, ValueError, "n_leapfrog"),
    ({"n_steps": 0}, ValueError, "n_steps"), ({"jitter": 1.0}, ValueError, "jitter"),
    ({"jitter": -0.1}, ValueError, "jitter"), ({"thin": 20}, ValueError, "thin"),
    ({"x0": np.array([[np.nan, 0.0, 0.0]])}, ValueError, "x0"),
    ({"x0": np.zeros(3)}, ValueError, "x0"), ({"rng": 3}, TypeError, "rng"),
    ({"score": "s"}, TypeError, "score"), ({"log_prob": None}, TypeError, "log_prob"),
    ({"x0": np.zeros((2, 4))}, ValueError, "log_prob")])
def test_bad_input(kwargs, error, name):
    args = dict(log_prob=log_prob, score=score, x0=np.zeros((2, 3)), n_steps=5, step_size=0.1,
                n_leapfrog=3, rng=backend.rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=name):
        hmc(**args, progress=False)


def test_hyperparameters_are_keyword_only():
    with pytest.raises(TypeError):
        hmc(log_prob, score, np.zeros((2, 3)), 5, 0.1, 3, backend.rng(0), 0.2)
