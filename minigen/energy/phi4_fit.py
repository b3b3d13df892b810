"""Recovering (kappa, lam) of the phi^4 field from samples: score matching and maximum likelihood.

S_theta = Phi_1 + lam (Phi_2 - 2 Phi_1) - 2 kappa Phi_3 is affine in theta = (kappa, lam)
(phi4.py), so both estimators are exponential-family ones (notes §3.1, Eq. (25), (33)).
Score matching (Eq. 46, in Hyvarinen's form E[|grad S_theta|^2 / 2 - Laplacian S_theta]) is a
quadratic in theta: one 2 x 2 linear system, no sampling (Hyvarinen 2005, 2007). Maximum
likelihood follows Eq. (32), grad l = E_data dS/dtheta - E_theta dS/dtheta, with the model term
from persistent HMC chains (Eq. 35; Tieleman 2008), preconditioned by Cov_theta dS/dtheta, the
Hessian of Eq. (34): a Newton step, which converges in a few iterations.
"""
from minigen import backend
from minigen.backend import check_int, check_number, check_rng, xp
from minigen.energy.phi4 import Phi4, phi4_features
from minigen.mcmc.hmc import hmc


def _fields(phi, size):
    """phi (n, V) or (n_steps, n_chains, V) -> (n, L, L), checked."""
    L = check_int(size, "size", 2)
    phi = backend.asarray(phi, "phi")
    if phi.shape[-1] != L * L or phi.ndim not in (2, 3) or phi.size == 0:
        raise ValueError(f"phi must have shape (n, {L * L}) or (n_steps, n_chains, {L * L}) for "
                         f"size={L}; got shape {tuple(phi.shape)}")
    return backend.check_finite(phi, "phi").reshape(-1, L, L)


def _host(a):
    return [float(v) for v in backend.to_numpy(a).ravel()]


def _solve2(M, b):
    """The 2 x 2 system M theta = b on the host, by Cramer's rule (M, b: host lists)."""
    (a, c), (e, f) = (M[0], M[1]), (M[2], M[3])
    det = a * f - c * e
    if not abs(det) > 1e-12 * (abs(a * f) + abs(c * e)):
        raise ValueError("the samples do not determine (kappa, lam): the 2 x 2 system is "
                         "singular (constant or too few fields?)")
    return (f * b[0] - c * b[1]) / det, (a * b[1] - e * b[0]) / det


def score_matching_phi4(phi, size):
    """(kappa, lam) minimizing Hyvarinen's objective J = E[|grad S|^2 / 2 - Laplacian S] over
    fields phi (n, V) or (n_steps, n_chains, V) of a size x size lattice (Eq. 46).

    grad S = g_0 + kappa g_kappa + lam g_lam with g_0 = 2 phi, g_kappa = -2 (sum of the 4
    neighbours), g_lam = 4 phi^3 - 4 phi; Laplacian S = 2V + lam (12 sum phi^2 - 4V). Setting
    grad_theta J = 0: E[g_k . g_l] theta_l = E[Laplacian_k] - E[g_k . g_0]."""
    f = _fields(phi, size)
    n, V = f.shape[0], f.shape[1] * f.shape[2]
    nbrs = sum(xp.roll(f, s, axis=a) for a in (1, 2) for s in (1, -1))
    g0, gk, gl = 2.0 * f, -2.0 * nbrs, 4.0 * f * (f * f - 1.0)        # (n, L, L)

    def dot(a, b):
        return xp.sum(a * b) / n
    lap_l = 12.0 * xp.sum(f * f) / n - 4.0 * V                        # E Laplacian_lam
    M = _host(xp.stack([dot(gk, gk), dot(gk, gl), dot(gl, gk), dot(gl, gl)]))
    b = _host(xp.stack([-dot(gk, g0), lap_l - dot(gl, g0)]))
    return _solve2(M, b)


def dS_dtheta(f):
    """dS/d(kappa, lam) = (-2 Phi_3, Phi_2 - 2 Phi_1) of fields f (n, L, L): (n, 2) (Eq. 33)."""
    F = phi4_features(f)
    return xp.stack([-2.0 * F[:, 2], F[:, 1] - 2.0 * F[:, 0]], axis=1)


def max_likelihood_phi4(phi, size, rng, *, kappa0, lam0, n_iter=8, n_chains=64, n_sweeps=100,
                        step_size=0.25, n_leapfrog=8, max_change=0.25):
    """Maximum likelihood for (kappa, lam) by Eq. (31)-(35), Newton-preconditioned.

    phi: data fields (n, V) or (n_steps, n_chains, V); (kappa0, lam0): the starting point.
    Each iteration runs n_sweeps HMC steps (step_size, n_leapfrog) of n_chains persistent chains
    on p_theta_t (started from data fields), then
    theta <- theta - Cov_theta(dS/dtheta)^-1 (E_data dS/dtheta - E_theta dS/dtheta) (Newton),
    inside a trust region: when the Newton step would change kappa (or lam) by more than
    max_change times |kappa| (or lam), the step is the gradient preconditioned by the diagonal of
    Cov_theta, scaled to that size (a dogleg: near a phase transition the Hessian of the model
    is nearly singular and the Newton direction points along its flat valley, away from theta*).
    lam stays > 0 (each step changes it by at most max_change lam, max_change < 1).
    Returns (kappa, lam, history): history a list of (kappa_t, lam_t), t = 0 .. n_iter. The model
    term's Monte-Carlo error is ~ 1 / sqrt(n_chains n_sweeps / tau) of the data term's scale."""
    f = _fields(phi, size)
    L, rng = f.shape[1], check_rng(rng)
    n_iter, n_chains, n_sweeps = (check_int(v, k) for k, v in
                                  (("n_iter", n_iter), ("n_chains", n_chains),
                                   ("n_sweeps", n_sweeps)))
    theta = [check_number(kappa0, "kappa0"), check_number(lam0, "lam0", 0.0, low_open=True)]
    max_change = check_number(max_change, "max_change", 0.0, 1.0, low_open=True, high_open=True)
    data_term = _host(xp.mean(dS_dtheta(f), axis=0))                  # E_data dS/dtheta
    idx = backend.to_numpy(rng.random((n_chains,))) * f.shape[0]
    x = f[[int(i) for i in idx]].reshape(n_chains, L * L)            # chains start at data
    history = [tuple(theta)]
    for _ in range(n_iter):
        model = Phi4(L, theta[0], theta[1])
        run = hmc(model.log_prob, model.score, x, n_sweeps, step_size, n_leapfrog, rng,
                  jitter=0.2, progress=False)
        x = run.final                                                 # persistent chains
        g = dS_dtheta(run.samples.reshape(-1, L, L))                  # (n_sweeps n_chains, 2)
        mean = xp.mean(g, axis=0)
        gc = g - mean
        cov = _host(gc.T @ gc / g.shape[0])                           # Eq. (34): the Hessian
        grad = [d - m for d, m in zip(data_term, _host(mean))]        # Eq. (32)
        scale = [max(abs(theta[0]), 0.01), theta[1]]                 # the trust region's units
        step = _solve2(cov, grad)                                     # Newton
        if max(abs(d) / s for d, s in zip(step, scale)) > max_change:
            step = [grad[0] / cov[0], grad[1] / cov[3]]               # diagonal preconditioning
            size = max(abs(d) / s for d, s in zip(step, scale)) / max_change
            step = [d / size for d in step]
        theta = [theta[0] - step[0], theta[1] - step[1]]
        history.append(tuple(theta))
    return theta[0], theta[1], history
