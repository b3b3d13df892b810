"""GANs (notes §2.7, §3.4, §4.1-4.3): gan.py, the original minimax game (Eq. (47), Algorithm 2,
Lemma 1, Theorem 1); wgan.py, the Wasserstein GAN with a Lipschitz critic (Eq. (59)-(63)),
by weight clipping or gradient penalty; cgan.py, the conditional GAN G(z|y), D(x|y) (Eq. (64));
common.py, the data scaling, generator and loop they share."""
from minigen.gans.cgan import CGAN, train_cgan
from minigen.gans.gan import GAN, train_gan
from minigen.gans.wgan import WGAN, train_wgan

__all__ = ["CGAN", "GAN", "WGAN", "train_cgan", "train_gan", "train_wgan"]
