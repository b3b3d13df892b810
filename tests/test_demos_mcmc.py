"""Every Markov-chain demo runs in --quick mode and writes its figure."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMOS = ["markov_chain_convergence", "metropolis_multimodal", "replica_exchange", "langevin_double_well"]


@pytest.mark.parametrize("name", DEMOS)
def test_demo_runs_quick(name, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, os.path.join("demos", f"{name}.py"), "--quick", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, env=env, capture_output=True)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
