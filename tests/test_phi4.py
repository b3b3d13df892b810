"""The phi^4 field: action, score, free spectrum, observables and parameter recovery.

Oracles: the action written as a loop over sites; autograd's gradient of the action; the free
field as a Gaussian whose covariance (2A)^-1 is a matrix inverse, A built site by site, sampled
exactly by Cholesky (no sampler) and whose spectrum F C F^H / V is computed by linear algebra;
ULA's exact stationary law on each Fourier mode, var = 1 / (K (1 - h K / 2)) with K the mode's
curvature (an AR(1) recursion), and sigma^2 / 2 times that for noise sigma sqrt(h): noise
sqrt(h) instead of sqrt(2h) (Eq. 118) halves it, and the 5-SE spectrum test rejects it; the
Gaussian law of the magnetization (<|m|> = sqrt(2 var / pi), Binder ratio 3). Recovery: score
matching on exact free-field samples returns (kappa, 0); on HMC samples of the interacting field
score matching and maximum likelihood return (kappa, lam) within their Monte-Carlo error.
"""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from conftest import assert_close, assert_on_backend
from minigen import backend
from minigen.energy.phi4 import (Phi4, free_spectrum, magnetization, observables, spectrum,
                                 tau_abs_m)
from minigen.energy.phi4_fit import max_likelihood_phi4, score_matching_phi4
from minigen.mcmc import hmc, langevin
from minigen.metrics import integrated_autocorr_time


def action_by_loops(phi, L, kappa, lam):
    f = phi.reshape(L, L)
    s = 0.0
    for i in range(L):
        for j in range(L):
            x = f[i, j]
            s += -2 * kappa * x * (f[(i + 1) % L, j] + f[i, (j + 1) % L])
            s += (1 - 2 * lam) * x * x + lam * x ** 4
    return s


def free_covariance(L, kappa):
    """C = (2A)^-1 with S = phi^T A phi, A = I - kappa sum_mu (T_mu + T_mu^T), site by site."""
    V = L * L
    A = np.eye(V)
    for i in range(L):
        for j in range(L):
            for nb in (((i + 1) % L) * L + j, i * L + (j + 1) % L):
                A[i * L + j, nb] -= kappa
                A[nb, i * L + j] -= kappa
    return np.linalg.inv(2 * A)


def free_samples(L, kappa, n, seed=0):
    chol = np.linalg.cholesky(free_covariance(L, kappa))
    return np.random.default_rng(seed).standard_normal((n, L * L)) @ chol.T


@pytest.mark.parametrize("L, kappa, lam", [(3, 0.2, 0.0), (4, 0.31, 0.02), (5, -0.1, 1.3)])
def test_action_and_score_against_loops_and_autograd(L, kappa, lam):
    target = Phi4(L, kappa, lam)
    phi = np.random.default_rng(1).standard_normal((4, L * L))
    assert_close(target.energy(phi), [action_by_loops(p, L, kappa, lam) for p in phi])
    grad = autograd.elementwise_grad(lambda z: anp.sum(target.energy(z)))(phi)
    assert_close(target.score(phi), -grad)
    assert_close(target.log_prob(phi), -target.energy(phi))
    F = target.features(phi)               # S = (1 - 2 lam) Phi_1 + lam Phi_2 - 2 kappa Phi_3
    assert_close(F @ np.array([1 - 2 * lam, lam, -2 * kappa]), target.energy(phi))
    # the wrong variant: a one-sided neighbour sum in the score is far from autograd
    f = phi.reshape(4, L, L)
    one_sided = -grad - 2 * kappa * (np.roll(f, 1, 1) + np.roll(f, 1, 2)).reshape(4, -1)
    if kappa != 0:
        assert np.max(np.abs(one_sided - target.score(phi))) > 0.1


def test_free_spectrum_is_the_inverse_quadratic_form():
    L, kappa = 6, 0.23
    F = np.fft.fft2(np.eye(L * L).reshape(L * L, L, L)).reshape(L * L, L * L).T   # phi_k = F phi
    exact = np.real(np.diag(F @ free_covariance(L, kappa) @ F.conj().T)).reshape(L, L) / L ** 2
    assert_close(free_spectrum(L, kappa), exact)
    # critical kappa = 1/4: the k = 0 mode's variance 1 / (2 (1 - 4 kappa)) diverges
    assert float(free_spectrum(L, 0.2499)[0, 0]) == pytest.approx(1 / (2 * 0.0004))
    with pytest.raises(ValueError, match="kappa"):
        free_spectrum(L, 0.25)
    with pytest.raises(ValueError, match="1/4"):
        Phi4(L, 0.25, 0.0)


