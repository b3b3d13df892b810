"""Transport (notes §4.2, §5.2-5.4): moving one distribution onto another.

``optimal_transport``: Monge's assignment and Kantorovich's plan (§4.2), exactly (Hungarian)
and with entropy (Sinkhorn), W_p in 1-D by sorting; ``fokker_planck``: the density of a
diffusion, Eq. (105)-(113), by a conservative finite-volume scheme, beside its particles;
``flow_matching``: a velocity regressed on x1 - x0 along x_t = t x1 + (1 - t) x0, then the ODE
of ``minigen.ode`` (Lipman et al. 2023).
"""
from minigen.transport.flow_matching import (FlowMatching, conditional_flow_loss, ot_pairs, reflow,
                                             straightness, train_flow_matching)
from minigen.transport.fokker_planck import (euler_maruyama_1d, fokker_planck_1d,
                                             fokker_planck_matrix, histogram_density, random_walk)
from minigen.transport.optimal_transport import (EntropicPlan, assignment, cost_matrix, sinkhorn,
                                                 wasserstein_1d)

__all__ = ["FlowMatching", "conditional_flow_loss", "ot_pairs", "reflow", "straightness",
           "train_flow_matching", "EntropicPlan", "assignment", "cost_matrix", "sinkhorn",
           "wasserstein_1d", "euler_maruyama_1d", "fokker_planck_1d", "fokker_planck_matrix",
           "histogram_density", "random_walk"]
