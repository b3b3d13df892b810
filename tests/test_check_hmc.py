"""Exercise mode for HMC: minigen's hmc passes its own check on every backend; each known-wrong
variant of tests/mutants/hmc.py fails exactly its targeted properties with the right named
mistake at >= 10 SE; correct variants written otherwise pass; an unvectorized one is told to
vectorize; every named mistake's prediction sits >= 10 SE from the correct value; the
quadratures behind the oracles are converged and agree with a brute-force simulation."""
import inspect

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check.exercise import MISTAKE_SE, Context
from minigen.mcmc.hmc import hmc
from mutants import hmc as hm

hmc_check = check.MODULES["hmc"]
EXERCISE = hmc_check.EXERCISES[0]


def reference(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng):
    return hmc(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng, progress=False).samples


MUTANTS = [(mistake, fails, named, hm.variant(hm.hmc, mistake=mistake))
           for mistake, (fails, named) in hm.MUTANTS.items()]
CORRECT = [hm.hmc, hm.variant(hm.hmc, order="uniform_first"), hm.hmc_hamiltonian]


def test_minigen_passes_its_own_check(backend_name):
    report = EXERCISE.run(reference)
    assert report.ok, str(report)


def test_the_contract_is_the_references_signature():
    params = list(inspect.signature(hmc).parameters)
    assert params[:len(EXERCISE.contract.names)] == EXERCISE.contract.names
    assert "def hmc(log_prob, score, x0, n_steps, step_size, n_leapfrog, rng):" in \
        check.skeleton("hmc")
    assert check.find("hamiltonian_monte_carlo") is EXERCISE


@pytest.mark.parametrize("mistake, fails, named, fn", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_each_mutant_fails_exactly_its_property(mistake, fails, named, fn, on_numpy):
    assert_fails_exactly(EXERCISE.run(fn), fails, named)


@pytest.mark.parametrize("fn", CORRECT, ids=["plain", "uniform_first", "hamiltonian"])
def test_correct_variants_pass(fn, on_numpy):
    report = EXERCISE.run(fn)
    assert report.ok, str(report)


def test_an_unvectorized_implementation_is_told_to_vectorize(on_numpy, small_budget):
    report = EXERCISE.run(hm.hmc_chain_by_chain)
    assert report.exit_code == 2
    assert "vectorize over chains" in report["contract"].message


def test_every_named_mistake_sits_10_se_from_the_correct_value():
    ctx = Context(0, EXERCISE.contract.function)
    for prop in EXERCISE.properties:
        m = prop.measure(reference, ctx)
        expected = np.asarray(m.expected, dtype=float)
        scale = m.tol if m.tol is not None else np.asarray(m.se, dtype=float)
        need = 2.0 if m.tol is not None else MISTAKE_SE
        for mistake, predicted in m.mistakes.items():
            gap = np.max(np.abs(np.asarray(predicted, dtype=float) - expected) / scale)
            assert gap >= need, (prop.name, mistake, gap)


def test_the_quadratures_are_converged_and_match_a_simulation():
    # the nested two-step quadrature moves by < 1e-4 on a 2x finer grid (its SEs are ~5e-3)
    for x in (0.0, 0.7, 1.5):
        coarse = hmc_check.two_step_law(x)
        fine = hmc_check.two_step_law(x, None, 2001, 401)
        assert np.max(np.abs(coarse - fine)) < 1e-4
    # one step from x = 0.7 simulated by brute force with the check's own flow (2.5 10^5
    # momenta; the deviations are 0.3 and 0.4 SE)
    n = 250_000
    g = np.random.default_rng(0)
    p, u = g.standard_normal(n), g.random(n)
    a, y = hmc_check.accept_prob(0.7, p)
    dx = np.where(u < a, y - 0.7, 0.0)
    law = hmc_check.step_law(0.7)
    assert abs(np.mean(u < a) - law[0]) < 5 * np.sqrt(law[0] * (1 - law[0]) / n)
    assert abs(dx.mean() - law[1]) < 5 * dx.std() / np.sqrt(n)
    # the momentum must be a fresh draw: keeping it moves E x_2^2 at x_0 = 0 by a factor ~30
    fresh, kept = hmc_check.two_step_law(0.0), hmc_check.two_step_law(0.0, "no_refresh")
    assert fresh[1] > 10 * kept[1]


def test_the_report_names_the_kinetic_energy_and_cites_the_leapfrog(on_numpy):
    text = str(EXERCISE.run(hm.variant(hm.hmc, mistake="no_kinetic")))
    assert "kinetic energy forgotten" in text and "Eq. (12)" in text
    assert "needs acceptance" in text and "minigen/mcmc" not in text
