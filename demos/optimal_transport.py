"""Monge's assignment and Kantorovich's entropic plans between two point clouds (notes §4.2).

Figure: (1) the optimal assignment of Eq. (56) between n source points (a Gaussian blob) and n
target points (a ring), for the cost |x - y|^2: the blob spreads radially outwards; (2)-(4)
Sinkhorn's plans P_eps for three eps (Eq. 58-60 with entropy): each segment's width is its mass,
large eps spreads every point over many targets, small eps concentrates it on Monge's assignment;
(5) <C, P_eps> against eps: it decreases to the exact cost (dashed) within the bound eps log n.
Monge 1781; Kantorovich 1942; Cuturi 2013 (arXiv:1306.0895).
"""
import math

import numpy as np

from minigen import backend
from minigen.plotting import demo_args, save
from minigen.transport.optimal_transport import assignment, cost_matrix, sinkhorn

N = 40                                  # points in each cloud
EPS_SHOWN = (0.3, 0.03, 0.003)           # eps of the three plans, in units of the mean cost
EPS_CURVE = np.geomspace(3.0, 1e-3, 12)

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402

n = 12 if args.quick else N
curve = EPS_CURVE[::3] if args.quick else EPS_CURVE
g = np.random.default_rng(args.seed)
x = 0.6 * g.standard_normal((n, 2))                     # a blob, moved onto a ring
angle = g.uniform(0, 2 * np.pi, n)
y = 2.0 * np.stack([np.cos(angle), np.sin(angle)], 1) + 0.1 * g.standard_normal((n, 2))
C = backend.to_numpy(cost_matrix(x, y))
unit = C.mean()                         # eps is given relative to the typical cost
u = np.ones(n) / n
perm = backend.to_numpy(assignment(C))
exact = C[np.arange(n), perm].mean()
print(f"Monge / Kantorovich optimum (exact assignment, n = {n}): {exact:.4f}")

fig, axes = plt.subplots(1, 5, figsize=(23, 5))


def clouds(ax, title):
    ax.scatter(*x.T, s=18, color="C0", zorder=3, label="source x_i")
    ax.scatter(*y.T, s=18, color="C3", zorder=3, label="target y_j")
    ax.set_aspect("equal")
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-2.6, 2.6)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


ax = axes[0]
clouds(ax, f"Monge (Eq. 56): the optimal permutation\ncost {exact:.3f}")
for i in range(n):
    ax.plot(*np.stack([x[i], y[perm[i]]]).T, color="k", lw=1.0)
ax.legend(fontsize=8, loc="upper right")
for ax, eps in zip(axes[1:4], EPS_SHOWN):
    res = sinkhorn(u, u, C, eps * unit)
    P = backend.to_numpy(res.plan)
    clouds(ax, f"Kantorovich + entropy (Sinkhorn)\neps = {eps:g} x mean cost: <C, P> = "
               f"{res.cost:.3f}")
    for i, j in zip(*np.nonzero(P > 1e-3 / n)):
        ax.plot(*np.stack([x[i], y[j]]).T, color="k", alpha=min(1.0, P[i, j] * n),
                lw=2.0 * P[i, j] * n)
    print(f"eps = {eps:5.3f} x mean cost: <C, P> = {res.cost:.4f}, mass on Monge's pairs "
          f"{P[np.arange(n), perm].sum():.3f}, {res.n_iter} iterations")
costs = [sinkhorn(u, u, C, e * unit).cost for e in curve]
ax = axes[4]
ax.loglog(curve, np.array(costs) - exact, "o-", color="C2", label="<C, P_eps> - exact")
ax.loglog(curve, curve * unit * math.log(n), "k--", lw=1, label="bound eps log n")
ax.set_xlabel("eps / mean cost")
ax.set_title("Sinkhorn's cost converges to Monge's as eps -> 0", fontsize=10)
ax.legend(fontsize=8)
fig.suptitle("Optimal transport between two clouds of n equal masses: the permutation (Monge) is "
             "also the optimal plan (Kantorovich); entropy blurs it", fontsize=11, y=1.02)
save(fig, "optimal_transport", args)
