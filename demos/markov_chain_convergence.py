"""Fig. 15 / Eq. (39): a Markov chain transports any p_0 to its invariant law, p_k = (P^T)^k p_0.

On a small discrete space (states 0..S-1) the Metropolis kernel P (Eq. 40-42) is an exact S x S
matrix (`transition_matrix`): propose a uniform move of at most `width` states (symmetric Q),
accept with min(1, pi(y)/pi(x)). Left: p_k for a few k, from a point mass at state 0, with the
histograms of many chains run by `metropolis_hastings` on top (the sampler does what the matrix
says). Right: the total-variation distance TV(p_k, pi) decays like |lambda_2|^k, lambda_2 the
second eigenvalue of P; a wider proposal mixes faster here.
"""
import numpy as np

from minigen import backend
from minigen.backend import xp
from minigen.mcmc.metropolis import metropolis_hastings, transition_matrix
from minigen.plotting import demo_args, save

N_STATES = 30
WIDTHS = (1, 4)                 # proposal: uniform jump in {-w..-1, 1..w}, reflected at the ends
SHOW_K = (0, 20, 100, 400)      # steps drawn in the left panel
N_CHAINS = 20000
N_STEPS = 600

args = demo_args(__doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after demo_args: it selects the matplotlib mode)

if args.quick:
    N_CHAINS, N_STEPS, SHOW_K = 2000, 150, (0, 10, 50, 150)

s = np.arange(N_STATES)
pi = np.exp(-0.5 * ((s - 7) / 2.5) ** 2) + 0.6 * np.exp(-0.5 * ((s - 21) / 3.0) ** 2)   # two bumps
pi = pi / pi.sum()


def proposal_matrix(width):
    """Q[x, y]: jump j uniform in {+-1..+-width}; a jump past an end is reflected back (Q stays
    symmetric)."""
    Q = np.zeros((N_STATES, N_STATES))
    for x in range(N_STATES):
        for j in list(range(-width, 0)) + list(range(1, width + 1)):
            y = x + j
            y = -y - 1 if y < 0 else (2 * N_STATES - 1 - y if y >= N_STATES else y)   # reflect
            Q[x, y] += 1.0 / (2 * width)
    return Q


class MatrixProposal:
    """The proposal Q as a sampler proposal: draw y from row x of Q (inverse CDF), log Q(x, y)
    from the matrix."""

    def __init__(self, Q):
        self.cdf = xp.asarray(np.cumsum(Q, axis=1))
        self.logQ = xp.asarray(np.log(np.maximum(Q, 1e-300)))

    def sample(self, x, rng):
        rows = self.cdf[x[:, 0].astype(int)]                               # (n, S)
        y = xp.sum(rows < rng.random((x.shape[0], 1)), axis=1)
        return xp.minimum(y, N_STATES - 1).astype(x.dtype)[:, None]

    def log_density(self, y, x):
        return self.logQ[x[:, 0].astype(int), y[:, 0].astype(int)]


log_pi_table = xp.asarray(np.log(pi))
p0 = np.zeros(N_STATES)
p0[0] = 1.0
rng = backend.rng(args.seed)
fig, (ax_p, ax_tv) = plt.subplots(1, 2, figsize=(12, 4.6))
for w, color in zip(WIDTHS, ("C0", "C3")):
    P = backend.to_numpy(transition_matrix(pi, proposal_matrix(w)))
    balance = np.abs(pi[:, None] * P - (pi[:, None] * P).T).max()           # Eq. (41)
    lam2 = np.sort(np.abs(np.linalg.eigvals(P)))[-2]
    p, tv = p0.copy(), []
    for k in range(N_STEPS + 1):
        tv.append(0.5 * np.abs(p - pi).sum())
        if w == WIDTHS[0] and k in SHOW_K:
            ax_p.step(s, p, where="mid", lw=1.2, label=f"k = {k}")
        p = P.T @ p                                       # Eq. (39): p_{k+1} = P^T p_k
    ax_tv.semilogy(tv, color=color, label=f"width {w}: TV(p_k, pi)")
    ks = np.arange(N_STEPS + 1)
    ax_tv.semilogy(ks, tv[N_STEPS // 3] * lam2 ** (ks - N_STEPS // 3), ls="--", lw=0.8, color="k",
                   label=f"slope |lambda_2|^k, |lambda_2| = {lam2:.4f}")
    print(f"width {w}: max detailed-balance error {balance:.1e}, |lambda_2| = {lam2:.4f}, "
          + ", ".join(f"TV(p_{k}) = {tv[k]:.3f}" for k in SHOW_K))
    if w == WIDTHS[0]:
        # the sampler itself: N_CHAINS chains from state 0, histograms at the steps of SHOW_K
        res = metropolis_hastings(lambda x: log_pi_table[x[:, 0].astype(int)],
                                  xp.zeros((N_CHAINS, 1)), max(SHOW_K), None, rng,
                                  proposal=MatrixProposal(proposal_matrix(w)))
        for i, k in enumerate(SHOW_K[1:]):
            states = backend.to_numpy(res.samples[k - 1, :, 0]).astype(int)
            h = np.bincount(states, minlength=N_STATES) / N_CHAINS
            ax_p.plot(s, h, "o", ms=3, color=f"C{i + 1}",
                      label="sampler histogram" if i == 0 else None)
ax_p.bar(s, pi, color="0.85", label="target pi", zorder=0)
ax_p.set(xlabel="state x", ylabel="p_k(x)", ylim=(0, 0.2),
         title=f"p_k = (P^T)^k p_0 from a point mass at state 0 (proposal width {WIDTHS[0]})\n"
               f"lines: exact matrix power (Eq. 39); dots: {N_CHAINS} Metropolis chains")
ax_p.legend(fontsize=8)
ax_p.title.set_fontsize(10)
ax_tv.set(xlabel="step k", ylabel="total variation to pi", ylim=(1e-6, 1.5),
          title="TV(p_k, pi) -> 0 geometrically, at rate |lambda_2| of P\n"
                 "(narrow steps cross the valley between the bumps slowly)")
ax_tv.legend(fontsize=8)
ax_tv.title.set_fontsize(10)
save(fig, "markov_chain_convergence", args)
