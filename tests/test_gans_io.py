"""Saving and loading GANs and WGANs: the round trip is exact (same samples from the same seeded
rng, same discriminator / critic values, same history), on every backend, and from the CuPy
stand-in to NumPy; another model is told apart (the power of the check)."""
import numpy as np
import pytest
from conftest import host

from minigen import backend, io
from minigen.distributions import polygon_blobs
from minigen.gans import GAN, WGAN, gan, wgan

KINDS = ["gan", "wgan-gp", "wgan-clip"]


def _data():
    return 3.0 + polygon_blobs(4, 2.0, 0.3).sample(300, backend.rng(0))


def _train(kind, seed=1, activation="tanh"):
    # settings away from the defaults, so that a setting the file forgets shows
    kw = dict(n_steps=12, hidden=(16,), batch_size=32, n_snapshots=3, activation=activation,
              latent_dim=3)
    if kind == "gan":
        return gan.train_gan(_data(), backend.rng(seed), loss="minimax", **kw)
    return wgan.train_wgan(_data(), backend.rng(seed), lipschitz=kind[5:], n_critic=2, **kw)


def _outputs(model):
    """Host copies of what a model computes: samples for a seeded rng, G(z) on fixed z, D or f."""
    x = backend.asarray(backend.to_numpy(_data())[:50])
    z = backend.asarray(np.random.default_rng(5).standard_normal((40, model.latent_dim)))
    adversary = model.discriminator(x) if isinstance(model, GAN) else model.critic(x)
    return {"sample": host(model.sample(64, backend.rng(7))), "generate": host(model.generate(z)),
            "adversary": host(adversary), "mean": host(model.mean)}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _assert_same_history(h, g):
    assert h.keys() == g.keys()
    for k in h:
        if k == "snapshots":
            assert [s for s, _ in h[k]] == [s for s, _ in g[k]]
            for (_, a), (_, b) in zip(h[k], g[k]):
                np.testing.assert_array_equal(host(a), host(b))
        else:
            assert h[k] == g[k], k


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_is_exact(backend_name, kind, tmp_path):
    model = _train(kind)
    path = model.save(tmp_path / f"{kind}.npz")
    loaded = io.load(path)
    assert type(loaded) is type(model) and loaded is not model
    assert (loaded.latent_dim, loaded.scale, loaded.activation) == \
        (model.latent_dim, model.scale, model.activation)
    _assert_same(_outputs(loaded), _outputs(model))
    _assert_same_history(loaded.history, model.history)
    assert len(loaded.history["step"]) == 12 and len(loaded.history["snapshots"]) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_saved_on_the_cupy_stand_in_loads_on_numpy(kind, tmp_path):
    backend.set_backend("fakecupy")
    try:
        model = _train(kind)
        io.save(model, tmp_path / f"{kind}.npz")
        before, history = _outputs(model), model.history
    finally:
        backend.set_backend("numpy")
    loaded = io.load(tmp_path / f"{kind}.npz")
    assert isinstance(loaded.mean, np.ndarray)
    _assert_same(_outputs(loaded), before)
    _assert_same_history(loaded.history, history)


@pytest.mark.parametrize("kind", KINDS)
def test_another_model_is_told_apart(kind, tmp_path):
    model = _train(kind)
    io.save(model, tmp_path / "m.npz")
    loaded = io.load(tmp_path / "m.npz")
    for other in (_train(kind, seed=2), _train(kind, activation="leaky_relu")):
        with pytest.raises(AssertionError):
            _assert_same(_outputs(other), _outputs(loaded))


def test_the_file_holds_no_pickle_and_both_kinds_are_registered(tmp_path):
    path = _train("gan").save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as archive:      # would raise on an object array
        assert all(archive[k].dtype != object for k in archive.files)
    assert isinstance(io.load(path), GAN) and not isinstance(io.load(path), WGAN)


@pytest.mark.parametrize("kind", ["gan", "wgan-gp"])
def test_round_trip_keeps_the_pack(backend_name, kind, tmp_path):
    # a model trained with pack=2 loads with pack=2: its adversary takes packs (n, 2 d) and gives
    # the same values; a file that forgot the pack would load a D that refuses them
    kw = dict(n_steps=6, hidden=(8,), batch_size=32, pack=2)
    if kind == "gan":
        model = gan.train_gan(_data(), backend.rng(1), **kw)
    else:
        model = wgan.train_wgan(_data(), backend.rng(1), **kw)
    loaded = io.load(model.save(tmp_path / f"{kind}.npz"))
    assert loaded.pack == model.pack == 2
    packs = backend.asarray(backend.to_numpy(_data())[:40].reshape(20, 4))
    a = model.discriminator(packs) if kind == "gan" else model.critic(packs)
    b = loaded.discriminator(packs) if kind == "gan" else loaded.critic(packs)
    np.testing.assert_array_equal(host(a), host(b))
    np.testing.assert_array_equal(host(model.sample(30, backend.rng(7))),
                                  host(loaded.sample(30, backend.rng(7))))
    _assert_same_history(loaded.history, model.history)
