"""Exercise mode for score diffusion: ou_sample, ou_euler_step, reverse_sde, tweedie_denoise.

minigen's own functions (wrapped to the contracts) pass on every backend; each mutant of
tests/mutants/diffusion.py fails exactly its properties (>= 10 SE, or >= 2 x the tolerance) with
the right named mistake; correct variants written otherwise pass; every named mistake sits >= 10 SE
from the correct behaviour; the reverse check's grid keeps the Euler bias below 1 SE."""
import ast
import math

import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.check import reverse as reverse_check
from minigen.check.exercise import MISTAKE_SE, Context
from minigen.diffusion.ornstein_uhlenbeck import ou_paths, ou_sample
from minigen.diffusion.reverse import reverse_sde
from minigen.diffusion.tweedie import tweedie_denoise
from mutants import diffusion as mutants


def reference_euler_step(x, dt, rng, kappa=1.0, sigma=math.sqrt(2.0)):
    return ou_paths(x, [0.0, dt], rng, kappa=kappa, sigma=sigma)[1]      # one Euler step


def reference_reverse_sde(score, x_T, times, rng, alpha=1.0):
    return reverse_sde(score, x_T, times, rng, alpha=alpha, progress=False)


REFERENCES = {"ou_sample": ou_sample, "ou_euler_step": reference_euler_step,
              "reverse_sde": reference_reverse_sde, "tweedie_denoise": tweedie_denoise}
CASES = [(ex, mistake) for ex, (_, table) in mutants.MUTANTS.items() for mistake in table]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_the_reference_signature_is_the_contract_and_the_skeleton_too(name):
    contract = check.find(name).contract
    assert contract.signature_problem(REFERENCES[name]) is None
    tree = ast.parse(check.skeleton(name))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert [a.arg for a in fn.args.args] == contract.names


@pytest.mark.parametrize("name,mistake", CASES, ids=[f"{e}-{m}" for e, m in CASES])
def test_each_mutant_fails_exactly_its_properties(name, mistake, on_numpy):
    student, table = mutants.MUTANTS[name]
    fails, named = table[mistake]
    report = check.run(name, mutants.variant(student, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name", sorted(mutants.REFUSED))
def test_random_numbers_not_drawn_from_rng_are_an_error(name, on_numpy):
    student, _ = mutants.MUTANTS[name]
    for mistake, message in mutants.REFUSED[name].items():
        report = check.run(name, mutants.variant(student, mistake=mistake))
        assert report.exit_code == 2 and message in report["contract"].message, str(report)


@pytest.mark.parametrize("name,fn", [(e, f) for e, fs in mutants.CORRECT.items() for f in fs],
                         ids=[f"{e}-{f.__name__}" for e, fs in mutants.CORRECT.items()
                              for f in fs])
def test_correct_variants_pass(name, fn, on_numpy):
    report = check.run(name, fn)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(mutants.LOOPS))
def test_a_loop_over_points_passes_when_the_check_stays_short(name, on_numpy):
    # one exact draw per point: a Python loop costs ~1 s for the whole check, under the pilot's
    # 10 s budget, so it is a correct variant, not a refusal
    report = check.run(name, mutants.LOOPS[name])
    assert report.ok, str(report)


def test_an_unvectorized_reverse_sde_is_told_to_vectorize(on_numpy, small_budget):
    report = check.run("reverse_sde", mutants.UNVECTORIZED["reverse_sde"])
    assert report.exit_code == 2
    assert "vectorize over chains" in report["contract"].message
    assert all(r.status == "skipped" for r in report.results[1:])


def separations(name):
    """mistake -> its largest distance from the correct expectation over the exercise's
    properties, in units of what a test demands: MISTAKE_SE standard errors for a statistical
    property, 2 tolerances for an exact one (measured on minigen's function)."""
    ex = check.find(name)
    out = {}
    for prop in ex.properties:
        m = prop.measure(REFERENCES[name], Context(0, ex.contract.function))
        scale, demand = (m.tol, 2.0) if m.tol is not None else (np.asarray(m.se, float),
                                                               MISTAKE_SE)
        for mistake, pred in m.mistakes.items():
            z = np.abs(np.asarray(pred, float) - np.asarray(m.expected, float)) / scale
            key = mistake.split(", or ")[0]
            out[key] = max(out.get(key, 0.0), float(np.max(z)) / demand)
    return out


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_every_named_mistake_sits_10_se_from_the_correct_behaviour(name):
    seps = separations(name)
    assert seps and min(seps.values()) >= 1.0, seps


@pytest.mark.parametrize("alpha", [1.0, 0.0, reverse_check.ALPHA_MID])
def test_the_reverse_grid_keeps_the_euler_bias_below_one_se(alpha):
    # the Euler-Maruyama scheme's exact law at t_min (moment recursion) against p_{t_min}:
    # SE of a mean sqrt(v / N), of a log variance sqrt(2 / (N - 1))
    mu, var = reverse_check.scheme_law(reverse_check.TIMES, alpha)
    t, n = reverse_check.T_MIN, reverse_check.N
    v = reverse_check.variance(t)
    assert np.all(np.abs(mu - reverse_check.mean(t)) / math.sqrt(v / n) < 1.0)
    assert abs(math.log(var / v)) / math.sqrt(2 / (n - 1)) < 1.0
    # the recursion is exact: with the grid refined 8 times the bias shrinks ~8 times (order 1)
    fine = np.exp(np.linspace(math.log(reverse_check.T), math.log(t),
                              8 * reverse_check.N_STEPS + 1))
    mu8, var8 = reverse_check.scheme_law(fine, alpha)
    assert abs(math.log(var8 / v)) < 0.2 * abs(math.log(var / v))


