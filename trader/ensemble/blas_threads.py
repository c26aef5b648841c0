"""Set how many threads numpy's BLAS uses (numpy has no API for it; threadpoolctl does).

The MLP members run one small matrix product per row (`mlp_member`); OpenBLAS would split
large ones over every core, and on a shared machine its threads spin more than they compute.
Only speed depends on the thread count, never a result. Which kernels OpenBLAS runs does change
the last bits (`trader.blas_kernels`), so they are logged here, with a warning where they are
not the pinned ones.
"""

from __future__ import annotations

import os

import structlog
from threadpoolctl import threadpool_info, threadpool_limits

from trader.blas_kernels import CORE_TYPE_VARIABLE, PINNED_CORE, takes_pinned_kernels

log = structlog.get_logger(__name__)


def limit_blas_threads(threads: int) -> bool:
    """Make the BLAS libraries loaded in this process use at most `threads` threads; return
    whether there was one to limit. The limit stays for the life of the process."""
    libraries = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if not libraries:
        log.debug("blas.threads_unchanged", reason="no BLAS library loaded")
        return False
    threadpool_limits(limits=int(threads), user_api="blas")
    kernels = openblas_kernels(libraries)
    log.debug(
        "blas.threads_set",
        threads=threads,
        libraries=[info.get("internal_api") for info in libraries],
        kernels=kernels,
    )
    _warn_if_unpinned(kernels)
    return True


def openblas_kernels(libraries: list[dict] | None = None) -> list[str | None]:
    """Return the kernel family of each OpenBLAS loaded in this process (threadpoolctl's)."""
    if libraries is None:
        libraries = threadpool_info()
    return [
        info.get("architecture") for info in libraries if info.get("internal_api") == "openblas"
    ]


def _warn_if_unpinned(kernels: list[str | None]) -> None:
    """Warn where numpy was imported before trader could pin the kernels (the variable is then
    unset). A value the user set is theirs: OpenBLAS may report it by another name (Zen as
    Haswell)."""
    if CORE_TYPE_VARIABLE in os.environ or not takes_pinned_kernels():
        return
    unpinned = [kernel for kernel in kernels if str(kernel).lower() != PINNED_CORE.lower()]
    if unpinned:
        log.warning(
            "blas.kernels_not_pinned",
            kernels=unpinned,
            wanted=PINNED_CORE,
            reason="numpy was imported before trader; model outputs may differ from other "
            "machines' in their last bits",
        )
