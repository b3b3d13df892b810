"""Every trained model of minigen on the same data with the same sample size: one table, one figure.

Usage: python benchmarks/compare.py [--quick] [--seed S] [--models denoiser,coupling,...]
                                    [--out DIR] [--std 0.2] [--n-train 20000]
Each model trains with its defaults on the same N_TRAIN points of polygon_blobs(8, 2.0, std): the
points are rng(seed)'s first draw and the trainer continues that rng, as the slow tests do. Every
row is then measured on N_SAMPLE generated points against N_SAMPLE fresh true points; the row
"fresh true samples" puts new draws of the target in the model's place: what an exact sampler
scores in every column at this sample size. Columns (notes §4.4):
  NLL - H: mean -log p_model on N_NLL fresh points minus the target's entropy (Monte Carlo),
    = KL(p || p_model) >= 0 (Eq. 27-28). The Hamiltonian flow has only upper bounds: -ELBO and
    the importance-weighted bound with 64 momenta (IWAE-64); the denoiser and GANs have no
    likelihood here (-).
  sliced W2 / floor: 3 chunks of N_SAMPLE generated points, each against 10 fresh sets, over the
    mean of 10 true-vs-true pairs (tests/oracles.py sw_ratio): 1 +- 0.2 for an exact sampler.
  precision, recall (Kynkaenniemi et al. 2019; fidelity Eq. 65 and diversity Eq. 66), density,
    coverage (Naeem et al. 2020): k-nearest-neighbour balls, k = K_NN (minigen.metrics).
  modes: modes with a sample within 3 std; within 3 std: the fraction of such samples.
  train s: wall seconds of the training call (the load average printed above the table: on a
    shared machine they vary).
--quick: 30 training steps per model and 600 points, a smoke run whose numbers mean nothing.
Prints the table as Markdown and writes <out>/model_comparison.png (default demos/out).
"""
import argparse
import math
import os

import matplotlib
import numpy as np

from minigen import backend
from minigen.diffusion.tweedie import train_denoiser
from minigen.distributions import polygon_blobs
from minigen.flows import train_coupling_flow, train_hamiltonian_flow
from minigen.gans import train_gan, train_wgan
from minigen.metrics import (density_coverage, high_quality_fraction, mode_coverage,
                             precision_recall, sliced_wasserstein)
from timing import timed

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

N_MODES, RADIUS, STD = 8, 2.0, 0.2
N_TRAIN = 20_000         # training points, the same for every model
N_SAMPLE = 5000          # generated vs fresh true points, every metric and every model
N_NLL = 20_000           # fresh points for NLL - H
K_NN = 5                 # neighbours of the precision / recall / density / coverage balls
N_STD = 3.0              # modes and within-3-std: a sample counts within N_STD std of a mode
IWAE_SAMPLES = 64
QUICK = {"n_steps": 30, "n_train": 2000, "n_sample": 600, "n_nll": 2000}
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos", "out")

# key: (row name, trainer, extra keyword arguments); DEFAULT runs the first five
MODELS = {
    "denoiser": ("denoiser + reverse SDE", train_denoiser, {}),
    "coupling": ("coupling flow", train_coupling_flow, {}),
    "hamiltonian": ("Hamiltonian flow", train_hamiltonian_flow, {}),
    "gan": ("GAN (non-saturating)", train_gan, {}),
    "wgan": ("WGAN-GP", train_wgan, {"lipschitz": "gp"}),
    "wgan-clip": ("WGAN, weight clipping", train_wgan, {"lipschitz": "clip"}),
}
DEFAULT = "denoiser,coupling,hamiltonian,gan,wgan"


