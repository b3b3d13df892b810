"""The score-diffusion demos run end to end in --quick mode and write their figure."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name", ["ou_paths", "forward_reverse_diffusion", "tweedie_denoising", "score_diffusion"])
def test_demo_runs_quick(name, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, os.path.join("demos", f"{name}.py"), "--quick", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / f"{name}.png").exists()
