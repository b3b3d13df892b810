"""Exercise mode for the GAN room and the sliced Wasserstein metric: minigen's own optimal
discriminator, value function, gradient penalty and sliced_wasserstein pass their checks on every
backend; each mutant of tests/mutants/gan.py fails exactly its properties (>= 10 SE, or >= 2 x the
tolerance, from the correct behaviour) with the right named mistake; correct variants written
otherwise pass; and the checks' own oracles agree with independent computations."""
import inspect
import math
from unittest import mock

import numpy as np
import pytest

from conftest import DEFAULT_BACKEND, assert_fails_exactly, host
from minigen import backend, check, metrics, nn
from minigen.backend import xp
from minigen.check import gan as gan_check
from minigen.check import metrics as sw_check
from minigen.check import wgan as gp_check
from minigen.gans import gan, wgan
from mutants import gan as mutants


def reference_gp(grad_critic, x_real, x_fake, u):
    """minigen's wgan.gradient_penalty with its MLP critic replaced by grad_critic: the critic's
    input gradient is the one thing it takes from the network."""
    params = [{"W": xp.zeros((x_real.shape[1], 1))}]                 # passes check_net_input
    with mock.patch.object(wgan.nn, "input_gradient",
                           lambda p, x, activation: grad_critic(x)):
        return wgan.gradient_penalty(params, x_real, x_fake, u, activation="tanh")


REFERENCES = {"optimal_discriminator": gan.optimal_discriminator,
              "value_function": gan.value_function,
              "gradient_penalty": reference_gp,
              "sliced_wasserstein": metrics.sliced_wasserstein}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", ["optimal_discriminator", "value_function",
                                  "sliced_wasserstein"])
def test_the_reference_signature_is_the_contract(name):
    contract = check.find(name).contract
    params = inspect.signature(REFERENCES[name]).parameters
    assert list(params)[:len(contract.params)] == contract.names
    defaults = [p.split("=")[1] for p in contract.params if "=" in p]
    assert [repr(params[n].default) for n in contract.names if params[n].default
            is not inspect.Parameter.empty] == defaults


def test_minigen_gradient_penalty_takes_the_contract_arguments_after_params():
    # minigen's takes the critic as MLP params (and a keyword activation); the exercise takes
    # grad_critic instead, so that students need no MLP: the other arguments are the same
    params = list(inspect.signature(wgan.gradient_penalty).parameters)
    assert params[1:4] == check.find("gp").contract.names[1:]


@pytest.mark.parametrize("key", sorted(mutants.MUTANTS), ids="-".join)
def test_each_mutant_fails_exactly_its_properties(key):
    name, mistake = key
    fails, named = mutants.MUTANTS[key]
    report = check.run(name, mutants.variant(mutants.FUNCTIONS[name], mistake=mistake))
    assert_fails_exactly(report, fails, named, where="any")


@pytest.fixture
def numpy_backend():
    backend.set_backend("numpy")
    yield
    backend.set_backend(DEFAULT_BACKEND)


