"""`open_feed` dispatch and the content fingerprint that names a replay's run."""

import shutil
from pathlib import Path

from adapters.replay import (
    CsvFeed,
    RecordingFeed,
    RecordingWriter,
    feed_fingerprint,
    open_feed,
    parse_feed_spec,
)
from tests.replay.support import synthetic_bars, write_bars_csv


def test_csv_and_recordings_are_told_apart(tmp_path: Path) -> None:
    csv_path = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(5))
    assert isinstance(open_feed(csv_path, 300), CsvFeed)
    recording = tmp_path / "eth_usdt_5m.rec"
    with RecordingWriter(
        recording, source="t", symbols=("ETH/USDT",), interval_s=300, created_ms=0
    ) as writer:
        for bar in synthetic_bars(5):
            writer.write_bar(bar)
    assert isinstance(open_feed(recording, 300), RecordingFeed)
    sniffed = tmp_path / "no_suffix"
    shutil.copy(recording, sniffed)
    assert isinstance(open_feed(sniffed, 300), RecordingFeed)


def test_specs_name_symbols_files_and_folders(tmp_path: Path) -> None:
    one = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(3))
    two = write_bars_csv(tmp_path / "btc_usdt_5m.csv", synthetic_bars(3, symbol_index=1))
    assert parse_feed_spec(one) == [(one, None)]
    assert parse_feed_spec(f"BTC/USDT={two},{one}") == [(two, "BTC/USDT"), (one, None)]
    assert parse_feed_spec(tmp_path) == [(two, None), (one, None)]


def test_the_fingerprint_follows_content_not_location(tmp_path: Path) -> None:
    bars = synthetic_bars(6)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_bars_csv(tmp_path / "a" / "eth_usdt_5m.csv", bars)
    second = write_bars_csv(tmp_path / "b" / "eth_usdt_5m.csv", bars)
    assert feed_fingerprint(first) == feed_fingerprint(second)
    assert feed_fingerprint(first) != feed_fingerprint(f"SOL/USDT={first}")
    third = write_bars_csv(tmp_path / "b" / "eth_usdt_5m.csv", bars[:-1])
    assert feed_fingerprint(first) != feed_fingerprint(third)