def _spectrum_z(phi, L, expected):
    """Per-mode deviations in SE over independent fields phi (n, V)."""
    power = np.abs(np.fft.fft2(np.asarray(phi).reshape(-1, L, L))) ** 2 / L ** 2
    se = power.std(axis=0) / np.sqrt(len(power))
    assert_close(spectrum(phi, L), power.mean(axis=0))
    return np.abs(power.mean(axis=0) - expected) / se


def test_hmc_measures_the_free_spectrum():
    L, kappa, n = 8, 0.22, 4000
    target = Phi4(L, kappa, 0.0)
    run = hmc(target.log_prob, target.score, free_samples(L, kappa, n), 20, 0.3, 6,
              backend.rng(0), jitter=0.2, progress=False)
    assert _spectrum_z(run.final, L, free_spectrum(L, kappa)).max() < 5


def test_langevin_noise_sqrt_dt_halves_the_spectrum():
    # ULA on the free field: each mode is an AR(1) chain with curvature K = 1 / spectrum, whose
    # stationary variance is (sigma^2 / 2) / (K (1 - h K / 2)) exactly
    # n = 2000, 100 steps: the slowest mode has relaxed to 0.92^100 ~ 3e-4 of its start, the wrong
    # variant sits 30 SE away (threshold 10), the right one within 2.8 SE (threshold 5)
    L, kappa, n, h = 8, 0.2, 2000, 0.1
    target = Phi4(L, kappa, 0.0)
    K = 1 / backend.to_numpy(free_spectrum(L, kappa))
    ula_exact = 1 / (K * (1 - h * K / 2))
    x0 = free_samples(L, kappa, n)
    right = langevin(target.score, x0, 100, h, backend.rng(1), thin=100, progress=False).final
    assert _spectrum_z(right, L, ula_exact).max() < 5
    wrong = langevin(target.score, x0, 100, h, backend.rng(1), sigma=1.0, thin=100,
                     progress=False).final
    z_wrong = _spectrum_z(wrong, L, ula_exact)
    assert z_wrong.min() > 10                                 # every mode rejected
    assert _spectrum_z(wrong, L, ula_exact / 2).max() < 5     # it samples exp(-2S): half


def test_observables_of_the_free_field_have_the_gaussian_values():
    L, kappa, n = 6, 0.2, 100_000
    phi = free_samples(L, kappa, n, seed=2)
    var = float(free_spectrum(L, kappa)[0, 0]) / L ** 2      # Var m = <|phi_0|^2> / V^2
    obs = observables(phi)
    m = np.abs(phi.mean(axis=1))
    assert abs(obs["abs_m"] - np.sqrt(2 * var / np.pi)) < 5 * m.std() / np.sqrt(n)
    assert obs["chi"] == pytest.approx(L ** 2 * var * (1 - 2 / np.pi), rel=0.02)
    assert obs["binder"] == pytest.approx(3.0, abs=0.1)
    assert_close(magnetization(phi), phi.mean(axis=1))


