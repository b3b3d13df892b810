"""minigen: generative modelling by transport and denoising, in NumPy/CuPy, one equation at a time.

Rooms: ``minigen.mcmc`` (Markov chains, Langevin, HMC), ``minigen.energy`` (Gibbs energy models,
score matching, the phi^4 field), ``minigen.diffusion`` (score diffusion), ``minigen.flows``
(normalizing flows), ``minigen.transport`` (optimal transport, Fokker-Planck, flow matching),
``minigen.gans`` (GAN, WGAN, conditional GAN), ``minigen.latent`` (the VAE). Shared pieces:
``minigen.backend`` (xp, rng), ``minigen.host`` (malloc, BLAS threads), ``minigen.distributions``,
``minigen.metrics``, ``minigen.nn`` (networks), ``minigen.optim`` (Adam, the training loop),
``minigen.ode`` (integrators, divergence, Liouville), ``minigen.io`` (save and load),
``minigen.check`` (exercise mode).
"""
__version__ = "0.1.0"