def sw_floor_refs(target, n, seed, n_ref=10):
    """The protocol of tests/oracles.py sw_ratio, its floor computed once for all rows.

    The two-sample sliced W2 fluctuates by ~30% from draw to draw (multinomial mode counts), so a
    row's value is the mean over 3 chunks x n_ref fresh sets of n points, and the floor the mean
    over n_ref pairs of true sets: SE ~10% on the floor, ~15% on a row. Same projections
    everywhere. Returns (sw, fresh sets, floor)."""
    def sw(a, b):
        return sliced_wasserstein(a, b, backend.rng(seed), n_projections=64)
    truth = [target.sample(n, backend.rng(seed + 1 + k)) for k in range(2 * n_ref)]
    floor = float(np.mean([sw(truth[2 * k], truth[2 * k + 1]) for k in range(n_ref)]))
    return sw, truth[::2], floor


def sw_over_floor(out, n, sw_refs):
    """Sliced W2 of 3 chunks of n points of `out` to each fresh set, over the floor."""
    sw, refs, floor = sw_refs
    chunks = [out[c * n:(c + 1) * n] for c in range(3)]
    return float(np.mean([sw(c, r) for c in chunks for r in refs])) / floor


def nll_gap(key, model, fresh, entropy, rng):
    """NLL - H: (table cell, panel title); a bound for the Hamiltonian flow, None without one."""
    entropy, se_h = entropy

    def gap(neg_log_q):                                  # Eq. (27): NLL - H = KL(p || q)
        v = backend.to_numpy(neg_log_q)
        return float(v.mean()) - entropy, math.hypot(v.std() / math.sqrt(v.size), se_h)
    if key in ("fresh", "coupling"):
        g, se = gap(-(model(fresh) if key == "fresh" else model.log_prob(fresh)))
        return f"{g:.3f} ± {se:.3f}", f"NLL − H {g:.3f} nats"
    if key == "hamiltonian":                             # -ELBO >= -IWAE-64 >= NLL
        elbo = gap(-model.elbo(fresh, rng))[0]
        iwae, se = gap(-model.elbo(fresh, rng, n_samples=IWAE_SAMPLES))
        return (f"≤ {elbo:.3f} (ELBO), ≤ {iwae:.3f} ± {se:.3f} (IWAE-{IWAE_SAMPLES})",
                f"NLL − H ≤ {iwae:.3f} nats (IWAE)")
    return "–", None


def measure(x, real, sw_refs, target, n):
    """Sample metrics of x (3n, 2) against the fresh true points real (n, 2): a dict."""
    std = target.stds
    precision, recall = precision_recall(real, x[:n], k=K_NN)
    density, coverage = density_coverage(real, x[:n], k=K_NN)
    return {"sw": sw_over_floor(x, n, sw_refs), "precision": precision, "recall": recall,
            "density": density, "coverage": coverage,
            "modes": mode_coverage(x[:n], target.means, std, N_STD),
            "hq": high_quality_fraction(x[:n], target.means, std, N_STD)}


def sample(key, model, n, rng, quick):
    """n points of the model; with --quick the reverse diffusion takes 20 steps, not 200."""
    if key == "denoiser" and quick:
        return model.sample(n, rng, n_steps=20)
    return model.sample(n, rng)


