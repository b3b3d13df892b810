"""Benchmark of the GAN room: training time with defaults, steps per second, quality on 8 blobs.

Trains train_gan and train_wgan (gp and clip) with their default settings on
polygon_blobs(8, 2.0, 0.2) and prints a markdown table: wall time, generator steps/s, adversary
(D or critic) steps/s, and mode coverage / high-quality fraction of 5000 samples.
--quick: a few steps only (smoke run).
Run with OPENBLAS_NUM_THREADS=1 for numbers comparable across machines.
"""
import argparse
import inspect

from minigen import backend, metrics
from minigen.distributions import polygon_blobs
from minigen.gans.gan import train_gan
from minigen.gans.wgan import train_wgan
from timing import timed

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--quick", action="store_true", help="a few steps only (smoke run)")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

target = polygon_blobs(8, 2.0, 0.2)
rows = []
runs = [("GAN (non-saturating)", train_gan, {}, "k"),
        ("WGAN-GP", train_wgan, {"lipschitz": "gp"}, "n_critic"),
        ("WGAN clip", train_wgan, {"lipschitz": "clip"}, "n_critic")]
for name, trainer, kw, inner in runs:
    rng = backend.rng(args.seed)
    data = target.sample(5000, rng)
    defaults = {k: v.default for k, v in inspect.signature(trainer).parameters.items()}
    n_steps = 20 if args.quick else defaults["n_steps"]
    model, dt, cpu = timed(lambda: trainer(data, rng, n_steps=n_steps, **kw))
    x = model.sample(5000, rng)
    k = defaults[inner]
    rows.append((name, n_steps, k, dt, cpu, n_steps / dt, n_steps * k / dt,
                 metrics.mode_coverage(x, target.means, 0.2),
                 metrics.high_quality_fraction(x, target.means, 0.2)))

print("| model | generator steps | adversary steps per G step | train time (s) | CPU time (s) "
      "| G steps/s | D/critic steps/s | modes covered | within 3 std |")
print("|---|---|---|---|---|---|---|---|---|")
for name, n, k, dt, cpu, gs, ds, cov, hq in rows:
    print(f"| {name} | {n} | {k} | {dt:.1f} | {cpu:.1f} | {gs:.1f} | {ds:.1f} | {cov}/8 "
          f"| {100 * hq:.1f}% |")
