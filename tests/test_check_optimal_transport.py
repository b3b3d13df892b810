"""Exercise mode for optimal transport: sinkhorn and wasserstein_1d.

minigen's own functions (wrapped to the contracts) pass on every backend; each mutant of
tests/mutants/optimal_transport.py fails exactly its properties (>= 2 x the tolerance) with the
right named mistake; correct variants written otherwise pass; the check never imports the module
it checks."""
import ast
import inspect

import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check import optimal_transport as ot_check
from minigen.transport import optimal_transport as ot
from mutants import optimal_transport as mutants


def reference_sinkhorn(a, b, cost, eps):
    return ot.sinkhorn(a, b, cost, eps, tol=1e-10).plan


def reference_wasserstein_1d(x, y, p):
    return ot.wasserstein_1d(x, y, p)


REFERENCES = {"sinkhorn": reference_sinkhorn, "wasserstein_1d": reference_wasserstein_1d}
CASES = [(ex, mistake) for ex, (_, table) in mutants.MUTANTS.items() for mistake in table]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_the_reference_signature_is_the_contract_and_the_skeleton_too(name):
    contract = check.find(name).contract
    assert contract.signature_problem(REFERENCES[name]) is None
    assert contract.signature_problem(getattr(ot, name)) is None
    tree = ast.parse(check.skeleton(name))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert [a.arg for a in fn.args.args] == contract.names


@pytest.mark.parametrize("name,mistake", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_each_mutant_fails_exactly_its_properties(name, mistake, on_numpy):
    student, table = mutants.MUTANTS[name]
    fails, named = table[mistake]
    report = check.run(name, mutants.variant(student, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name,fn", [(e, f) for e, fs in mutants.CORRECT.items() for f in fs],
                         ids=[f"{e}-{f.__name__}" for e, fs in mutants.CORRECT.items()
                              for f in fs])
def test_correct_variants_pass(name, fn, on_numpy):
    report = check.run(name, fn)
    assert report.ok, str(report)


def test_the_check_does_not_import_the_module_it_checks():
    assert ot_check.CHECKS == "minigen.transport.optimal_transport"
    assert "minigen.transport" not in inspect.getsource(ot_check).replace(
        'CHECKS = "minigen.transport.optimal_transport"', "")
