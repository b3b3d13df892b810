"""PacGAN's mode-collapse benchmark (Lin et al. 2018, arXiv:1712.04086, Table 1) for minigen's GANs.

Data: the 5x5 grid (25 Gaussians, means {-4, -2, 0, 2, 4}^2, std 0.05) and the ring (8 Gaussians
on the unit circle, std 0.01), 5000 training points each; and the course's 8 blobs (std 0.2 on a
radius-2 circle) with the trainers' default n_steps, as a control. What sets the budget is the
resolution, a mode's std over the data's scale s (common.scale_data): 0.14 for the blobs, 0.018 for
the grid, 0.014 for the ring (printed with the table). Protocol of PacGAN's Table 1: 2500
samples of the trained generator; a mode is covered when >= 1 sample lies within 3 std of it
(metrics.mode_coverage, Eq. (66)); "high quality" is the fraction of samples within 3 std of
some mode (metrics.high_quality_fraction, Eq. (65)); reverse KL of the mode frequencies of the
high-quality samples against the uniform weights (metrics.reverse_kl_modes with std).
Configurations: GAN, GAN + pack 2 / 4, WGAN-GP, WGAN-GP + pack 2 / 4, every other setting the
trainer's default except n_steps (--steps, or the STEPS below: about 3 min CPU per model on one
core). Prints a markdown table, mean (and SD over --seeds) beside PacGAN's Table 1, and writes a
figure of the samples of the first seed (demos/out/gan_benchmarks.png, --out). --quick: a few
steps, one seed (smoke run); --jobs N trains N models at once. The README's table:
    python gan_benchmarks.py --seeds 3 --jobs 2 --only "GAN,GAN + pack 2,WGAN-GP,WGAN-GP + pack 2"
Run with OPENBLAS_NUM_THREADS=1 for numbers comparable across machines.
"""
import argparse
import concurrent.futures
import os
import statistics

from timing import timed

from minigen import backend, metrics
from minigen.backend import xp
from minigen.distributions import GaussianMixture, polygon_blobs
from minigen.gans import common
from minigen.gans.gan import train_gan
from minigen.gans.wgan import train_wgan

N_DATA, N_EVAL = 5000, 2500
STEPS = {"GAN": 60000, "WGAN-GP": 16000}         # generator steps on the grid and the ring
CONFIGS = [("GAN", train_gan, 1), ("GAN + pack 2", train_gan, 2), ("GAN + pack 4", train_gan, 4),
           ("WGAN-GP", train_wgan, 1), ("WGAN-GP + pack 2", train_wgan, 2),
           ("WGAN-GP + pack 4", train_wgan, 4)]
TRAINERS = {name: (trainer, pack) for name, trainer, pack in CONFIGS}
# PacGAN's Table 1 (modes, high quality %, reverse KL), for the rows it reports
PACGAN = {("grid", "GAN"): "17.3 / 94.8% / 0.70", ("grid", "GAN + pack 4"): "24.8 / 93.6% / 0.04",
          ("ring", "GAN"): "6.3 / 98.2% / 0.45", ("ring", "GAN + pack 2"): "7.9 / 95.6% / 0.07"}


def datasets():
    """name -> (mixture, std): the grid and the ring of PacGAN, the course's blobs."""
    grid = xp.asarray([[a, b] for a in (-4.0, -2.0, 0.0, 2.0, 4.0)
                       for b in (-4.0, -2.0, 0.0, 2.0, 4.0)])
    return {"grid": (GaussianMixture(grid, 0.05), 0.05),
            "ring": (polygon_blobs(8, 1.0, 0.01), 0.01),
            "blobs": (polygon_blobs(8, 2.0, 0.2), 0.2)}


def scores(x, target, std):
    """(modes covered, high-quality fraction, reverse KL) of samples x, PacGAN's protocol."""
    return (metrics.mode_coverage(x, target.means, std),
            metrics.high_quality_fraction(x, target.means, std),
            metrics.reverse_kl_modes(x, target.means, std=std))


def _mean_sd(v, digits=1):
    """'mean ± SD' over seeds, or the one value."""
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"


