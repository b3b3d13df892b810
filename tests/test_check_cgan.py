"""Exercise mode for the conditional GAN: minigen's value_function of Eq. (64) passes its check on
every backend; each mutant of tests/mutants/cgan.py fails exactly its properties with the right
named mistake; correct variants written otherwise pass; the check's oracles agree with independent
computations (scipy's JS, a brute-force sum over states)."""
import inspect
import math

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check import cgan as cgan_check
from minigen.gans import cgan
from mutants import cgan as mutants


def test_minigen_passes_its_own_check(backend_name):
    report = check.run("conditional_value", cgan.value_function)
    assert report.ok, str(report)


def test_the_reference_signature_is_the_contract():
    params = list(inspect.signature(cgan.value_function).parameters)
    assert params == check.find("conditional_value").contract.names


@pytest.mark.parametrize("key", sorted(mutants.MUTANTS), ids="-".join)
def test_each_mutant_fails_exactly_its_properties(key, on_numpy):
    name, mistake = key
    fails, named = mutants.MUTANTS[key]
    report = check.run(name, mutants.variant(mutants.FUNCTIONS[name], mistake=mistake))
    assert_fails_exactly(report, fails, named, where="every")


@pytest.mark.parametrize("fn", mutants.CORRECT["conditional_value"], ids=lambda f: f.__name__)
def test_correct_variants_pass(fn, on_numpy):
    report = check.run("conditional_value", fn)
    assert report.ok, str(report)


def test_the_skeleton_follows_the_contract():
    namespace = {}
    exec(compile(check.skeleton("cgan"), "skeleton.py", "exec"), namespace)     # noqa: S102
    assert check.run("cgan", namespace["conditional_value"]).exit_code == 2


def test_the_check_does_not_import_the_module_it_checks():
    source = inspect.getsource(cgan_check)
    assert cgan_check.CHECKS == "minigen.gans.cgan" and "gans.cgan import" not in source
    assert "from minigen.gans" not in source and "import minigen.gans" not in source


def test_theorem1_oracle_is_the_brute_force_sum_over_states():
    # V(D*, G) of Eq. (64) summed over (label, state) with the laws' own weights, against the
    # check's sum_y pi(y) 2 JS_y - log 4 (JS from scipy)
    from scipy.spatial.distance import jensenshannon
    for cp, cq in cgan_check.LAWS:
        cp, cq = np.array(cp, float), np.array(cq, float)
        p, q = cp / cp.sum(axis=1, keepdims=True), cq / cq.sum(axis=1, keepdims=True)
        pi = cp.sum(axis=1) / cp.sum()
        np.testing.assert_allclose(pi, cq.sum(axis=1) / cq.sum())      # one pi for both
        d = p / (p + q)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(d), 0) + np.where(q > 0, q * np.log1p(-d), 0)
        brute = float(np.sum(pi[:, None] * terms))
        js = sum(w * jensenshannon(a, b) ** 2 for w, a, b in zip(pi, p, q))
        assert brute == pytest.approx(2 * js - math.log(4), abs=1e-12)
        # and the check's exact samples give the same value through the Monte-Carlo formula
        g = np.random.default_rng(0)
        xr, yr = cgan_check._exact_sample(g, cp.astype(int))
        xf, yf = cgan_check._exact_sample(g, cq.astype(int))
        D = lambda x, y: np.clip(d[y, x[:, 0].astype(int)], 1e-300, 1 - 1e-16)   # noqa: E731
        assert cgan_check.value(D, xr, yr, xf, yf) == pytest.approx(brute, abs=1e-12)
    # the last pair: the marginals agree, the conditional value does not reach -log 4
    cp, cq = (np.array(c, float) for c in cgan_check.LAWS[2])
    np.testing.assert_array_equal(cp.sum(axis=0), cq.sum(axis=0))
