"""Transport (notes §4.2, §5.2-5.4): optimal transport, Fokker-Planck, conditional flow matching."""