def run(dname, name, seed, steps):
    """Train one configuration on one seed: (scores, CPU seconds, G steps, samples (N_EVAL, d))."""
    target, std = datasets()[dname]
    trainer, pack = TRAINERS[name]
    rng = backend.rng(seed)
    data = target.sample(N_DATA, rng)
    kw = {} if steps is None else {"n_steps": steps}
    model, _, cpu = timed(lambda: trainer(data, rng, pack=pack, **kw))
    x = model.sample(N_EVAL, rng)
    return scores(x, target, std), cpu, len(model.history["step"]), backend.to_numpy(x)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few steps, one seed (smoke run)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per configuration (0, 1, ...)")
    p.add_argument("--steps", type=int, default=None, help="generator steps for every model")
    p.add_argument("--data", default="grid,ring,blobs", help="comma-separated: grid, ring, blobs")
    p.add_argument("--only", default=None, help="comma-separated configuration names")
    p.add_argument("--jobs", type=int, default=1, help="models trained at once (processes)")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "demos", "out"))
    args = p.parse_args()
    seeds = 1 if args.quick else args.seeds
    configs = [c[0] for c in CONFIGS if args.only is None or c[0] in args.only.split(",")]
    tasks = []
    for dname in args.data.split(","):
        for name in configs:
            steps = 30 if args.quick else args.steps or (
                None if dname == "blobs" else STEPS[name.split(" ")[0]])
            tasks += [(dname, name, seed, steps) for seed in range(seeds)]
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, *task) for task in tasks]
        results = {}
        for task, future in zip(tasks, futures):
            results[task[:3]] = out = future.result()
            (cov, hq, rkl), cpu = out[0], out[1]
            print(f"{task[0]} {task[1]} seed {task[2]}: {cov} modes, {100 * hq:.1f}% hq, "
                  f"rKL {rkl:.3f}, {cpu:.0f} s CPU", flush=True)
    print("\n| data (resolution) | model | G steps | CPU s/model | modes | high quality (%) "
          "| reverse KL | PacGAN Table 1 (modes / hq / rKL) |")
    print("|---|---|---|---|---|---|---|---|")
    for dname in args.data.split(","):
        target, std = datasets()[dname]
        k, resolution = target.means.shape[0], std / resolution_scale(target)
        for name in configs:
            runs = [results[(dname, name, seed)] for seed in range(seeds)]
            modes, hq, rkl = zip(*[r[0] for r in runs])
            print(f"| {dname} ({resolution:.3f}) | {name} | {runs[0][2]} "
                  f"| {statistics.mean(r[1] for r in runs):.0f} | {_mean_sd(modes)}/{k} "
                  f"| {_mean_sd([100 * h for h in hq])} | {_mean_sd(rkl, 3)} "
                  f"| {PACGAN.get((dname, name), '—')} |")
    shots = {(d, n): (r[3], r[0]) for (d, n, seed), r in results.items() if seed == 0}
    figure(shots, args.out)


def resolution_scale(target):
    """The data's scale s of common.scale_data, from a large sample of the target."""
    return common.scale_data(target.sample(100_000, backend.rng(0)), 1)[2]


def figure(shots, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(dict.fromkeys(n for _, n in shots))
    dnames = list(dict.fromkeys(d for d, _ in shots))
    fig, axes = plt.subplots(len(dnames), len(names), figsize=(3.2 * len(names), 3.4 * len(dnames)),
                             squeeze=False)
    for row, dname in zip(axes, dnames):
        target, _ = datasets()[dname]
        mu = backend.to_numpy(target.means)
        lim = {"grid": 5.5, "ring": 1.6, "blobs": 3.0}[dname]
        for ax, name in zip(row, names):
            x, (cov, hq, rkl) = shots[(dname, name)]
            ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4, color="C1", linewidths=0)
            ax.scatter(mu[:, 0], mu[:, 1], s=12, marker="x", color="k", lw=0.8)
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
            ax.set_title(f"{dname}, {name}\n{cov}/{len(mu)} modes, {100 * hq:.0f}% hq, "
                         f"rKL {rkl:.2f}", fontsize=9)
    fig.suptitle("PacGAN's benchmark: 2500 samples of G (orange), the modes (x)", fontsize=11)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "gan_benchmarks.png")
    fig.savefig(path, dpi=70, bbox_inches="tight")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
