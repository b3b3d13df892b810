"""Exercise mode for the 1D Fokker-Planck solver: minigen's fokker_planck_1d passes on every
backend; each mutant of tests/mutants/fokker_planck.py fails exactly its properties (>= 2 x the
tolerance) with the right named mistake; correct variants written otherwise pass."""
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.transport.fokker_planck import fokker_planck_1d
from mutants import fokker_planck as mutants


def reference(drift, sigma, p0, grid, times):
    return fokker_planck_1d(drift, sigma, p0, grid, times, dt=2e-3)


CASES = sorted(mutants.FOKKER_PLANCK)


def test_minigen_passes_its_own_check(backend_name):
    report = check.run("fokker_planck_1d", reference)
    assert report.ok, str(report)


def test_the_reference_signature_is_the_contract():
    assert check.find("fokker_planck_1d").contract.signature_problem(fokker_planck_1d) is None


@pytest.mark.parametrize("mistake", CASES)
def test_each_mutant_fails_exactly_its_properties(mistake, on_numpy):
    fails, named = mutants.FOKKER_PLANCK[mistake]
    report = check.run("fokker_planck_1d", mutants.variant(mutants.fokker_planck_1d,
                                                           mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("fn", mutants.CORRECT["fokker_planck_1d"],
                         ids=lambda f: f.__name__)
def test_correct_variants_pass(fn, on_numpy):
    report = check.run("fokker_planck_1d", fn)
    assert report.ok, str(report)
