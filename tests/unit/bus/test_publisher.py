"""RedisBus behaviour that needs no live server: bounded buffer, refusals, an unreachable Redis."""

import random

import pytest
import structlog

from tests.support.bus_samples import RUN_ID, make_chain, make_risk_event
from tests.support.redis_server import free_port
from trader.bus import Bus, BusConfig, NullBus, RedisBus, create_bus
from trader.errors import ConfigError

PASSWORD = "pa55-w0rd-never-logged"


def _config(**fields: object) -> BusConfig:
    base: dict[str, object] = {
        "redis_url": f"redis://127.0.0.1:{free_port()}/0",
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        "connect_timeout_s": 0.5,
    }
    return BusConfig(**{**base, **fields})


def _chains(count: int) -> list:
    return [make_chain(bar_open_time_ms=1_751_860_800_000 + i * 300_000) for i in range(count)]


async def test_full_buffer_drops_the_oldest_and_counts_them() -> None:
    bus = RedisBus(_config(buffer_size=3), RUN_ID)
    for chain in _chains(5):
        assert bus.publish_signal(chain.signal) is None
    assert bus.stats() == {
        "state": "degraded",
        "published": 0,
        "dropped": 2,
        "buffered": 3,
        "reconnects": 0,
    }
    await bus.stop(timeout_s=0.5)
    assert bus.stats()["dropped"] == 5  # never started: what was buffered is lost at stop
    bus.publish_risk_event(make_risk_event())
    assert bus.stats()["dropped"] == 6
    assert bus.stats()["buffered"] == 0


async def test_signal_with_order_queues_two_messages() -> None:
    bus = RedisBus(_config(), RUN_ID)
    chain = make_chain()
    bus.publish_signal(chain.signal, chain.decision, chain.order)
    bus.publish_fill(chain.fill, chain.order)
    assert bus.stats()["buffered"] == 3
    await bus.stop(timeout_s=0.5)


async def test_bad_messages_never_raise_and_are_counted() -> None:
    bus = RedisBus(_config(), RUN_ID)
    chain, other = _chains(2)
    with structlog.testing.capture_logs() as logs:
        bus.publish_signal(chain.signal, other.decision)
        bus.publish_fill(chain.fill, other.order)
        bus.heartbeat({"unserialisable": object()})
    assert bus.stats()["dropped"] == 3
    assert bus.stats()["buffered"] == 0
    failures = [entry for entry in logs if entry["event"] == "bus.publish_failed"]
    assert [entry["message_type"] for entry in failures] == ["signal", "fill", "heartbeat"]
    assert {entry["reason"] for entry in failures} == {"invalid_message"}
    await bus.stop(timeout_s=0.5)


async def test_unreachable_redis_degrades_without_leaking_the_password() -> None:
    port = free_port()
    config = _config(redis_url=f"redis://alice:{PASSWORD}@127.0.0.1:{port}/0")
    bus = RedisBus(config, RUN_ID, rng=random.Random(1))
    with structlog.testing.capture_logs() as logs:
        await bus.start()
        assert bus.state == "degraded"
        for chain in _chains(4):
            bus.publish_signal(chain.signal, chain.decision, chain.order)
        assert bus.stats()["buffered"] == 8
        await bus.stop(timeout_s=0.5)
    assert bus.stats()["dropped"] == 8
    degraded = [entry for entry in logs if entry["event"] == "bus.degraded"]
    assert degraded and degraded[0]["during"] == "start"
    assert degraded[0]["url"] == f"redis://alice:***@127.0.0.1:{port}/0"
    assert PASSWORD not in repr(logs)


async def test_disabled_bus_is_a_null_bus() -> None:
    bus = create_bus(BusConfig(redis_url=""), RUN_ID)
    assert isinstance(bus, NullBus)
    assert isinstance(bus, Bus)
    chain = make_chain()
    await bus.start()
    bus.publish_signal(chain.signal, chain.decision, chain.order)
    bus.publish_fill(chain.fill, chain.order)
    bus.publish_risk_event(make_risk_event())
    bus.heartbeat({"bars": 1})
    await bus.stop()
    assert bus.stats() == {
        "state": "disabled",
        "published": 0,
        "dropped": 0,
        "buffered": 0,
        "reconnects": 0,
    }


def test_enabled_config_gives_a_redis_bus_and_redis_bus_needs_a_url() -> None:
    bus = create_bus(_config(), RUN_ID)
    assert isinstance(bus, RedisBus)
    assert isinstance(bus, Bus)
    with pytest.raises(ConfigError, match="redis_url"):
        RedisBus(BusConfig(redis_url=None), RUN_ID)
