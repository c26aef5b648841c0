"""The recording format: header, raw and bar records, exact round trip, and clear errors."""

import asyncio
import math
from pathlib import Path

import orjson
import pytest

from adapters.replay import FORMAT, RecordingFeed, RecordingWriter, open_feed, read_records
from tests.replay.support import synthetic_bars
from trader.domain import Bar
from trader.errors import DataError


def write(path: Path, bars: list[Bar], raw: int = 0) -> Path:
    with RecordingWriter(
        path, source="test", symbols=("ETH/USDT",), interval_s=300, created_ms=1
    ) as writer:
        for index in range(raw):
            writer.write_raw(1000 + index, "test.ws", {"k": {"x": True, "n": index}})
        for bar in bars:
            writer.write_bar(bar, recv_ms=bar.close_time_ms + 5)
    return path


def test_bars_round_trip_exactly_including_non_finite_values(tmp_path: Path) -> None:
    bars = synthetic_bars(6)
    bars[2] = Bar("ETH/USDT", 300, bars[2].open_time_ms, math.nan, 1.0, 2.0, 1.5, math.inf)
    path = write(tmp_path / "eth.jsonl", bars, raw=3)
    feed = RecordingFeed(path, 300)

    async def gather() -> list[Bar]:
        return [bar async for event in feed.events() for bar in event.bars]

    back = asyncio.run(gather())
    assert back[0] == bars[0] and back[3:] == bars[3:]
    assert math.isnan(back[2].open) and back[2].volume == math.inf
    assert feed.raw_records == 3 and feed.symbols == ("ETH/USDT",)


def test_the_file_is_json_lines_with_a_versioned_header(tmp_path: Path) -> None:
    path = write(tmp_path / "eth.jsonl", synthetic_bars(2), raw=1)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines[0] == {
        "kind": "header",
        "format": FORMAT,
        "version": 1,
        "source": "test",
        "symbols": ["ETH/USDT"],
        "interval_s": 300,
        "created_ms": 1,
    }
    assert lines[1] == {
        "kind": "raw",
        "recv_ms": 1000,
        "source": "test.ws",
        "payload": {"k": {"x": True, "n": 0}},
    }
    assert set(lines[2]) == {
        "kind", "symbol", "interval_s", "open_time_ms", "o", "h", "l", "c", "v", "recv_ms",
    }  # fmt: skip


def test_unknown_record_kinds_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "eth.jsonl", synthetic_bars(3))
    with path.open("ab") as handle:
        handle.write(b'{"kind": "note", "text": "added by a later version"}\n')
    feed = open_feed(path, 300)
    assert isinstance(feed, RecordingFeed) and feed.unknown_records == 1
    assert feed.bar_count == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty recording"),
        (b'{"kind": "bar"}\n', "starts with a header"),
        (b'{"kind": "header", "format": "other", "version": 1}\n', "is not 'trader.recording'"),
        (b'{"kind": "header", "format": "trader.recording", "version": 9}\n', "version 9"),
    ],
)
def test_a_bad_header_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_records(path)


def test_a_bad_line_names_its_line_number(tmp_path: Path) -> None:
    path = write(tmp_path / "eth.jsonl", synthetic_bars(2))
    with path.open("ab") as handle:
        handle.write(b'{"kind": "bar", "symbol": "ETH/USDT", "interval_s": 300}\n')
        handle.write(b"not json\n")
    with pytest.raises(DataError, match=r"eth.jsonl:4: bar record lacks 'open_time_ms'"):
        RecordingFeed(path)
    path.write_bytes(path.read_bytes().replace(b'{"kind": "bar", "symbol"', b'{"x', 1))
    with pytest.raises(DataError, match=r":\d+: "):
        RecordingFeed(path)


def test_a_recording_of_another_interval_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "eth.jsonl", synthetic_bars(2))
    with pytest.raises(DataError, match="300 s bars but the run expects 60 s"):
        open_feed(path, 60)
