"""A replay publishes on a real Redis; a Redis killed mid-replay never stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from tests.replay.support import eth_csv, rows, run, settings_for
from tests.support.bus_schema import check_message
from tests.support.redis_server import RedisServer


class Subscriber(threading.Thread):
    """PSUBSCRIBE 'trader:*' in a thread, reconnecting when the server goes away."""

    def __init__(self, server: RedisServer, on_message: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.on_message = on_message
        self.messages: list[tuple[float, str, dict[str, Any]]] = []
        self.subscribed = threading.Event()
        self.stop_requested = threading.Event()

    def run(self) -> None:
        while not self.stop_requested.is_set():
            try:
                client = redis.Redis(host=self.server.host, port=self.server.port)
                pubsub = client.pubsub()
                pubsub.psubscribe("trader:*")  # redis-py re-subscribes after a reconnect
                while not self.stop_requested.is_set():
                    message = pubsub.get_message(timeout=0.05)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":
                        self.subscribed.set()
                        continue
                    payload = orjson.loads(message["data"])
                    channel = message["channel"].decode()
                    self.messages.append((time.monotonic(), channel, payload))
                    self.on_message(payload)
                pubsub.close()
                client.close()
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                time.sleep(0.05)

    def finish(self) -> None:
        self.stop_requested.set()
        self.join(timeout=5)


def received(subscriber: Subscriber, channels: dict[str, int]) -> dict[str, int]:
    """Return how many messages the subscriber has received on each of `channels`."""
    counts = dict.fromkeys(channels, 0)
    for _at, channel, _payload in list(subscriber.messages):
        if channel in counts:
            counts[channel] += 1
    return counts


@pytest.mark.parametrize("writer", ["inline", "process"])
def test_a_subscriber_receives_every_signal_of_a_replay(
    tmp_path: Path, redis_server: RedisServer, writer: str
) -> None:
    feed = eth_csv(tmp_path, 400)
    subscriber = Subscriber(redis_server, lambda _payload: None)
    subscriber.start()
    ledger = {"replay_writer_process_min_events": 1 if writer == "process" else 0}
    try:
        assert subscriber.subscribed.wait(5)
        settings = settings_for(
            tmp_path, feed, bus={"redis_url": redis_server.url()}, ledger=ledger
        )
        result = run(settings)
        assert result.writer_process == (writer == "process")
        # The last pipeline's messages may still be in flight to the subscriber.
        expected = {"trader:signals": result.totals.signals, "trader:fills": result.totals.fills}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and received(subscriber, expected) != expected:
            time.sleep(0.02)
    finally:
        subscriber.finish()
    problems = [
        (channel, check_message(payload))
        for _at, channel, payload in subscriber.messages
        if check_message(payload)
    ]
    assert problems == []
    firehose = [p for _at, c, p in subscriber.messages if c == "trader:signals"]
    per_symbol = [p for _at, c, p in subscriber.messages if c == "trader:signals:ETH-USDT"]
    ledger = rows(tmp_path / "ledger.db", "SELECT signal_id, action FROM signals")
    assert sorted((p["signal_id"], p["action"]) for p in firehose) == sorted(ledger)
    assert per_symbol == firehose
    assert {p["run_id"] for p in firehose} == {result.run_id}
    fills = [p for _at, c, p in subscriber.messages if c == "trader:fills"]
    assert len(fills) == result.totals.fills > 0
    orders = {p["order_id"] for _at, c, p in subscriber.messages if c == "trader:orders"}
    assert {f["order_id"] for f in fills} <= orders
    assert any(c == "trader:heartbeat" for _at, c, _p in subscriber.messages)


def test_redis_killed_mid_replay_the_run_completes_and_publishing_resumes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    feed = eth_csv(tmp_path, 700)
    outage: dict[str, float] = {}

    def kill_after_some_signals(payload: dict[str, Any]) -> None:
        if payload.get("type") == "signal" and "killed" not in outage:
            outage["seen"] = outage.get("seen", 0) + 1
            if outage["seen"] >= 40:
                outage["killed"] = time.monotonic()
                threading.Thread(target=bounce, daemon=True).start()

    def bounce() -> None:
        redis_server.kill()
        time.sleep(0.5)
        redis_server.start()
        outage["restarted"] = time.monotonic()

    subscriber = Subscriber(redis_server, kill_after_some_signals)
    subscriber.start()
    try:
        assert subscriber.subscribed.wait(5)
        settings = settings_for(
            tmp_path,
            feed,
            bus={
                "redis_url": redis_server.url(),
                "reconnect_initial_s": 0.05,
                "reconnect_max_s": 0.2,
                "connect_timeout_s": 0.3,
            },
        )
        result = run(settings, speed=250)  # paced: the outage happens mid-run
        time.sleep(0.3)
    finally:
        subscriber.finish()
    assert "restarted" in outage
    assert result.events == 700 and result.totals.stopped_by == "feed_end"
    assert rows(tmp_path / "ledger.db", "SELECT count(*) FROM events") == [(700,)]
    assert rows(tmp_path / "ledger.db", "SELECT count(*) FROM signals") == [(650,)]
    after = [
        payload
        for at, channel, payload in subscriber.messages
        if channel == "trader:signals" and at > outage["restarted"]
    ]
    assert after, "no signal arrived after Redis came back"
    before = [
        p["seq"]
        for at, c, p in subscriber.messages
        if c == "trader:signals" and at < outage["killed"]
    ]
    assert min(p["seq"] for p in after) > max(before)
