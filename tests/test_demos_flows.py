"""The flow demos run end to end in --quick mode and write their figure."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name", ["coupling_flow", "latent_interpolation", "hamiltonian_flow"])
def test_demo_quick(name, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, os.path.join("demos", f"{name}.py"), "--quick", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, env=env)
    assert (tmp_path / f"{name}.png").exists()
