"""Fixtures shared by every test suite (imports only)."""

from tests.support.redis_server import redis_server, redis_server_factory

__all__ = ["redis_server", "redis_server_factory"]