def _ordered_run(L=8, kappa=0.3, lam=0.1, n=64, steps=400, seed=0):
    target = Phi4(L, kappa, lam)
    x0 = 0.1 * np.random.default_rng(seed).standard_normal((n, L * L))
    run = hmc(target.log_prob, target.score, x0, steps, 0.3, 6, backend.rng(seed), jitter=0.2,
              progress=False)
    return run.samples[steps // 4:]


def test_the_two_phases_and_the_autocorrelation_time():
    # Binder ratio: 3 for a Gaussian m (disordered), 1 for m = +-m0 (ordered)
    ordered, disordered = _ordered_run(kappa=0.35), _ordered_run(kappa=0.15)
    obs = observables(ordered)
    assert obs["abs_m"] > 1.0 and abs(obs["binder"] - 1) < 0.1
    assert abs(observables(disordered)["binder"] - 3) < 0.3
    assert tau_abs_m(ordered) == integrated_autocorr_time(np.abs(ordered.mean(axis=2)))


def test_score_matching_recovers_the_free_field():
    L, kappa = 8, 0.2
    kappa_hat, lam_hat = score_matching_phi4(free_samples(L, kappa, 20_000, seed=3), L)
    # SE of each estimate from 8 independent batches of the same size
    batches = np.array([score_matching_phi4(free_samples(L, kappa, 20_000, seed=10 + b), L)
                        for b in range(8)])
    se = batches.std(axis=0, ddof=1)
    assert abs(kappa_hat - kappa) < 5 * se[0] and abs(lam_hat) < 5 * se[1]


def test_score_matching_and_max_likelihood_recover_kappa_and_lambda():
    L, kappa, lam = 8, 0.3, 0.1
    # 96 chains x 400 steps: both estimators err by < 0.15 of these tolerances, and the
    # no-Laplacian variant misses by > 3.7 times its threshold
    samples = _ordered_run(L, kappa, lam, n=96, steps=400, seed=4)
    k_sm, l_sm = score_matching_phi4(samples, L)
    assert abs(k_sm - kappa) < 0.01 * kappa and abs(l_sm - lam) < 0.03 * lam
    # from far (a disordered model): the shrunk Newton steps of Eq. (32), (34)
    k_ml, l_ml, history = max_likelihood_phi4(samples, L, backend.rng(5), kappa0=0.25, lam0=0.2)
    assert len(history) == 9 and history[0] == (0.25, 0.2)
    assert abs(k_ml - kappa) < 0.02 * kappa and abs(l_ml - lam) < 0.05 * lam
    # the wrong variant: dropping the Laplacian of Hyvarinen's objective gives other numbers
    f = np.asarray(samples).reshape(-1, L, L)
    nb = sum(np.roll(f, s, a) for a in (1, 2) for s in (1, -1))
    gk, gl, g0 = -2 * nb, 4 * f * (f * f - 1), 2 * f
    M = [[np.sum(a * b) for b in (gk, gl)] for a in (gk, gl)]
    no_lap = np.linalg.solve(M, [-np.sum(gk * g0), -np.sum(gl * g0)])
    assert abs(no_lap[0] - kappa) > 0.1 * kappa or abs(no_lap[1] - lam) > 0.5 * lam


def test_phi4_on_every_backend(xpb):
    L, kappa, lam = 4, 0.2, 0.1
    target = Phi4(L, kappa, lam)
    host = np.random.default_rng(0).standard_normal((3, L * L))
    phi = xpb.asarray(host)
    f = host.reshape(3, L, L)
    nb = sum(np.roll(f, s, a) for a in (1, 2) for s in (1, -1))
    score = (2 * kappa * nb - 2 * (1 - 2 * lam) * f - 4 * lam * f ** 3).reshape(3, -1)
    for got, want in [(target.energy(phi), [action_by_loops(p, L, kappa, lam) for p in host]),
                      (target.score(phi), score),
                      (spectrum(phi, L), np.mean(np.abs(np.fft.fft2(f)) ** 2, axis=0) / L ** 2),
                      (target.features(phi)[:, 0], np.sum(host ** 2, axis=1))]:
        assert_on_backend(got)
        assert_close(got, want)
    assert isinstance(observables(phi)["chi"], float)
    k, lm = score_matching_phi4(xpb.asarray(free_samples(L, 0.2, 500)), L)
    assert abs(k - 0.2) < 0.05 and abs(lm) < 0.05
    k, lm, history = max_likelihood_phi4(phi, L, backend.rng(0), kappa0=0.2, lam0=0.1, n_iter=1,
                                         n_chains=4, n_sweeps=3)
    assert len(history) == 2 and np.isfinite(k) and lm > 0


@pytest.mark.parametrize("make, match", [
    (lambda: Phi4(1, 0.2, 0.1), "size"), (lambda: Phi4(4, 0.2, -0.1), "lam"),
    (lambda: Phi4(4, float("nan"), 0.1), "kappa"), (lambda: Phi4(4, 0.3, 0.0), "1/4"),
    (lambda: Phi4(4, 0.2, 0.1).energy(np.zeros((2, 15))), "phi"),
    (lambda: score_matching_phi4(np.zeros((2, 15)), 4), "phi"),
    (lambda: score_matching_phi4(np.zeros((20, 16)), 4), "singular"),
    (lambda: max_likelihood_phi4(np.ones((4, 16)), 4, backend.rng(0), kappa0=0.1, lam0=-1.0),
     "lam0")])
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [0.2, 0.25, 0.3])
def test_the_issue_target_score_matching_within_2_percent_on_16x16(kappa):
    # the benchmark's setting at a third of its length: 64 HMC chains x 600 kept steps
    L, lam = 16, 0.02
    target = Phi4(L, kappa, lam)
    x0 = 0.1 * np.random.default_rng(6).standard_normal((64, L * L))
    run = hmc(target.log_prob, target.score, x0, 800, 0.25, 8, backend.rng(6), jitter=0.2,
              progress=False)
    k_sm, l_sm = score_matching_phi4(run.samples[200:], L)
    assert abs(k_sm / kappa - 1) < 0.02 and abs(l_sm / lam - 1) < 0.02
