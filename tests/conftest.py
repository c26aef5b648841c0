"""Fixtures shared by every test suite (imports only)."""

import trader  # noqa: F401  # first: pins OpenBLAS's kernels before a test module imports numpy
from tests.support.redis_server import redis_server, redis_server_factory

__all__ = ["redis_server", "redis_server_factory"]
