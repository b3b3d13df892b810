"""Process-wide settings of the host that make small training steps fast on a CPU.

keep_freed_memory: glibc's malloc keeps freed heap for the next step instead of page-faulting
it back; one_blas_thread: NumPy's BLAS on one thread while a trainer runs. Both are measured in
benchmarks/training.py; neither changes a result.
"""
import contextlib
import ctypes
import os
import sys


def keep_freed_memory(pad=64 << 20):
    """Ask glibc's malloc to keep ``pad`` bytes of freed heap instead of returning them to the OS.

    A training step allocates and frees the same few-hundred-kilobyte arrays every time; by default
    glibc gives them back and takes them again through page faults, which cost a third of a small
    network's step (the benchmarks/training.py figures). One process-wide setting (M_TOP_PAD),
    applied once when minigen.backend is imported, on Linux; ``MINIGEN_MALLOC=default`` in the
    environment leaves malloc alone.
    Returns True if the setting was applied.
    """
    if not sys.platform.startswith("linux") or os.environ.get("MINIGEN_MALLOC") == "default":
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-2, int(pad)))     # -2: M_TOP_PAD
    except (OSError, AttributeError):                                   # not glibc
        return False


def one_blas_thread():
    """A context in which NumPy's BLAS runs on one thread (threadpoolctl; nothing if it is missing).

    Training multiplies small matrices (batch 256-1024 by widths 32-96): a second BLAS thread does
    not shorten a step, it spins and doubles the CPU time, and makes the wall time vary by 2x from
    run to run on a 2-core machine (benchmarks/training.py). The trainers run inside it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")
