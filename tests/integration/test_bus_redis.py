"""The Redis bus against a real redis-server: documented messages, outage and recovery, auth."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import structlog
import typer
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from typer.testing import CliRunner

from tests.support.bus_samples import (
    RUN_ID,
    make_chain,
    make_denial,
    make_equity,
    make_risk_event,
    make_signal,
)
from tests.support.bus_schema import check_message
from tests.support.redis_server import RedisServer, free_port
from trader.bus import BusConfig, RedisBus
from trader.bus.messages import decode, encode, equity_fields, signal_message
from trader.bus.status import read_status
from trader.cli.signals_command import signals
from trader.errors import TraderError

Received = list[tuple[str, dict[str, Any]]]
WAIT_S = 15.0  # generous bound for a loaded 2-core machine; never asserted as a duration


def _config(url: str, **fields: Any) -> BusConfig:
    base: dict[str, Any] = {
        "redis_url": url,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        "connect_timeout_s": 0.5,
    }
    return BusConfig(**{**base, **fields})


async def _subscribe(url: str, *, pattern: str | None = None, channel: str | None = None) -> PubSub:
    pubsub = Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
    if pattern is not None:
        await pubsub.psubscribe(pattern)
    if channel is not None:
        await pubsub.subscribe(channel)
    return pubsub


async def _collect(
    pubsub: PubSub, done: Callable[[Received], bool], *, wait_s: float = WAIT_S
) -> Received:
    """Read messages until `done(received)` holds or wait_s passes; return what arrived."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    received: Received = []
    while not done(received) and loop.time() < deadline:
        raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if raw is not None and raw["type"] in ("message", "pmessage"):
            received.append((raw["channel"].decode(), decode(raw["data"])))
    return received


