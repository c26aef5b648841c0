"""trader: a live paper-trading daemon for a PyTorch model ensemble on crypto bars."""

from trader.blas_kernels import pin_blas_kernels

pin_blas_kernels()  # before anything imports numpy: the same model bits on every x86-64 machine

__version__ = "0.1.0"
