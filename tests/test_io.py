"""minigen.io: the file format itself, on a toy model (the rooms' tests round-trip their models).

A round trip keeps the configuration, the pytree's nesting, every array bit for bit and its integer
dtype; a file that is not a minigen model (truncated, foreign, newer, or holding pickled objects)
is refused with a ValueError, never executed."""
import json
import zipfile

import numpy as np
import pytest

from minigen import backend, io


@io.register
class Toy:
    """A stand-in model: a pytree of arrays and a configuration."""

    def __init__(self, params, config):
        self.params, self.config = params, config

    def state(self):
        return self.config, self.params

    @classmethod
    def from_state(cls, config, params):
        return cls(params, config)


def toy(rng):
    params = {"layers": [{"W": rng.standard_normal((3, 2)), "b": rng.standard_normal((2,))},
                         {"W": rng.standard_normal((2, 1)), "b": rng.standard_normal((1,))}],
              "order": backend.xp.asarray(np.array([2, 0, 1])), "mean": rng.standard_normal((2,))}
    config = {"hidden": [3, 2], "activation": "tanh", "scale": np.float64(0.5), "flag": None}
    return Toy(params, config)


def host_tree(tree):
    if isinstance(tree, dict):
        return {k: host_tree(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [host_tree(v) for v in tree]
    return backend.to_numpy(tree)


def assert_same_tree(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same_tree(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert_same_tree(u, v)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_round_trip_is_exact_on_every_backend(backend_name, tmp_path):
    model = toy(backend.rng(0))
    path = model.save(tmp_path / "toy.npz")
    back = io.load(path)
    assert type(back) is Toy
    assert back.config == {"hidden": [3, 2], "activation": "tanh", "scale": 0.5, "flag": None}
    assert isinstance(back.params["mean"], backend.active().array_type)    # on the active backend
    assert_same_tree(host_tree(back.params), host_tree(model.params))
    assert back.params["order"].dtype.kind == "i"


def test_a_model_saved_on_the_device_loads_on_the_host(tmp_path):
    backend.set_backend("fakecupy")
    try:
        model = toy(backend.rng(1))
        expected = host_tree(model.params)
        io.save(model, tmp_path / "gpu.npz")
    finally:
        backend.set_backend("numpy")
    back = io.load(tmp_path / "gpu.npz")
    assert isinstance(back.params["mean"], np.ndarray)
    assert_same_tree(host_tree(back.params), expected)


def test_float32_backend_rounds_a_float64_file(tmp_path):
    model = toy(backend.rng(2))
    io.save(model, tmp_path / "m.npz")
    backend.set_backend("numpy", dtype="float32")
    try:
        back = io.load(tmp_path / "m.npz")
    finally:
        backend.set_backend("numpy")
    assert back.params["mean"].dtype == np.float32
    np.testing.assert_array_equal(back.params["mean"], model.params["mean"].astype(np.float32))


def test_the_path_is_written_as_given(tmp_path):
    io.save(toy(backend.rng(0)), tmp_path / "model.bin")            # no ".npz" added
    assert (tmp_path / "model.bin").exists() and not (tmp_path / "model.bin.npz").exists()


def rewrite(path, out, meta=None, drop=None, extra=None):
    """Copy a saved file with its metadata replaced, one array dropped or an array added."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != drop}
    if meta is not None:
        arrays["minigen"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays.update(extra or {})
    with open(out, "wb") as f:
        np.savez(f, **arrays)
    return out


def saved_meta(path):
    with np.load(path) as f:
        return json.loads(f["minigen"].tobytes())


@pytest.fixture
def saved(tmp_path):
    return io.save(toy(backend.rng(0)), tmp_path / "toy.npz")


def test_newer_version_is_refused(saved, tmp_path):
    meta = dict(saved_meta(saved), version=io.VERSION + 1)
    with pytest.raises(ValueError, match=r"format version 2, written by a newer minigen"):
        io.load(rewrite(saved, tmp_path / "new.npz", meta=meta))


def test_foreign_files_are_refused(saved, tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros(3))
    with pytest.raises(ValueError,
                       match="is not a readable minigen model file .*no minigen metadata"):
        io.load(plain)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="is not a readable minigen model file"):
        io.load(tmp_path / "text.npz")
    meta = dict(saved_meta(saved), format="other.format")
    with pytest.raises(ValueError, match=r"is not a minigen model file \(format 'other.format'\)"):
        io.load(rewrite(saved, tmp_path / "f.npz", meta=meta))
    meta = dict(saved_meta(saved), kind="Trojan")
    with pytest.raises(ValueError, match="holds a 'Trojan', not a model this minigen knows"):
        io.load(rewrite(saved, tmp_path / "k.npz", meta=meta))
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "missing.npz")


def test_truncated_files_are_refused(saved, tmp_path):
    data = saved.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="is not a readable minigen model file"):
        io.load(cut)
    with pytest.raises(ValueError, match="lacks the array leaf_3"):
        io.load(rewrite(saved, tmp_path / "drop.npz", drop="leaf_3"))


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_objects_are_never_loaded(saved, tmp_path, capsys):
    obj = np.empty(1, dtype=object)
    obj[0] = Evil()
    evil = rewrite(saved, tmp_path / "evil.npz", extra={"leaf_0": obj})
    with pytest.raises(ValueError, match="is not a readable minigen model file"):
        io.load(evil)
    assert "must never run" not in capsys.readouterr().out
    with zipfile.ZipFile(evil) as z:                            # the object array is in the file
        assert "leaf_0.npy" in z.namelist()


def test_only_registered_models_are_saved(tmp_path):
    class Unknown:
        def state(self):
            return {}, {}
    with pytest.raises(TypeError, match="model=Unknown is not a minigen model that can be saved"):
        io.save(Unknown(), tmp_path / "u.npz")
    model = toy(backend.rng(0))
    model.config = {"bad": object()}
    with pytest.raises(TypeError, match="configuration value .* is not JSON"):
        io.save(model, tmp_path / "b.npz")


def test_load_in_a_fresh_process_imports_the_models_room(tmp_path):
    """A file names the minigen module of its class; load imports it (only minigen's own)."""
    import subprocess
    import sys
    from minigen.gans import train_gan
    data = backend.rng(0).standard_normal((300, 2))
    model = train_gan(data, backend.rng(1), n_steps=2, batch_size=64, progress=False)
    model.save(tmp_path / "g.npz")
    code = ("from minigen import io, backend; m = io.load(%r); "
            "print(type(m).__name__, m.sample(3, backend.rng(0)).shape)" % str(tmp_path / "g.npz"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["GAN", "(3,", "2)"]
    meta = dict(saved_meta(tmp_path / "g.npz"), module="os", kind="Popen")
    with pytest.raises(ValueError, match="holds a 'Popen'"):
        io.load(rewrite(tmp_path / "g.npz", tmp_path / "os.npz", meta=meta))
