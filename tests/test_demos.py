"""Each demo in demos/ runs end to end with --quick and writes its figure (a non-trivial PNG)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "demos"))
               if f.endswith(".py") and f != "run_all.py")


def test_every_room_has_its_demos():
    expected = {"markov_chain_convergence", "metropolis_multimodal", "replica_exchange",
                "langevin_double_well",
                "ou_paths", "forward_reverse_diffusion", "tweedie_denoising", "score_diffusion",
                "coupling_flow", "latent_interpolation", "hamiltonian_flow",
                "gan_blobs", "wgan_blobs", "optimal_discriminator", "js_vs_wasserstein",
                "concentration", "memorization", "mode_collapse",
                "ode_transport", "optimal_transport", "fokker_planck", "phi4",
                "energy_max_likelihood", "score_matching", "energy_neural", "vae",
                "conditional_gan", "flow_matching"}
    assert expected <= set(DEMOS)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_runs_quick(name, tmp_path):
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    demo = os.path.join("demos", f"{name}.py")
    run = subprocess.run([sys.executable, demo, "--quick", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