def table(rows):
    head = ("| model | NLL − H (nats) | sliced W2 / floor | precision | recall | density "
            "| coverage | modes | within 3 std | train s |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, (nll, _), m, wall in rows:
        lines.append(f"| {name} | {nll} | {m['sw']:.2f} | {m['precision']:.3f} "
                     f"| {m['recall']:.3f} | {m['density']:.3f} | {m['coverage']:.3f} "
                     f"| {m['modes']}/{N_MODES} | {100 * m['hq']:.1f}% "
                     f"| {'–' if wall is None else f'{wall:.1f}'} |")
    return "\n".join(lines)


def figure(panels, target, title, path):
    """One panel per row, same axes, samples over the true density's contours in light grey."""
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4.9 * nrows), squeeze=False)
    g = np.linspace(-3.2, 3.2, 200)
    X, Y = np.meshgrid(g, g)
    grid = backend.asarray(np.stack([X.ravel(), Y.ravel()], axis=1))
    P = np.exp(backend.to_numpy(target.log_prob(grid))).reshape(X.shape)
    for i, (ax, (name, x, (_, nll), m)) in enumerate(zip(axes.flat, panels)):
        ax.contourf(X, Y, P, levels=np.linspace(0.02, 1, 8) * P.max(), cmap="Greys", alpha=0.4)
        pts = backend.to_numpy(x)
        ax.scatter(pts[:, 0], pts[:, 1], s=1.5, alpha=0.45, color="C0" if i else "C3",
                   linewidths=0)
        ax.set(xlim=(-3.2, 3.2), ylim=(-3.2, 3.2), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"{name}\n{nll or 'no likelihood'} · SW {m['sw']:.2f}× floor\n"
                     f"P {m['precision']:.2f} · R {m['recall']:.2f} · "
                     f"D {m['density']:.2f} · C {m['coverage']:.2f}\n"
                     f"{m['modes']}/{N_MODES} modes, {100 * m['hq']:.0f}% within 3 std",
                     fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="30 steps per model: a smoke run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default=DEFAULT, help=f"comma-separated, of: {', '.join(MODELS)}")
    p.add_argument("--out", default=OUT, help="folder for model_comparison.png")
    p.add_argument("--std", type=float, default=STD, help="the blobs' std (the flows' tests: 0.3)")
    p.add_argument("--n-train", type=int, default=N_TRAIN, help="training points")
    args = p.parse_args()
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    if not keys or any(k not in MODELS for k in keys):
        p.error(f"--models {args.models!r}: choose among {', '.join(MODELS)}")
    s = args.seed
    n_train, n, n_nll = ((QUICK["n_train"], QUICK["n_sample"], QUICK["n_nll"]) if args.quick
                         else (args.n_train, N_SAMPLE, N_NLL))
    target = polygon_blobs(N_MODES, RADIUS, args.std)
    entropy = target.entropy(backend.rng(s + 1), 200_000)
    fresh_nll = target.sample(n_nll, backend.rng(s + 2))
    real = target.sample(n, backend.rng(s + 3))                  # the real set of every row
    sw_refs = sw_floor_refs(target, n, 1000 + s)
    truth = target.sample(3 * n, backend.rng(s + 4))             # the "fresh true samples" row
    m = measure(truth, real, sw_refs, target, n)
    nll = nll_gap("fresh", target.log_prob, fresh_nll, entropy, None)
    rows = [("fresh true samples", nll, m, None)]
    panels = [("fresh true samples", truth[:n], nll, m)]
    for key in keys:
        name, trainer, kw = MODELS[key]
        rng = backend.rng(s)
        data = target.sample(n_train, rng)                       # the same data for every model
        if args.quick:
            kw = dict(kw, n_steps=QUICK["n_steps"])
        model, wall, _ = timed(lambda: trainer(data, rng, **kw))
        x = sample(key, model, 3 * n, backend.rng(s + 5), args.quick)
        m = measure(x, real, sw_refs, target, n)
        nll = nll_gap(key, model, fresh_nll, entropy, backend.rng(s + 6))
        rows.append((name, nll, m, wall))
        panels.append((name, x[:n], nll, m))
        print(f"{name}: trained in {wall:.1f} s", flush=True)
    data_name = f"polygon_blobs({N_MODES}, {RADIUS:g}, {args.std:g})"
    load = os.getloadavg()[1] if hasattr(os, "getloadavg") else math.nan
    quick = "; --quick: 30 steps, numbers meaningless" if args.quick else ""
    print(f"\nbackend {backend.get_backend()}; {os.cpu_count()} cores, 5-min load average "
          f"{load:.1f}; {data_name}; {n_train} training points (seed {s}); {n} generated vs "
          f"{n} fresh points; NLL on {n_nll} fresh points; k = {K_NN}; "
          f"entropy H = {entropy[0]:.4f} ± {entropy[1]:.4f} nats{quick}\n")
    print(table(rows))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model_comparison.png")
    figure(panels, target, f"Every model on {data_name}, {n_train} training points: {n} "
           "samples each over the true density (grey)", path)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
