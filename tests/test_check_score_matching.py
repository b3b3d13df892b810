"""Exercise mode for score matching: the closed form of an exponential family (Hyvarinen 2007).

minigen's own score_matching_exponential passes on every backend; each mutant of
tests/mutants/score_matching.py fails exactly its properties (>= 2 x the tolerance) with the
right named mistake; a correct variant written otherwise passes; every named mistake sits far
beyond the tolerance; the check does not import the module it checks."""
import ast
import inspect

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check import score_matching as sm_check
from minigen.check.exercise import Context
from minigen.energy.score_matching import score_matching_exponential
from mutants import score_matching as mutants

NAME = "score_matching_exponential"
CASES = list(mutants.SCORE_MATCHING)


def test_minigen_passes_its_own_check(backend_name):
    report = check.run(NAME, score_matching_exponential)
    assert report.ok, str(report)


def test_the_reference_signature_is_the_contract_and_the_skeleton_too():
    contract = check.find(NAME).contract
    assert contract.signature_problem(score_matching_exponential) is None
    tree = ast.parse(check.skeleton(NAME))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert [a.arg for a in fn.args.args] == contract.names


@pytest.mark.parametrize("mistake", CASES)
def test_each_mutant_fails_exactly_its_properties(mistake, on_numpy):
    student, table = mutants.MUTANTS[NAME]
    fails, named = table[mistake]
    report = check.run(NAME, mutants.variant(student, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("fn", mutants.CORRECT[NAME], ids=lambda f: f.__name__)
def test_correct_variants_pass(fn, on_numpy):
    report = check.run(NAME, fn)
    assert report.ok, str(report)


def test_every_named_mistake_sits_far_beyond_the_tolerance():
    ex = check.find(NAME)
    for prop in ex.properties[1:]:
        m = prop.measure(score_matching_exponential, Context(0, ex.contract.function))
        for mistake, pred in m.mistakes.items():
            z = np.abs(np.asarray(pred) - np.asarray(m.expected)) / m.tol
            assert z.max() > 1e3, (prop.name, mistake, z.max())


def test_the_check_does_not_import_its_subject():
    assert sm_check.CHECKS == "minigen.energy.score_matching"
    tree = ast.parse(inspect.getsource(sm_check))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(m.startswith("minigen.energy") for m in imported), imported
