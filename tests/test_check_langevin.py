"""Exercise mode for the Langevin samplers and the replica-exchange swap: minigen's own
implementations pass on every backend; each known-wrong variant of tests/mutants/ fails exactly
its targeted properties with the right named mistake at >= 10 SE; correct variants written
otherwise pass; an unvectorized one is told to vectorize; every named mistake's prediction sits
>= 10 SE (or 2 tolerances) from the correct value."""
import inspect

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import backend, check
from minigen.backend import xp
from minigen.check.exercise import MISTAKE_SE, Context
from minigen.mcmc.langevin import annealed_langevin, langevin, mala
from minigen.mcmc.replica_exchange import swap_neighbours
from mutants import langevin as lm
from mutants import replica_exchange as rm

# check.langevin is the checker of the exercise "langevin" (the package binds each exercise's
# name), so the check modules are taken from check.MODULES
langevin_check, replica_check = check.MODULES["langevin"], check.MODULES["replica_exchange"]
mala_check, annealed_check = check.MODULES["mala"], check.MODULES["annealed_langevin"]
EXERCISES = {ex.name: ex for ex in langevin_check.EXERCISES + mala_check.EXERCISES
             + annealed_check.EXERCISES + replica_check.EXERCISES}


def reference_langevin(score, x0, n_steps, step_size, rng, beta=1.0):
    return langevin(score, x0, n_steps, step_size, rng, beta=beta, progress=False).samples


def reference_mala(log_prob, score, x0, n_steps, step_size, rng):
    return mala(log_prob, score, x0, n_steps, step_size, rng, progress=False).samples


def reference_annealed(score, x0, betas, step_size, rng):
    return annealed_langevin(score, x0, betas, step_size, rng, progress=False).samples


def reference_swap(log_prob, x, betas, rng, parity):
    R, n, d = x.shape
    b = backend.asarray(betas)
    lp = log_prob(x.reshape(R * n, d)).reshape(R, n)
    return swap_neighbours(x, lp, (b[:-1] - b[1:])[:, None], parity, rng, xp.zeros(R - 1))[0]


REFERENCES = {"langevin": (reference_langevin, langevin), "mala": (reference_mala, mala),
              "annealed_langevin": (reference_annealed, annealed_langevin),
              "replica_swap": (reference_swap, None)}
PLAIN = {"langevin": lm.ula, "mala": lm.mala, "annealed_langevin": lm.annealed}
MUTANTS = [(ex, mistake, fails, named, lm.variant(PLAIN[ex], mistake=mistake))
           for ex, table in lm.MUTANTS.items() for mistake, (fails, named) in table.items()]
MUTANTS += [("replica_swap", mistake, fails, named, rm.variant(mistake=mistake))
            for mistake, (fails, named) in rm.MUTANTS.items()]
CORRECT = [("langevin", lm.ula), ("langevin", lm.ula_presampled), ("mala", lm.mala),
           ("mala", lm.variant(lm.mala, order="uniform_first")), ("mala", lm.mala_densities),
           ("annealed_langevin", lm.annealed), ("annealed_langevin", lm.annealed_as_ula_steps),
           ("replica_swap", rm.swap), ("replica_swap", rm.swap_vectorized)]
LOOPS = [("langevin", lm.ula_chain_by_chain), ("mala", lm.mala_chain_by_chain),
         ("annealed_langevin", lm.annealed_chain_by_chain), ("replica_swap", rm.chain_by_chain)]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = EXERCISES[name].run(REFERENCES[name][0])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", ["langevin", "mala", "annealed_langevin"])
def test_the_contract_is_the_references_signature(name):
    params = list(inspect.signature(REFERENCES[name][1]).parameters)
    contract = EXERCISES[name].contract
    assert params[:len(contract.names)] == contract.names
    skeleton = contract.skeleton(name)
    assert f"def {contract.function}({', '.join(contract.params)}):" in skeleton


@pytest.mark.parametrize("name, mistake, fails, named, fn", MUTANTS,
                         ids=[f"{m[0]}-{m[1]}" for m in MUTANTS])
def test_each_mutant_fails_exactly_its_property(name, mistake, fails, named, fn, on_numpy):
    report = EXERCISES[name].run(fn)
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name, fn", CORRECT, ids=[f"{c[0]}-{i}" for i, c in enumerate(CORRECT)])
def test_correct_variants_pass(name, fn, on_numpy):
    report = EXERCISES[name].run(fn)
    assert report.ok, str(report)


@pytest.mark.parametrize("name, fn", LOOPS, ids=[loop[0] for loop in LOOPS])
def test_an_unvectorized_implementation_is_told_to_vectorize(name, fn, on_numpy, small_budget):
    report = EXERCISES[name].run(fn)
    assert report.exit_code == 2
    assert "vectorize over chains" in report["contract"].message
    assert all(r.status == "skipped" for r in report.results[1:])


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_every_named_mistake_sits_10_se_from_the_correct_value(name):
    exercise, fn = EXERCISES[name], REFERENCES[name][0]
    ctx = Context(0, exercise.contract.function)
    for prop in exercise.properties:
        m = prop.measure(fn, ctx)
        expected = np.asarray(m.expected, dtype=float)
        scale = m.tol if m.tol is not None else np.asarray(m.se, dtype=float)
        need = 2.0 if m.tol is not None else MISTAKE_SE
        for mistake, predicted in m.mistakes.items():
            gap = np.max(np.abs(np.asarray(predicted, dtype=float) - expected) / scale)
            assert gap >= need, (prop.name, mistake, gap)


def test_the_ula_bias_and_the_mala_kernel_are_resolved():
    # ULA's stationary variance on N(0, s^2) differs from s^2 by >= 10 SE (the O(h) bias is
    # visible), and the quadrature of the MALA step is a probability law (acceptance in (0, 1))
    v = langevin_check.ula_variance(langevin_check.H_ST, langevin_check.S2_ST)
    se = v * np.sqrt(2 / langevin_check.N_ST)
    assert np.max((v - langevin_check.S2_ST) / se) > MISTAKE_SE
    law = mala_check.mala_step_law(0.7, mala_check.H_MALA)
    assert 0.5 < law[0] < 1 and law[2] > law[1] ** 2
    # the closed form solves v = (1 - h/s2)^2 v + sigma^2 h, and the recursion converges to it
    h, s2, sigma = 0.7, 1.5, 1.3
    v = langevin_check.ula_variance(h, s2, sigma)
    assert abs(v - ((1 - h / s2) ** 2 * v + sigma ** 2 * h)) < 1e-12
    path = langevin_check.ula_variance_path(np.full(200, sigma ** 2 * h), h, s2, 0.0)
    assert abs(path[-1] - v) < 1e-9
    # with a flat-enough target MALA accepts nearly always: E dx^2 -> 2 h
    flat = mala_check.mala_step_law(0.0, 1e-4)
    assert abs(flat[0] - 1) < 1e-3 and abs(flat[2] / 2e-4 - 1) < 1e-2


def test_the_report_names_a_mistake_and_cites_the_equation(on_numpy):
    report = EXERCISES["replica_swap"].run(rm.variant(mistake="inverted"))
    text = str(report)
    assert "ratio inverted" in text and "Eq. (43)" in text
    assert report["invariance"].status == "skipped" and "needs swap_probability" in text
    assert "minigen/mcmc" not in text
