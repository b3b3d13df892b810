"""The progress bar: what it prints, when it stays silent, and that trainers and samplers draw it.

A fake clock (one second per reading) replaces the real one, so no test depends on how fast it runs.
"""
import itertools

import pytest

from minigen import backend, nn, progress
from minigen.backend import xp
from minigen.distributions import polygon_blobs
from minigen.mcmc import langevin


@pytest.fixture
def clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(progress.time, "perf_counter", lambda: float(next(ticks)))


def test_bar_shows_step_loss_rate_and_time_left(clock, capsys):
    bar = progress.Bar(4, "demo", progress=True, delay=0.0, every=0.0)
    for step in range(4):
        bar.update(step, loss=0.5 / (step + 1))
    bar.close()
    err = capsys.readouterr().err
    lines = err.split("\r")
    assert all(part in lines[2] for part in ["demo  2/4", "loss 0.25", "steps/s", "left"])
    assert "4/4 [========================]" in lines[-1] and lines[-1].endswith("s)\n")


def test_bar_is_silent_when_off_and_before_the_delay(clock, capsys):
    bar = progress.Bar(3, "x", progress=False, delay=0.0)
    for step in range(3):
        bar.update(step, 1.0)
    bar.close()
    quick = progress.Bar(3, "y", progress=True, delay=100.0)
    for step in range(3):
        quick.update(step, 1.0)
    quick.close()
    assert capsys.readouterr().err == ""


def test_default_follows_the_terminal(monkeypatch):
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.delitem(progress.sys.modules, "ipykernel", raising=False)
    assert not progress.Bar(3, "x").on
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: True, raising=False)
    assert progress.Bar(3, "x").on


def test_training_and_sampling_draw_the_bar(clock, capsys):
    params = nn.init_mlp([1, 4, 1], backend.rng(0))
    x = backend.rng(1).standard_normal((16, 1))
    nn.train(lambda p, s: xp.mean(nn.mlp(p, x) ** 2), params, 5, progress=True, name="fit")
    assert "fit  5/5" in capsys.readouterr().err
    nn.train(lambda p, s: xp.mean(nn.mlp(p, x) ** 2), params, 5, progress=False)
    target = polygon_blobs(4, 2.0, 0.5)
    langevin(target.score, x[:, [0, 0]], 6, 0.05, backend.rng(2), progress=True)
    err = capsys.readouterr().err
    assert "fit" not in err and "ULA  6/6" in err
