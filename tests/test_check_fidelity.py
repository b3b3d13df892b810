"""Exercise mode for improved precision and recall: minigen's precision_recall passes its check on
every backend; each mutant of tests/mutants/fidelity.py fails exactly its properties (>= 2 x the
tolerance from the correct answer) with the right named mistake; correct variants written
otherwise pass; and the check's own oracle gives the values worked out by hand."""
import inspect

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check, metrics
from minigen.check import fidelity as pr_check
from mutants import fidelity as mutants


def test_minigen_passes_its_own_check(backend_name):
    report = check.run("precision_recall", metrics.precision_recall)
    assert report.ok, str(report)
    assert report.exit_code == 0


def test_the_reference_signature_is_the_contract():
    contract = check.find("pr").contract
    params = inspect.signature(metrics.precision_recall).parameters
    assert list(params) == contract.names
    assert [f"{n}={params[n].default!r}" for n in params
            if params[n].default is not inspect.Parameter.empty] == ["k=5"]


@pytest.mark.parametrize("mistake", sorted(mutants.MUTANTS))
@pytest.mark.usefixtures("on_numpy")
def test_each_mutant_fails_exactly_its_properties(mistake):
    fails, named = mutants.MUTANTS[mistake]
    report = check.run("precision_recall", mutants.variant(mistake=mistake))
    assert_fails_exactly(report, fails, named, where="every")
    assert all(r.unit == "tol" for r in report if r.name in fails), str(report)


@pytest.mark.parametrize("fn", mutants.CORRECT, ids=lambda f: f.__name__)
@pytest.mark.usefixtures("on_numpy")
def test_correct_variants_pass(fn):
    report = check.run("precision_recall", fn)
    assert report.ok, str(report)


@pytest.mark.usefixtures("on_numpy")
def test_a_function_returning_one_number_or_counts_is_told_so():
    one = check.run("pr", lambda real, fake, k=5: 0.5)
    assert one["contract"].status == "error" and "two numbers" in one["contract"].message

    def counts(real, fake, k=5):
        p, r = mutants.precision_recall(real, fake, k)
        return p * len(fake), r * len(real)
    report = check.run("pr", counts)
    assert report["contract"].status == "error" and "[0, 1]" in report["contract"].message


def test_skeleton_follows_the_contract():
    namespace = {}
    exec(compile(check.skeleton("pr"), "skeleton.py", "exec"), namespace)   # noqa: S102
    assert check.run("pr", namespace["precision_recall"]).exit_code == 2     # NotImplementedError


# ------------------------------------------------------------------ the oracle itself

HAND_TIES = {   # label -> (precision, recall), worked out in the comments of minigen.check.fidelity
    "fake on real spheres": (2 / 3, 1.0),
    "real on fake spheres": (1.0, 2 / 3),
    "duplicated real point": (2 / 3, 1 / 2),
    # k = 1: (0, 5), (3, -4), (9, 12), (-6, 8) at distance 5 of a real point of radius 5,
    # (20, 20) far; every real point lies within 6.7 of (0, 5) (the radius of (0, 5))
    "3-4-5 triangles in 2-D": (4 / 5, 1.0),
}


def test_the_oracle_gives_the_hand_values():
    real, fake = pr_check.HAND
    assert pr_check.exact(real, fake, 1) == pytest.approx((1 / 2, 3 / 4), abs=1e-15)
    assert pr_check.exact(real, fake, 2) == pytest.approx((3 / 4, 1.0), abs=1e-15)
    for label, real, fake, k in pr_check.TIES:
        if label in HAND_TIES:
            assert pr_check.exact(real, fake, k) == pytest.approx(HAND_TIES[label], abs=1e-15)
    # the strict mistake: only (0, 5) is strictly inside a ball (3.2 from (3, 4)) in 2-D
    _, real, fake, k = pr_check.TIES[3]
    assert pr_check.exact(real, fake, k, strict=True)[0] == pytest.approx(1 / 5)


def test_every_named_mistake_changes_some_answer():
    # a named mistake that agreed with the correct answer on every case could not be named
    cases = pr_check._random_cases(type("Ctx", (), {"seed": 0})) + pr_check.TIES
    for name, flags in pr_check.MISTAKES.items():
        assert any(not np.allclose(pr_check.exact(r, f, k, **flags), pr_check.exact(r, f, k))
                   for _, r, f, k in cases), name
