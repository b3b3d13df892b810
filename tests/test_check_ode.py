"""Exercise mode for the ODE module: the checks of RK4 and of Hutchinson's divergence pass
minigen's own integrate and divergence (on every backend) and correct variants written otherwise,
and fail each known-wrong variant of tests/mutants/ode.py at exactly its targeted properties,
with the right named mistake."""
import ast

import pytest

from conftest import assert_fails_exactly
from minigen import check, ode
from mutants import ode as mutants


def reference_rk4(velocity, x0, times):
    return ode.integrate(velocity, x0, times, "rk4")


def reference_hutchinson(jvp, x, n_probes, rng):
    # jvp is linear in v: as a velocity y -> jvp(y), its Jacobian at every point is J
    return ode.divergence(lambda y, t: jvp(y), x, 0.0, rng, n_probes)


REFERENCES = {"rk4": reference_rk4, "hutchinson": reference_hutchinson}
CASES = [("rk4", mutants.rk4, mutants.RK4_MUTANTS),
         ("hutchinson", mutants.hutchinson_divergence, mutants.HUTCHINSON_MUTANTS)]
MUTANT_CASES = [(name, fn, m, fails, named) for name, fn, table in CASES
                for m, (fails, named) in sorted(table.items())]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_minigen_passes_its_own_check(name, backend_name):
    report = check.run(name, REFERENCES[name])
    assert report.ok, str(report)


@pytest.mark.parametrize("name, fn, mistake, fails, named", MUTANT_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in MUTANT_CASES])
def test_each_mutant_fails_exactly_its_properties(name, fn, mistake, fails, named, on_numpy):
    report = check.run(name, mutants.variant(fn, mistake=mistake))
    assert_fails_exactly(report, fails, named)


@pytest.mark.parametrize("name, fn", [("rk4", mutants.rk4), ("rk4", mutants.rk4_tableau),
                                      ("hutchinson", mutants.hutchinson_divergence),
                                      ("hutchinson", mutants.hutchinson_stacked)])
@pytest.mark.parametrize("seed", [0, 1])
def test_correct_variants_pass(name, fn, seed, on_numpy):
    report = check.run(name, fn, seed=seed)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_skeleton_parses_with_the_contracts_parameters(name):
    ex = check.find(name)
    tree = ast.parse(check.skeleton(name))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    assert fn.name == ex.contract.function
    assert [a.arg for a in fn.args.args] == ex.contract.names


def test_a_point_by_point_hutchinson_is_told_to_vectorize(small_budget, on_numpy):
    import numpy as np

    def slow(jvp, x, n_probes, rng):
        out = np.zeros(len(x))
        for i in range(len(x)):                    # one jvp call per point: refused
            z = rng.choice([-1.0, 1.0], size=x.shape)
            out[i] = np.sum(z[i] * jvp(z)[i])
        return out
    report = check.hutchinson(slow)
    assert report.exit_code == 2 and "vectorize over points" in str(report)


def test_a_misused_velocity_is_an_error_that_says_what_it_takes(on_numpy):
    def wrong(velocity, x0, times):
        return velocity(x0[0], times[0])           # one point, not the (n, d) array
    report = check.rk4(wrong)
    assert report.exit_code == 2 and "velocity takes an (n, 2) array" in str(report)
    assert "minigen/check" not in str(report)
