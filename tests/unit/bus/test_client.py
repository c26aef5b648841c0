"""Building Redis clients from URLs: credentials and TLS come from the URL, nothing connects."""

import pytest
from redis.asyncio.connection import Connection, SSLConnection

from trader.bus.client import build_client
from trader.errors import ConfigError


async def test_rediss_url_with_credentials_uses_tls_and_auth() -> None:
    client = build_client("rediss://alice:s%40cret@redis.example.com:6380/2", connect_timeout_s=0.5)
    try:
        pool = client.connection_pool
        assert pool.connection_class is SSLConnection
        kwargs = pool.connection_kwargs
        assert kwargs["host"] == "redis.example.com"
        assert kwargs["port"] == 6380
        assert kwargs["db"] == 2
        assert kwargs["username"] == "alice"
        assert kwargs["password"] == "s@cret"
        assert kwargs["socket_connect_timeout"] == 0.5
        assert client.get_retry().get_retries() == 0
    finally:
        await client.aclose()


async def test_redis_url_is_plain_tcp_and_subscriber_has_no_read_timeout() -> None:
    client = build_client("redis://:pw@127.0.0.1:6379/0", read_timeout_s=None)
    try:
        pool = client.connection_pool
        assert pool.connection_class is Connection
        assert pool.connection_kwargs["password"] == "pw"
        assert pool.connection_kwargs["socket_timeout"] is None
    finally:
        await client.aclose()


def test_unsupported_scheme_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="invalid Redis URL") as caught:
        build_client("http://alice:hunter2@host")
    assert "hunter2" not in str(caught.value)