@pytest.mark.parametrize("name, fn", [(n, f) for n, fns in sorted(mutants.CORRECT.items())
                                      for f in fns],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_correct_variants_pass(name, fn, numpy_backend):
    # on numpy: a loop over 50 000 directions takes ~2 s there, but ~10 s on the stand-in,
    # where the pilot may rightly refuse it
    report = check.run(name, fn)
    assert report.ok, str(report)


def test_a_slow_sliced_wasserstein_is_told_to_vectorize():
    report = check.run("sw", mutants.SLOW["sliced_wasserstein"])
    assert report.exit_code == 2
    assert "vectorize over projections" in report["contract"].message
    assert all(r.status == "skipped" for r in report.results[1:])


def test_a_global_random_state_is_refused(numpy_backend):
    # (on a device backend the host draws of np.random fail earlier, in the student's code)
    report = check.run("sw", mutants.variant(mutants.sliced_wasserstein, mistake="global_rng"))
    assert report["contract"].status == "error"
    assert "drew no random numbers from rng" in report["contract"].message


def test_a_penalty_that_returns_an_array_is_told_so():
    report = check.run("gp", lambda grad_critic, x_real, x_fake, u: xp.zeros(3))
    assert report["contract"].status == "error"
    assert "must be one number" in report["contract"].message


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_skeletons_follow_the_contracts(name):
    text = check.skeleton(name)
    namespace = {}
    exec(compile(text, "skeleton.py", "exec"), namespace)              # noqa: S102
    fn = namespace[check.find(name).contract.function]
    assert check.run(name, fn).exit_code == 2                           # NotImplementedError


# ------------------------------------------------------------------ the oracles themselves

def test_js_oracle_matches_scipy():
    from scipy.spatial.distance import jensenshannon
    g = np.random.default_rng(0)
    for _ in range(5):
        p, q = g.dirichlet(np.ones(6)), g.dirichlet(np.ones(6))
        assert gan_check.js(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-12)
    p = np.array([0.5, 0.5, 0.0, 0.0])
    assert gan_check.js(p, p[::-1]) == pytest.approx(math.log(2), rel=1e-15)    # disjoint


def test_value_at_d_star_is_theorem1_on_the_check_laws():
    for p, q, _, _ in gan_check._laws():
        v = gan_check.value(p / (p + q), p, q)
        assert v == pytest.approx(2 * gan_check.js(p, q) - gan_check.LOG4, abs=1e-14)


def test_the_checks_critic_gradient_is_the_gradient_by_finite_differences():
    g = np.random.default_rng(1)
    A = g.standard_normal((3, 3))
    critic = gp_check.Critic(g.standard_normal(3), A + A.T, 0.5)

    def f(x):
        return x @ critic.a + 0.5 * np.einsum("ni,ij,nj->n", x, critic.B, x) \
            + critic.c * np.sin(x).sum(axis=1)
    x, h = g.standard_normal((5, 3)), 1e-6
    fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(critic.gradient(x), fd, rtol=1e-7, atol=1e-8)


def test_the_penalty_oracle_matches_minigen_on_an_mlp_critic():
    # what reference_gp relies on: minigen's penalty takes only the input gradient from the MLP
    g = np.random.default_rng(2)
    params = nn.init_mlp([2, 8, 1], backend.rng(3))
    x_real, x_fake, u = g.standard_normal((6, 2)), g.standard_normal((6, 2)), g.random((6, 1))
    x_hat = backend.asarray(u * x_real + (1 - u) * x_fake)
    grads = host(nn.input_gradient(params, x_hat, "tanh"))
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)
    gp = wgan.gradient_penalty(params, *(backend.asarray(a) for a in (x_real, x_fake, u)),
                               activation="tanh")
    assert float(host(gp)) == pytest.approx(expected, rel=1e-9)


def test_sphere_moments_match_monte_carlo():
    # theta^T A theta for theta uniform on S^{d-1}: the mean and variance the SEs rest on,
    # against 400 000 directions (relative SE of a sample variance ~ 0.3%: tolerance 2%)
    g = np.random.default_rng(4)
    for d in (2, 3, 5):
        B = g.standard_normal((d, d))
        A = B @ B.T
        theta = g.standard_normal((400_000, d))
        theta /= np.linalg.norm(theta, axis=1, keepdims=True)
        q = np.einsum("ni,ij,nj->n", theta, A, theta)
        mean, var = sw_check.sphere_moments(A, d)
        assert q.mean() == pytest.approx(mean, rel=0.01)
        assert q.var() == pytest.approx(var, rel=0.02)
        m1 = math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d + 1) / 2))
        assert np.abs(theta[:, 0]).mean() == pytest.approx(m1, rel=0.01)        # E |theta_1|


def test_the_affine_oracle_is_exact_per_direction():
    # y = s x + v (shuffled): for each direction the sorted 1-D W_2^2 is theta^T A theta
    g = np.random.default_rng(5)
    x, y, A, _ = sw_check._affine_case(g, 3, 1.7, [1.0, -2.0, 0.5])
    theta = g.standard_normal((3, 50))
    theta /= np.linalg.norm(theta, axis=0)
    w2 = np.mean((np.sort(x @ theta, axis=0) - np.sort(y @ theta, axis=0)) ** 2, axis=0)
    np.testing.assert_allclose(w2, np.einsum("ip,ij,jp->p", theta, A, theta), rtol=1e-10)
