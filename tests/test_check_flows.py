"""Exercise mode for the flows room: the checks of the affine coupling layer (forward, inverse),
actnorm and leapfrog pass minigen's own layers (on every backend) and correct variants written
otherwise, and fail each known-wrong variant of tests/mutants/flows.py at exactly its targeted
properties, with the right named mistake. All properties are exact (fail at 1 x tolerance)."""
import ast
import inspect

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import backend, check
from minigen.check import exercise as check_exercise
from minigen.flows.hamiltonian import leapfrog as reference_leapfrog
from minigen.flows.layers import ActNorm, AffineCoupling
from mutants import flows as mutants


def _layer(x, scale_shift, flip):
    """minigen's AffineCoupling with its conditioner replaced by the check's scale_shift."""
    layer = AffineCoupling(x.shape[1], backend.rng(0), hidden=(2,), flip=flip)
    layer._scale_shift = lambda params, x0: scale_shift(x0)
    return layer


def reference_forward(x, scale_shift, flip=False):
    return _layer(x, scale_shift, flip).forward(x)


def reference_inverse(z, scale_shift, flip=False):
    return _layer(z, scale_shift, flip).inverse(z)


def reference_actnorm(x, a, b):
    return ActNorm(x.shape[1]).forward(x, {"a": a, "b": b})


REFERENCES = {"coupling_layer": reference_forward, "coupling_inverse": reference_inverse,
              "actnorm": reference_actnorm, "leapfrog": reference_leapfrog}
CASES = [("coupling_layer", mutants.coupling_forward, mutants.COUPLING_MUTANTS),
         ("coupling_inverse", mutants.coupling_inverse, mutants.INVERSE_MUTANTS),
         ("actnorm", mutants.actnorm_forward, mutants.ACTNORM_MUTANTS),
         ("leapfrog", mutants.leapfrog, mutants.LEAPFROG_MUTANTS)]
MUTANT_CASES = [(name, fn, m, fails, named) for name, fn, table in CASES
                for m, (fails, named) in sorted(table.items())]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name, fn, mistake, fails, named", MUTANT_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in MUTANT_CASES])
def test_each_mutant_fails_exactly_its_properties(name, fn, mistake, fails, named):
    report = check.run(name, mutants.variant(fn, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name, fn", [
    ("coupling_layer", mutants.coupling_forward), ("coupling_layer", mutants.masked_forward),
    ("coupling_inverse", mutants.coupling_inverse), ("coupling_inverse", mutants.masked_inverse),
    ("actnorm", mutants.actnorm_forward), ("actnorm", mutants.actnorm_broadcast),
    ("leapfrog", mutants.leapfrog), ("leapfrog", mutants.leapfrog_merged)])
def test_correct_variants_pass(name, fn):
    report = check.run(name, fn)
    assert report.ok, str(report)


def test_the_reference_leapfrog_has_the_contracts_signature():
    names = list(inspect.signature(reference_leapfrog).parameters)
    assert names == check.find("leapfrog").contract.names


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_skeleton_parses_with_the_contracts_parameters(name):
    ex = check.find(name)
    tree = ast.parse(check.skeleton(name))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert fn.name == ex.contract.function
    assert [a.arg for a in fn.args.args] == ex.contract.names


def test_a_misused_scale_shift_is_an_error_that_says_what_it_takes():
    def wrong(x, scale_shift, flip=False):
        s, t = scale_shift(x)                        # the whole x, not the conditioning half
        return x, s.sum(axis=1)
    report = check.coupling_layer(wrong)
    assert report.exit_code == 2 and "scale_shift takes the conditioning half" in str(report)
    assert "minigen/check" not in str(report)


def test_finite_difference_jacobian_of_a_linear_map_is_its_matrix():
    M = np.array([[2.0, 1.0], [0.5, 3.0]])
    J = check_exercise.jacobians(lambda r: r @ M.T, np.ones((3, 2)), 1e-4)
    assert np.allclose(J, M, atol=1e-9)
