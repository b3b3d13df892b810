"""NumPy on the CPU against CuPy on a GPU: the same minigen code, where the GPU pays.

Sampling: wall-clock cost per chain-step of Metropolis-Hastings (Eq. 42), ULA (Eq. 122) and the
reverse diffusion (Euler-Maruyama of Eq. 135 with the exact score of the noised blobs, Eq. 130)
on polygon_blobs(8, 2.0, 0.2), for 10^3 ... 10^7 chains (points) in lockstep. NumPy stops at
--numpy-max chains: beyond it a run takes minutes on a laptop and the cost per chain is flat.
Training: optimizer steps per second of each trainer at its default batch size and network
(from runs of k and 2k steps, so that the set-up cancels out).
Without CuPy or without a visible GPU it says so and runs the NumPy column only.

    python benchmarks/gpu.py [--quick] [--steps S] [--numpy-max N] [--max-chains N]
                             [--dtype float32]
Prints two tables and saves a log-log plot (cost per chain-step against chains) to --out.
"""
import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from minigen import backend  # noqa: E402
from minigen.diffusion import reverse, tweedie  # noqa: E402
from minigen.distributions import polygon_blobs  # noqa: E402
from minigen.flows import coupling, hamiltonian  # noqa: E402
from minigen.gans import gan, wgan  # noqa: E402
from minigen.mcmc import langevin, metropolis_hastings  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINERS = {"denoiser": tweedie.train_denoiser, "coupling flow": coupling.train_coupling_flow,
            "hamiltonian flow": hamiltonian.train_hamiltonian_flow, "gan": gan.train_gan,
            "wgan-gp": wgan.train_wgan}


def sync():
    """Wait for the GPU: CuPy launches kernels asynchronously."""
    if backend.get_backend() == "cupy":
        import cupy
        cupy.cuda.Device().synchronize()


def seconds(f, warm_up=True):
    """Wall-clock seconds of f(), after one warm-up call (CuPy compiles kernels on first use)."""
    if warm_up:
        f()
        sync()
    t0 = time.perf_counter()
    f()
    sync()
    return time.perf_counter() - t0


def samplers(target, n, S):
    """The three samplers on n chains for S steps, each keeping only its last state (thin = S)."""
    rng = backend.rng(0)
    x0 = target.sample(n, rng)
    x_T = rng.standard_normal((n, 2))
    times = reverse.time_grid(S, T=3.0)

    def exact_score(x, t):
        return target.ou_marginal(t).score(x)           # Eq. (130): p_t is a mixture
    return {"MH": lambda: metropolis_hastings(target.log_prob, x0, S, 0.5, rng, thin=S),
            "ULA": lambda: langevin(target.score, x0, S, 0.01, rng, thin=S),
            "reverse diffusion": lambda: reverse.reverse_sde(exact_score, x_T, times, rng)}


def sampling_costs(sizes, S):
    """{sampler: {n: seconds per chain-step}} on the active backend."""
    target, costs = polygon_blobs(8, 2.0, 0.2), {}
    for n in sizes:
        for name, run in samplers(target, n, S).items():
            costs.setdefault(name, {})[n] = seconds(run) / (n * S)
    return costs


def training_rates(k):
    """{trainer: optimizer steps per second} on the active backend, at default sizes.

    The rate is k / (time of 2k steps - time of k steps): the set-up (initialization, data scaling,
    the first kernel compilations) cancels out."""
    data = polygon_blobs(8, 2.0, 0.2).sample(4096, backend.rng(1))
    rates = {}
    for name, train in TRAINERS.items():
        t_k = seconds(lambda: train(data, backend.rng(2), n_steps=k))
        t_2k = seconds(lambda: train(data, backend.rng(2), n_steps=2 * k), warm_up=False)
        # nan: lost in timing noise
        rates[name] = k / (t_2k - t_k) if t_2k > t_k else float("nan")
    return rates


def run_backend(name, dtype, sizes, S, n_train):
    try:
        backend.set_backend(name, dtype=dtype)
    except (ImportError, RuntimeError) as err:
        print(f"{name}: not available ({err}); no GPU column")
        return None
    print(f"{name}: sampling ...", flush=True)
    costs = sampling_costs(sizes, S)
    print(f"{name}: training ...", flush=True)
    return costs, training_rates(n_train)


def table(header, rows):
    """Print a Markdown table, text left-aligned, numbers right-aligned."""
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="10^3..10^5 chains, 3 sampler steps, 10 training steps")
    p.add_argument("--steps", type=int, default=10, help="sampler steps per run")
    p.add_argument("--numpy-max", type=float, default=1e6, help="largest number of chains on NumPy")
    p.add_argument("--max-chains", type=float, default=1e7, help="largest number of chains on CuPy")
    p.add_argument("--train-steps", type=int, default=40, help="optimizer steps per trainer")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--out", default=os.path.join(HERE, "out", "gpu.png"))
    a = p.parse_args()
    if a.quick:
        a.steps, a.numpy_max, a.max_chains, a.train_steps = 3, 1e5, 1e5, 10
    sizes = [10 ** k for k in range(3, 8) if 10 ** k <= a.max_chains]
    numpy_sizes = [n for n in sizes if n <= a.numpy_max]
    results = {"numpy": run_backend("numpy", a.dtype, numpy_sizes, a.steps, a.train_steps),
               "cupy": run_backend("cupy", a.dtype, sizes, a.steps, a.train_steps)}
    results = {k: v for k, v in results.items() if v is not None}
    backend.set_backend("numpy")

    names = list(results)
    rows = []
    for sampler in results["numpy"][0]:
        for n in sorted({n for b in names for n in results[b][0][sampler]}):
            cells = [results[b][0][sampler].get(n) for b in names]
            speedup = []
            if len(names) == 2:
                speedup = [f"{cells[0] / cells[1]:.0f}x" if None not in cells else ""]
            ns_cells = ["" if c is None else f"{1e9 * c:.1f}" for c in cells]
            rows.append([sampler, f"{n:.0e}"] + ns_cells + speedup)
    print(f"\nns per chain-step ({a.dtype}, {a.steps} steps per run, wall-clock)\n")
    table(["sampler", "chains"] + names + (["speed-up"] if len(names) == 2 else []), rows)
    print(f"\ntraining: optimizer steps per second (default batch and network; "
          f"{a.train_steps} more steps against twice as many)\n")
    table(["trainer"] + names, [[t] + [f"{results[b][1][t]:.1f}" for b in names] for t in TRAINERS])

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for b, style in zip(names, ["-o", "--s"]):
        for (sampler, cost), color in zip(results[b][0].items(), ["C0", "C1", "C2"]):
            ns = sorted(cost)
            ax.loglog(ns, [1e9 * cost[n] for n in ns], style, color=color, label=f"{sampler} ({b})")
    ax.set_xlabel("number of chains (points) in lockstep")
    ax.set_ylabel("ns per chain-step")
    ax.set_title(f"minigen samplers, NumPy vs CuPy ({a.dtype})")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    print(f"\nplot: {a.out}")


if __name__ == "__main__":
    main()