async def _until(predicate: Callable[[], bool], *, wait_s: float = WAIT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def _close(pubsub: PubSub) -> None:
    await pubsub.aclose()
    await pubsub.connection_pool.disconnect()


def _chains(count: int, first: int = 0) -> list:
    return [
        make_chain(bar_open_time_ms=1_751_860_800_000 + i * 300_000) for i in range(first, count)
    ]


async def test_subscriber_receives_the_documented_linked_messages(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url()
    pubsub = await _subscribe(url, pattern="trader:*")
    bus = RedisBus(_config(url), RUN_ID)
    await bus.start()
    assert bus.state == "ok"

    chain = make_chain()
    denied = make_signal("BTC/USDT")
    bus.publish_signal(chain.signal, chain.decision, chain.order)
    bus.publish_fill(chain.fill, chain.order)
    bus.publish_risk_event(make_risk_event())
    bus.publish_signal(denied, make_denial(denied))
    bus.heartbeat({"equity": equity_fields(make_equity()), "bars": 1})

    def complete(received: Received) -> bool:
        plain = [m for _, m in received if m["type"] != "heartbeat"]
        beats = [m for _, m in received if m["type"] == "heartbeat" and "equity" in m]
        return len(plain) == 7 and bool(beats)

    received = await _collect(pubsub, complete)
    assert complete(received), received
    for _, message in received:
        assert check_message(message) == [], message

    by_channel: dict[str, list[dict[str, Any]]] = {}
    for channel, message in received:
        by_channel.setdefault(channel, []).append(message)
    assert sorted(by_channel) == [
        "trader:fills",
        "trader:heartbeat",
        "trader:orders",
        "trader:risk",
        "trader:signals",
        "trader:signals:BTC-USDT",
        "trader:signals:ETH-USDT",
    ]
    eth_signal = by_channel["trader:signals:ETH-USDT"][0]
    assert by_channel["trader:signals"][0] == eth_signal
    assert [m["symbol"] for m in by_channel["trader:signals"]] == ["ETH/USDT", "BTC/USDT"]
    order = by_channel["trader:orders"][0]
    fill = by_channel["trader:fills"][0]
    # signal → decision → order → fill
    assert eth_signal["signal_id"] == chain.signal.signal_id
    assert eth_signal["decision_id"] == order["decision_id"] == fill["decision_id"]
    assert eth_signal["order_id"] == order["order_id"] == fill["order_id"]
    assert fill["signal_id"] == order["signal_id"] == eth_signal["signal_id"]
    assert fill["fill_id"] == chain.fill.fill_id
    btc_signal = by_channel["trader:signals:BTC-USDT"][0]
    assert btc_signal["decision"]["code"] == "DRAWDOWN_HALTED"
    assert btc_signal["order_id"] is None
    assert by_channel["trader:risk"][0]["to_state"] == "REDUCING"
    seqs = [m["seq"] for m in by_channel["trader:signals"]]
    assert seqs == sorted(seqs)

    # The status key holds the latest heartbeat and expires unless refreshed.
    client = Redis.from_url(url)
    ttl = await client.ttl("trader:status")
    assert 0 < ttl <= 30
    await client.aclose()
    status = await read_status(_config(url))
    assert status is not None
    assert status["type"] == "heartbeat"
    assert status["bus_state"] == "ok"
    assert status["equity"]["equity"] == "10000.03"
    assert 0 < status["ttl_s"] <= 30

    await bus.stop()
    stats = bus.stats()
    assert stats["dropped"] == 0
    assert stats["buffered"] == 0
    assert stats["published"] >= 6  # 5 messages plus at least one heartbeat
    await _close(pubsub)


async def test_killed_redis_degrades_drops_the_overflow_and_recovers(
    redis_server: RedisServer,
) -> None:
    url = redis_server.url()
    gate = asyncio.Event()

    async def gated_sleep(_delay_s: float) -> None:
        # Hold reconnection until the test has its new subscriber in place.
        await gate.wait()

    bus = RedisBus(_config(url, buffer_size=50), RUN_ID, rng=random.Random(3), sleep=gated_sleep)
    await bus.start()
    pubsub = await _subscribe(url, channel="trader:signals")
    for chain in _chains(3):
        bus.publish_signal(chain.signal)
    before = await _collect(pubsub, lambda r: len(r) == 3)
    assert [m["seq"] for _, m in before] == [1, 2, 3]
    await _close(pubsub)

    with structlog.testing.capture_logs() as logs:
        redis_server.kill()
        bus.publish_signal(_chains(4, 3)[0].signal)
        await _until(lambda: bus.state == "degraded")
        for chain in _chains(124, 4):
            assert bus.publish_signal(chain.signal) is None
        assert bus.stats() == {
            "state": "degraded",
            "published": bus.stats()["published"],
            "dropped": 71,  # 121 queued during the outage into a buffer of 50
            "buffered": 50,
            "reconnects": 0,
        }

        redis_server.start()
        pubsub = await _subscribe(url, channel="trader:signals")
        gate.set()
        recovered = await _collect(pubsub, lambda r: len(r) == 50)
        assert [m["seq"] for _, m in recovered] == list(range(75, 125))
        await _until(lambda: bus.state == "ok")
        assert bus.stats()["reconnects"] == 1

        fresh = make_chain(bar_open_time_ms=1_751_860_800_000 + 200 * 300_000).signal
        bus.publish_signal(fresh)
        after = await _collect(pubsub, lambda r: len(r) == 1)
        assert after[0][1]["signal_id"] == fresh.signal_id
        assert after[0][1]["seq"] == 125

    events = [entry["event"] for entry in logs]
    assert "bus.publish_failed" in events
    assert events.count("bus.degraded") == 1
    assert events.count("bus.reconnected") == 1
    reconnected = next(entry for entry in logs if entry["event"] == "bus.reconnected")
    assert reconnected["dropped"] == 71

    status = await read_status(_config(url))
    assert status is not None
    assert status["reconnects"] == 1
    assert status["dropped"] == 71
    await bus.stop()
    await _close(pubsub)


async def test_stop_flushes_everything_buffered(redis_server: RedisServer) -> None:
    url = redis_server.url()
    pubsub = await _subscribe(url, channel="trader:signals")
    bus = RedisBus(_config(url), RUN_ID)
    await bus.start()
    for chain in _chains(1500):
        bus.publish_signal(chain.signal, chain.decision, chain.order)
    await bus.stop(timeout_s=10.0)
    stats = bus.stats()
    assert stats["dropped"] == 0
    assert stats["buffered"] == 0
    assert stats["published"] >= 3000  # 1500 signals and 1500 orders, plus heartbeats
    received = await _collect(pubsub, lambda r: len(r) == 1500)
    assert len(received) == 1500
    await _close(pubsub)


@pytest.mark.parametrize(
    ("server_args", "username"),
    [
        (("--requirepass", "Req-Pass-3141"), None),
        (("--user", "alice", "on", ">Acl-Pass-2718", "~*", "&*", "+@all"), "alice"),
    ],
    ids=["requirepass", "acl-user"],
)
async def test_credentials_in_the_url_work_and_never_reach_the_logs(
    redis_server_factory: Callable[..., RedisServer],
    server_args: tuple[str, ...],
    username: str | None,
) -> None:
    password = "Req-Pass-3141" if username is None else "Acl-Pass-2718"
    server = redis_server_factory(*server_args)
    url = server.url(username=username, password=password)
    pubsub = await _subscribe(url, channel="trader:signals")
    with structlog.testing.capture_logs() as logs:
        bus = RedisBus(_config(url), RUN_ID)
        await bus.start()
        assert bus.state == "ok"
        chain = make_chain()
        bus.publish_signal(chain.signal, chain.decision, chain.order)
        received = await _collect(pubsub, lambda r: len(r) == 1)
        await bus.stop()
    assert received[0][1]["signal_id"] == chain.signal.signal_id
    connected = next(entry for entry in logs if entry["event"] == "bus.connected")
    assert connected["url"] == f"redis://{username or ''}:***@127.0.0.1:{server.port}/0"
    assert password not in repr(logs)
    await _close(pubsub)


async def test_wrong_password_degrades_and_the_password_stays_out_of_logs(
    redis_server_factory: Callable[..., RedisServer],
) -> None:
    server = redis_server_factory("--requirepass", "Right-Pass-1")
    wrong = "Wrong-Pass-9"
    with structlog.testing.capture_logs() as logs:
        bus = RedisBus(_config(server.url(password=wrong)), RUN_ID)
        await bus.start()
        assert bus.state == "degraded"
        bus.publish_signal(make_signal())
        await bus.stop(timeout_s=0.5)
    assert bus.stats()["dropped"] == 1
    assert any(entry["event"] == "bus.degraded" for entry in logs)
    assert wrong not in repr(logs)
    with pytest.raises(TraderError) as caught:
        await read_status(_config(server.url(password=wrong)))
    assert wrong not in str(caught.value)


async def test_read_status_is_none_without_a_heartbeat(redis_server: RedisServer) -> None:
    assert await read_status(_config(redis_server.url(), channel_prefix="nobody")) is None


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(signals)
    return app


def _publish_until(url: str, stop: threading.Event, payloads: list[bytes]) -> threading.Thread:
    """Publish the payloads round-robin every 20 ms until stop is set (the CLI subscribes late)."""

    def run() -> None:
        client = SyncRedis.from_url(url)
        i = 0
        while not stop.is_set():
            data = payloads[i % len(payloads)]
            symbol = decode(data)["symbol"].replace("/", "-")
            client.publish("trader:signals", data)
            client.publish(f"trader:signals:{symbol}", data)
            i += 1
            stop.wait(0.02)
        client.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("as_json", [False, True], ids=["lines", "json"])
def test_signals_command_tails_one_symbol(redis_server: RedisServer, as_json: bool) -> None:
    url = redis_server.url()
    eth = make_chain()
    btc = make_signal("BTC/USDT")
    payloads = [
        encode(
            signal_message(eth.signal, run_id=RUN_ID, decision=eth.decision, order=eth.order)
            | {"seq": 1}
        ),
        encode(signal_message(btc, run_id=RUN_ID) | {"seq": 2}),
    ]
    stop = threading.Event()
    thread = _publish_until(url, stop, payloads)
    try:
        args = ["--redis-url", url, "--symbol", "ETH/USDT", "--count", "2"]
        result = CliRunner().invoke(_cli(), [*args, "--json"] if as_json else args)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        if as_json:
            message = orjson.loads(line)
            assert check_message(message) == []
            assert message["symbol"] == "ETH/USDT"
        else:
            assert line.startswith("2025-07-07T04:00:00.000Z ETH/USDT")
            assert " BUY  conf=0.610 P[S/H/B]=0.09/0.30/0.61" in line
            assert "lstm 0.10/0.30/0.60 3.2ms" in line
            assert "mlp 0.50/0.25/0.25 0.8ms (excluded)" in line
            assert f"risk=SIZE_CAPPED qty=0.0100 order={eth.order.order_id}" in line


def test_signals_command_reports_an_unreachable_bus_without_the_password() -> None:
    url = f"redis://bob:Cli-Pass-77@127.0.0.1:{free_port()}/0"
    result = CliRunner().invoke(_cli(), ["--redis-url", url, "--count", "1"])
    assert result.exit_code == 1
    assert "cannot subscribe at redis://bob:***@127.0.0.1" in result.stderr
    assert "Cli-Pass-77" not in result.output
