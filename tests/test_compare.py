"""benchmarks/compare.py runs end to end with --quick: a Markdown table with one row per model
(and the fresh-true-samples row), and a non-trivial PNG. No quality or time bound: --quick trains
30 steps per model, whose numbers mean nothing."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = ["fresh true samples", "denoiser + reverse SDE", "coupling flow", "Hamiltonian flow",
        "GAN (non-saturating)", "WGAN-GP"]


def _run(*flags):
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, os.path.join("benchmarks", "compare.py"), *flags],
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=path),
                          capture_output=True, text=True)


def _table(stdout):
    """The Markdown table's rows (header and separator left out) as lists of cells."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_quick_run_prints_one_row_per_model_and_writes_the_figure(tmp_path):
    run = _run("--quick", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr[-3000:]
    rows = _table(run.stdout)
    # a table that dropped or doubled a model, or lost a column, fails here
    assert [r[0] for r in rows] == ROWS, run.stdout
    assert all(len(r) == 10 for r in rows), run.stdout
    # a likelihood only where one is defined: the truth, the coupling flow, the Hamiltonian bound
    assert [r[1] == "–" for r in rows] == [False, True, False, False, True, True], run.stdout
    assert rows[3][1].startswith("≤"), rows[3]
    assert (tmp_path / "model_comparison.png").stat().st_size > 10_000


def test_models_runs_the_subset_asked_for(tmp_path):
    run = _run("--quick", "--models", "gan,wgan-clip", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r[0] for r in _table(run.stdout)] == [ROWS[0], ROWS[4], "WGAN, weight clipping"]


def test_unknown_model_is_refused_before_training():
    run = _run("--quick", "--models", "gan,nosuchmodel")
    assert run.returncode == 2 and "nosuchmodel" in run.stderr, run.stderr[-3000:]
