"""Exercise mode for the VAE: the checks of the closed-form KL term and of the importance-weighted
bound pass minigen's own pieces (minigen.latent.vae, on every backend) and correct variants
written otherwise, and fail each known-wrong variant of tests/mutants/vae.py at exactly its
targeted properties, with the right named mistake."""
import ast
import inspect
import math

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import backend, check
from minigen.check import vae as check_vae
from minigen.latent.vae import importance_bound, kl_standard_normal, log_normal, reparametrize
from mutants import vae as mutants


def reference_iwae_bound(x, mean, log_var, log_joint, rng, n_samples):
    """minigen's pieces in the contract's signature (the draws in the contract's order)."""
    z = reparametrize(mean, log_var, rng.standard_normal((n_samples, *mean.shape)))
    return importance_bound(log_joint(x, z), log_normal(z, mean, log_var))


REFERENCES = {"gaussian_kl": kl_standard_normal, "iwae_bound": reference_iwae_bound}
CASES = [("gaussian_kl", mutants.gaussian_kl, mutants.KL_MUTANTS),
         ("iwae_bound", mutants.iwae_bound, mutants.BOUND_MUTANTS)]
MUTANT_CASES = [(name, fn, m, fails, named) for name, fn, table in CASES
                for m, (fails, named) in sorted(table.items())]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name, fn, mistake, fails, named", MUTANT_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in MUTANT_CASES])
def test_each_mutant_fails_exactly_its_properties(name, fn, mistake, fails, named, on_numpy):
    report = check.run(name, mutants.variant(fn, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name, fn", [
    ("gaussian_kl", mutants.gaussian_kl), ("gaussian_kl", mutants.gaussian_kl_by_coordinates),
    ("iwae_bound", mutants.iwae_bound), ("iwae_bound", mutants.iwae_bound_point_by_point)])
def test_correct_variants_pass(name, fn, on_numpy):
    report = check.run(name, fn)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_skeleton_parses_with_the_contracts_parameters(name):
    ex = check.find(name)
    tree = ast.parse(check.skeleton(name))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert fn.name == ex.contract.function
    assert [a.arg for a in fn.args.args] == ex.contract.names
    assert list(inspect.signature(REFERENCES[name]).parameters) == ex.contract.names


def test_a_bound_that_ignores_the_rng_fails():
    def no_draws(x, mean, log_var, log_joint, rng, n_samples):
        z = np.broadcast_to(mean, (n_samples, *mean.shape))          # eps = 0: z = mean
        return importance_bound(log_joint(x, z), log_normal(z, mean, log_var))
    report = check.iwae_bound(no_draws)
    assert report["exact_posterior"].status != "pass"


def test_the_oracles_own_numbers():
    """The linear-Gaussian model's log p(x) against the posterior identity at one z, and the
    IWAE oracle: K = 1 gives the closed-form -KL(q || p(z|x)), and the gap shrinks with K."""
    x = check_vae._points(type("C", (), {"seed": 0})(), 5, 1)
    mean, log_var = check_vae.posterior(x)
    z = mean[None] + 0.3
    log_post = -0.5 * np.sum((z - mean) ** 2 / np.exp(log_var) + log_var + math.log(2 * math.pi),
                             -1)
    np.testing.assert_allclose(check_vae.log_joint(x, z)[0] - log_post[0], check_vae.log_p(x),
                               rtol=1e-12)
    s, k = check_vae.LOG_SCALE, check_vae.K_LAT
    kl = 0.5 * k * (math.exp(s) + check_vae.SHIFT ** 2 - 1 - s)
    g1, se1 = check_vae.iwae_gap_oracle(1)
    assert abs(g1 + kl) < 5 * se1
    g16, se16 = check_vae.iwae_gap_oracle(16)
    assert g1 < g16 < 0


def test_check_module_does_not_import_the_module_it_checks():
    tree = ast.parse(inspect.getsource(check_vae))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert check_vae.CHECKS not in names and "minigen.latent.vae" not in names
    assert backend.get_backend() in ("numpy", "fakecupy", "cupy")
