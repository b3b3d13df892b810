"""Cost of one sampler step against one evaluation of the target, on polygon_blobs(8), 10^5 chains.

A step should cost about one call of the target: MH <= 1.5 x log_prob, ULA <= 1.3 x score,
MALA <= 1.5 x (log_prob + score), replica exchange (R temperatures) ~ MH on R n chains.
The last two rows time the per-step guard against NaN chains alone (one reduction each).
Each sampler runs n_steps steps with thin = n_steps (one stored snapshot); a time is the best of
`--repeats` (process CPU time on NumPy, so run it with OPENBLAS_NUM_THREADS=1; wall-clock time
on CuPy).

    python benchmarks/samplers.py [--quick] [--chains N] [--steps S] [--backend numpy|cupy]
"""
import argparse
import math
import time

from minigen import backend
from minigen.backend import xp
from minigen.distributions import polygon_blobs
from minigen.mcmc.langevin import langevin, mala
from minigen.mcmc.metropolis import metropolis_hastings
from minigen.mcmc.replica_exchange import replica_exchange


def sync():
    if backend.get_backend() == "cupy":
        import cupy
        cupy.cuda.Device().synchronize()


def clock():
    """CPU time of this process on NumPy (robust on a shared machine; run with
    OPENBLAS_NUM_THREADS=1), wall-clock time on CuPy (with a device synchronization)."""
    return time.perf_counter() if backend.get_backend() == "cupy" else time.process_time()


def best_time(f, repeats):
    f()
    sync()
    times = []
    for _ in range(repeats):
        t0 = clock()
        f()
        sync()
        times.append(clock() - t0)
    return min(times)


def calls(f, x, S):
    """S calls of f on x, each result dropped before the next call (as in a sampler's loop)."""
    for _ in range(S):
        f(x)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10^4 chains, 5 steps: a smoke run")
    p.add_argument("--chains", type=int, default=100_000)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--backend", default=None)
    a = p.parse_args()
    if a.backend:
        backend.set_backend(a.backend)
    n, S, reps = (10_000, 5, 2) if a.quick else (a.chains, a.steps, a.repeats)
    R = 4
    target = polygon_blobs(8, 2.0, 0.2)
    rng = backend.rng(0)
    x = target.sample(n, rng)
    xR = target.sample(R * n, rng)
    lp = target.log_prob(x)
    betas = [1.0, 0.5, 0.25, 0.125]
    rex = f"RepEx step (R={R})"

    def per_step(f):
        return best_time(f, reps) / S
    t = {
        "log_prob": per_step(lambda: calls(target.log_prob, x, S)),      # S calls, like a run
        "score": per_step(lambda: calls(target.score, x, S)),
        "log_prob on R n": per_step(lambda: calls(target.log_prob, xR, S)),
        "MH step": per_step(lambda: metropolis_hastings(target.log_prob, x, S, 0.5, rng, thin=S)),
        "ULA step": per_step(lambda: langevin(target.score, x, S, 0.01, rng, thin=S)),
        "MALA step": per_step(lambda: mala(target.log_prob, target.score, x, S, 0.05, rng,
                                           thin=S)),
        rex: per_step(lambda: replica_exchange(target.log_prob, x, betas, S, 0.5, rng, thin=S)),
        "guard max(log r) < inf": per_step(lambda: [bool(xp.max(lp) < math.inf)
                                                    for _ in range(S)]),
        "guard isfinite(sum x)": per_step(lambda: [bool(xp.isfinite(xp.sum(x)))
                                                   for _ in range(S)]),
    }
    clock_name = "wall-clock" if backend.get_backend() == "cupy" else "process CPU"
    print(f"backend {backend.get_backend()}, polygon_blobs(8), {n} chains, d = 2, {S} steps per "
          f"run, best of {reps} ({clock_name} time)\n")
    print("| operation | ns per chain-step | ratio | target |")
    print("| --- | ---: | ---: | ---: |")
    ratios = {
        "MH step": (t["MH step"] / t["log_prob"], "MH / log_prob", 1.5),
        "ULA step": (t["ULA step"] / t["score"], "ULA / score", 1.3),
        "MALA step": (t["MALA step"] / (t["log_prob"] + t["score"]),
                      "MALA / (log_prob + score)", 1.5),
        rex: (t[rex] / t["log_prob on R n"], "RepEx / log_prob(R n)", None),
        "guard max(log r) < inf": (t["guard max(log r) < inf"] / t["log_prob"],
                                   "guard / log_prob", None),
        "guard isfinite(sum x)": (t["guard isfinite(sum x)"] / t["score"], "guard / score", None),
    }
    for name, sec in t.items():
        chains = R * n if name in ("log_prob on R n", rex) else n
        r = ratios.get(name)
        ratio = f"{r[0]:.3g} ({r[1]})" if r else ""
        target_s = f"<= {r[2]}" if r and r[2] else ""
        print(f"| {name} | {1e9 * sec / chains:.1f} | {ratio} | {target_s} |")


if __name__ == "__main__":
    main()
