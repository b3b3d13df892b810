"""Each demo in demos/ runs end to end with --quick and writes its figure (a non-trivial PNG).

The demos run in this process (as ``__main__``, with their own command line): a fresh interpreter
per demo would spend about a second importing numpy, autograd and matplotlib each time. One demo
also runs as a separate command, the way a student starts it.
"""
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest

from minigen import backend

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
def test_demo_runs_quick(name, tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    demo = os.path.join(ROOT, "demos", f"{name}.py")
    monkeypatch.setattr(sys, "argv", [demo, "--quick", "--out", str(tmp_path)])
    previous = backend.get_backend(), np.dtype(backend.float_dtype()).name
    try:
        runpy.run_path(demo, run_name="__main__")
    finally:
        plt.close("all")
        backend.set_backend(*previous)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_a_demo_runs_as_a_command(tmp_path):
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    run = subprocess.run([sys.executable, os.path.join("demos", "concentration.py"), "--quick",
                          "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "concentration.png").stat().st_size > 10_000
