"""`trader record`: the synthetic adapter's bars to a recording that replays like the original."""

import asyncio
from pathlib import Path

import orjson
import typer
from typer.testing import CliRunner

from adapters.replay import RecordingFeed, RecordingWriter, read_records
from adapters.replay.recorder import tap_klines
from tests.replay.support import run, settings_for
from trader.cli.record_command import record, record_configured_feed
from trader.config import load_config


def synthetic_settings(bars: int = 0) -> object:
    return load_config(environ={}, cli_overrides={"market": {"speed": 0, "bars": bars}})


def test_recording_the_synthetic_feed_keeps_every_bar(tmp_path: Path) -> None:
    out = tmp_path / "synthetic.jsonl"
    count = asyncio.run(record_configured_feed(synthetic_settings(), out, max_events=120))
    assert count == 120
    header, records = read_records(out)
    assert header.source == "synthetic" and header.symbols == ("ETH/USDT", "BTC/USDT")
    bars = [record for record in records if record["kind"] == "bar"]
    assert len(bars) == 240 and all(isinstance(record["recv_ms"], int) for record in bars)
    feed = RecordingFeed(out, 300)
    assert feed.bar_count == 240 and feed.symbols == ("ETH/USDT", "BTC/USDT")
    result = run(settings_for(tmp_path, out))
    assert result.events == 120 and result.totals.signals == 2 * (120 - 50)


def test_the_command_records_and_reports(tmp_path: Path) -> None:
    config = tmp_path / "record.toml"
    config.write_text("[market]\nspeed = 0\n")
    out = tmp_path / "rec.jsonl"
    app = typer.Typer()
    app.command("record")(record)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(
        app, ["record", "--config", str(config), "--out", str(out), "--bars", "5"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"recorded 5 bar events to {out}"
    assert sum(1 for _ in out.open()) == 1 + 10


def test_a_kline_tap_records_each_raw_message_before_passing_it_on(tmp_path: Path) -> None:
    seen: list[tuple[str, dict]] = []
    out = tmp_path / "raw.jsonl"
    with RecordingWriter(
        out, source="hinance", symbols=("ETH/USDT",), interval_s=300, created_ms=0
    ) as writer:
        listener = tap_klines(
            lambda s, k: seen.append((s, k)), writer, "hinance.ws.kline", lambda: 42
        )
        listener("ETH/USDT", {"t": 1, "x": True, "c": "2500.1"})
    assert seen == [("ETH/USDT", {"t": 1, "x": True, "c": "2500.1"})]
    raw = orjson.loads(out.read_bytes().splitlines()[1])
    assert raw == {
        "kind": "raw",
        "recv_ms": 42,
        "source": "hinance.ws.kline",
        "payload": {"symbol": "ETH/USDT", "kline": {"t": 1, "x": True, "c": "2500.1"}},
    }
