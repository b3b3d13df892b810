"""Exercise mode for the maximum-likelihood gradient (Eq. 32): minigen's own PCD surrogate passes
on every backend; each known-wrong variant of tests/mutants/pcd.py fails exactly its targeted
properties with the right named mistake at >= 10 SE; a correct variant written otherwise passes;
every named mistake's prediction sits >= 10 SE from the correct value."""
import autograd
import numpy as np
import pytest

from conftest import assert_fails_exactly
from minigen import check
from minigen.backend import xp
from minigen.check.exercise import MISTAKE_SE, Context
from minigen.energy import pcd
from mutants import pcd as pm

pcd_check = check.MODULES["pcd"]
EXERCISE = pcd_check.EXERCISES[0]


def reference(grad_energy, theta, data, chains):
    """minigen's PCD surrogate (energy.pcd.pcd_loss) for U = theta . Phi, differentiated."""
    def energy(t, x):
        return grad_energy(theta, x) @ t                               # linear in theta
    return autograd.grad(lambda t: pcd.pcd_loss(energy, t, data, chains, 0.0))(theta)


def test_reference_passes_on_every_backend(backend_name):
    report = EXERCISE.run(reference)
    assert report.ok, str(report)


@pytest.mark.parametrize("fn", [pm.pcd_gradient, pm.pcd_gradient_stacked])
def test_correct_variants_pass(on_numpy, fn):
    report = EXERCISE.run(fn)
    assert report.ok, str(report)


@pytest.mark.parametrize("mistake", sorted(pm.MUTANTS))
def test_each_mistake_fails_exactly_its_properties(on_numpy, mistake):
    fails, named = pm.MUTANTS[mistake]
    assert_fails_exactly(EXERCISE.run(pm.variant(mistake)), fails, named)


def test_named_mistakes_sit_far_from_the_truth(on_numpy):
    ctx = Context(0, "pcd_gradient")
    for measure in (pcd_check.pcd_gradient_value, pcd_check.pcd_vanishes_at_mle):
        m = measure(pm.pcd_gradient, ctx)
        for name, predicted in m.mistakes.items():
            assert float(np.max(m.deviations(predicted))) >= MISTAKE_SE, name


def test_grid_sampler_matches_its_quadrature(on_numpy):
    """The oracle's own exact chains: their mean Phi is E_theta Phi within 5 SE."""
    theta = pcd_check.THETA
    y = pcd_check.exact_chains(theta, np.random.default_rng(0), 40_000)
    mean, cov = pcd_check.model_moments(theta)
    z = (pcd_check.features(y).mean(0) - mean) / np.sqrt(np.diag(cov) / len(y))
    assert np.max(np.abs(z)) < 5, z


def test_wrong_shape_is_an_error(on_numpy):
    report = EXERCISE.run(lambda grad_energy, theta, data, chains: xp.zeros(3))
    assert [r.status for r in report][0] == "error", str(report)
