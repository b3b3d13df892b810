"""Exercise mode for conditional flow matching: the loss x_t = t x_1 + (1 - t) x_0,
|V(x_t, t) - (x_1 - x_0)|^2.

minigen's own conditional_flow_loss passes on every backend; each mutant of
tests/mutants/flow_matching.py fails exactly its properties (>= 10 SE, or >= 2 x the tolerance)
with the right named mistake; correct variants written otherwise pass; every named mistake of the
Bayes-floor property sits >= 10 SE from the correct behaviour."""
import ast

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check import flow_matching as fm_check
from minigen.check.exercise import MISTAKE_SE, Context
from minigen.transport.flow_matching import conditional_flow_loss
from mutants import flow_matching as mutants

NAME = "conditional_flow_loss"
CASES = sorted(mutants.CONDITIONAL_FLOW_LOSS)


def test_minigen_passes_its_own_check(backend_name):
    report = check.run(NAME, conditional_flow_loss)
    assert report.ok, str(report)


def test_the_reference_signature_is_the_contract_and_the_skeleton_too():
    contract = check.find(NAME).contract
    assert contract.signature_problem(conditional_flow_loss) is None
    tree = ast.parse(check.skeleton(NAME))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert [a.arg for a in fn.args.args] == contract.names
    assert check.find("cfm") is check.find(NAME)


@pytest.mark.parametrize("mistake", CASES)
def test_each_mutant_fails_exactly_its_properties(mistake, on_numpy):
    fails, named = mutants.CONDITIONAL_FLOW_LOSS[mistake]
    report = check.run(NAME, mutants.variant(mutants.conditional_flow_loss, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("fn", mutants.CORRECT[NAME], ids=lambda f: f.__name__)
def test_correct_variants_pass(fn, on_numpy):
    report = check.run(NAME, fn)
    assert report.ok, str(report)


def test_a_student_returning_the_mean_is_told_the_shape(on_numpy):
    def mean_loss(velocity, x0, x1, t):
        return mutants.conditional_flow_loss(velocity, x0, x1, t).mean()
    report = check.run(NAME, mean_loss)
    assert report.exit_code == 2 and "shape" in report["contract"].message, str(report)


def test_every_named_mistake_sits_10_se_from_the_correct_behaviour():
    prop = next(p for p in check.find(NAME).properties if p.name == "bayes_floor")
    m = prop.measure(conditional_flow_loss, Context(0, NAME))
    for mistake, predicted in m.mistakes.items():
        assert abs(predicted - m.expected) / m.se >= MISTAKE_SE, (mistake, predicted, m.se)


def test_the_check_oracle_is_the_marginal_velocity_of_the_shared_oracle(on_numpy):
    from oracles import mixture_flow_velocity
    means, stds, weights = fm_check.MIXTURE
    g = np.random.default_rng(0)
    x = 2 * g.standard_normal((30, 2))
    for t in (0.05, 0.5, 0.95):
        V, _ = fm_check.marginal(x, np.full(30, t))
        np.testing.assert_allclose(V, mixture_flow_velocity(means, stds, weights)(x, t),
                                   rtol=1e-10, atol=1e-12)
