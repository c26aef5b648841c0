"""Set how many threads numpy's BLAS uses (numpy has no API for it; threadpoolctl does).

The MLP members run one small matrix product per row (`mlp_member`); OpenBLAS would split
large ones over every core, and on a shared machine its threads spin more than they compute.
Only speed depends on the thread count, never a result.
"""

from __future__ import annotations

import structlog
from threadpoolctl import threadpool_info, threadpool_limits

log = structlog.get_logger(__name__)


def limit_blas_threads(threads: int) -> bool:
    """Make the BLAS libraries loaded in this process use at most `threads` threads; return
    whether there was one to limit. The limit stays for the life of the process."""
    libraries = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    if not libraries:
        log.debug("blas.threads_unchanged", reason="no BLAS library loaded")
        return False
    threadpool_limits(limits=int(threads), user_api="blas")
    log.debug(
        "blas.threads_set",
        threads=threads,
        libraries=[info.get("internal_api") for info in libraries],
    )
    return True
