"""Normalizing flows (notes §2.8.1, §4.5, §5.1): layers.py, the bijections of Glow / RealNVP
(affine coupling, LU mixing, actnorm, Eq. (80)-(86)); coupling.py, their composition trained by
maximum likelihood (Eq. (77)-(79)); hamiltonian.py, leapfrog steps of a learned H(q, p) in phase
space (log|det J| = 0, Eq. (12)), trained on an ELBO. A trained ``CouplingFlow`` or
``HamiltonianFlow`` saves and loads with ``minigen.io``."""
from minigen.flows.coupling import CouplingFlow, make_coupling_flow, train_coupling_flow
from minigen.flows.hamiltonian import HamiltonianFlow, leapfrog, train_hamiltonian_flow

__all__ = ["CouplingFlow", "HamiltonianFlow", "leapfrog", "make_coupling_flow",
           "train_coupling_flow", "train_hamiltonian_flow"]
