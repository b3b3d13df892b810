"""Training-step benchmark: ms per step and steps per second of every model, float64 and float32.

Usage: python benchmarks/training.py [--quick] [--profile]
Each model trains with its default settings on polygon_blobs(8, 2.0, 0.2); the cost of one step is
(time of n2 steps - time of n1 steps) / (n2 - n1), so set-up is not counted, best of --repeats runs.
A GAN step is one generator step with its k (or n_critic) adversary steps. Wall time with NumPy's
default BLAS threads; CPU time too (over 1x wall when BLAS runs on both cores). --profile prints
where the time of a denoiser step and of a WGAN-GP step goes (cProfile, top functions by own time).
The peer figures are one run of the same models on the same 2-core CPU (PyTorch 2.14 eager,
JAX 0.10 jit).
"""
import argparse
import cProfile
import io
import pstats

from minigen import backend
from minigen.distributions import polygon_blobs
from minigen.diffusion.tweedie import train_denoiser
from minigen.flows.coupling import train_coupling_flow
from minigen.flows.hamiltonian import train_hamiltonian_flow
from minigen.gans.gan import train_gan
from minigen.gans.wgan import train_wgan
from timing import timed

MODELS = {
    "denoiser (3x96 ReLU, batch 512)": lambda data, n: train_denoiser(
        data, backend.rng(1), n_steps=n),
    "coupling flow (12 blocks of (32, 32), batch 1024)": lambda data, n: train_coupling_flow(
        data, backend.rng(1), n_steps=n),
    "Hamiltonian flow (4 blocks x 2 leapfrog, batch 256)": lambda data, n: train_hamiltonian_flow(
        data, backend.rng(1), n_steps=n),
    "GAN (2x64 leaky ReLU, batch 256, k 1)": lambda data, n: train_gan(
        data, backend.rng(1), n_steps=n),
    "WGAN-GP (3x64 leaky ReLU, batch 256, n_critic 2)": lambda data, n: train_wgan(
        data, backend.rng(1), n_steps=n),
    "WGAN clip (3x64 leaky ReLU, batch 256, n_critic 2)": lambda data, n: train_wgan(
        data, backend.rng(1), lipschitz="clip", n_steps=n),
}
# ms per step: PyTorch eager, JAX jit
PEERS = {"denoiser": ("2.2", "2.6"), "WGAN-GP": ("10.7", "3.8")}


def step_cost(train, data, n1, n2, repeats):
    """Best-of-repeats (wall ms, CPU ms) of one step, from two run lengths."""
    best = None
    for _ in range(repeats):
        _, w1, c1 = timed(lambda: train(data, n1))
        _, w2, c2 = timed(lambda: train(data, n2))
        cost = (1e3 * (w2 - w1) / (n2 - n1), 1e3 * (c2 - c1) / (n2 - n1))
        best = cost if best is None or cost[0] < best[0] else best
    return best


def profile(train, data, n):
    prof = cProfile.Profile()
    prof.runcall(lambda: train(data, n))
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    return out.getvalue()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="few steps, one repeat (smoke run)")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    n1, n2, repeats = (2, 6, 1) if args.quick else (20, 220, args.repeats)
    rows = []
    for dtype in ("float64", "float32"):
        backend.set_backend(backend.get_backend(), dtype=dtype)
        data = polygon_blobs(8, 2.0, 0.2).sample(5000, backend.rng(0))
        for name, train in MODELS.items():
            wall, cpu = step_cost(train, data, n1, n2, repeats)
            peer = next((v for k, v in PEERS.items() if name.startswith(k)), ("", ""))
            rows.append((name, dtype, wall, cpu, *peer))
    print(f"backend: {backend.get_backend()}; ms per training step (wall, best of {repeats})\n")
    print("| model | dtype | ms per step | steps/s | CPU ms per step | PyTorch eager ms "
          "| JAX jit ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, dtype, wall, cpu, torch_ms, jax_ms in rows:
        print(f"| {name} | {dtype} | {wall:.2f} | {1e3 / wall:.0f} | {cpu:.2f} "
              f"| {torch_ms} | {jax_ms} |")
    if args.profile:
        backend.set_backend(backend.get_backend(), dtype="float64")
        data = polygon_blobs(8, 2.0, 0.2).sample(5000, backend.rng(0))
        for key in ("denoiser", "WGAN-GP"):
            name = next(k for k in MODELS if k.startswith(key))
            print(f"\n### {name}, {n2} steps\n")
            print(profile(MODELS[name], data, n2))


if __name__ == "__main__":
    main()
