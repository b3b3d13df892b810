"""minigen: generative modelling by transport and denoising, in NumPy/CuPy, one equation at a time.

Rooms: ``minigen.mcmc`` (Markov chains, Langevin), ``minigen.diffusion`` (score diffusion),
``minigen.flows`` (normalizing flows), ``minigen.gans`` (GAN, WGAN). Shared pieces:
``minigen.backend`` (xp, rng), ``minigen.host`` (malloc, BLAS threads), ``minigen.distributions``,
``minigen.metrics``, ``minigen.nn`` (networks), ``minigen.optim`` (Adam, the training loop).
"""
__version__ = "0.1.0"
