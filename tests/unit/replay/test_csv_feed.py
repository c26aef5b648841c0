"""The CSV feed: columns by name, one or several files grouped by close time, resume, errors."""

import asyncio
from pathlib import Path

import pytest

from adapters.replay import CsvFeed, open_feed
from tests.replay.support import synthetic_bars, write_bars_csv
from trader.domain import BarEvent
from trader.errors import DataError


def collect(feed: object, since_ms: int | None = None) -> list[BarEvent]:
    async def gather() -> list[BarEvent]:
        return [event async for event in feed.events(since_ms)]  # type: ignore[attr-defined]

    return asyncio.run(gather())


def test_columns_are_matched_by_name_in_any_order(tmp_path: Path) -> None:
    bars = synthetic_bars(40)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    standard = write_bars_csv(tmp_path / "a" / "eth_usdt_5m.csv", bars)
    shuffled = write_bars_csv(
        tmp_path / "b" / "eth_usdt_5m.csv",
        bars,
        ("volume", "close", "timestamp", "low", "open", "high", "datetime"),
    )
    first = collect(open_feed(standard, 300))
    second = collect(open_feed(shuffled, 300))
    assert first == second
    assert [event.bars[0] for event in first] == bars


def test_datetime_alone_gives_the_open_time(tmp_path: Path) -> None:
    bars = synthetic_bars(10)
    path = write_bars_csv(
        tmp_path / "eth_usdt_5m.csv", bars, ("datetime", "open", "high", "low", "close", "volume")
    )
    events = collect(open_feed(path, 300))
    assert [event.bars[0].open_time_ms for event in events] == [b.open_time_ms for b in bars]
    assert all(event.close_time_ms == event.bars[0].close_time_ms for event in events)


def test_several_files_form_one_feed_grouped_by_close_time(tmp_path: Path) -> None:
    eth = synthetic_bars(30, symbol_index=0)
    btc = synthetic_bars(30, symbol_index=1)
    write_bars_csv(tmp_path / "eth_usdt_5m.csv", eth)
    write_bars_csv(tmp_path / "btc_usdt_5m.csv", btc[5:])  # BTC starts five bars later
    feed = open_feed(f"{tmp_path / 'eth_usdt_5m.csv'},{tmp_path / 'btc_usdt_5m.csv'}", 300)
    assert feed.symbols == ("ETH/USDT", "BTC/USDT")
    events = collect(feed)
    assert len(events) == 30
    assert [len(event.bars) for event in events[:6]] == [1, 1, 1, 1, 1, 2]
    assert [bar.symbol for bar in events[10].bars] == ["BTC/USDT", "ETH/USDT"]
    times = [event.close_time_ms for event in events]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_a_folder_of_csvs_and_symbol_equals_path_specs(tmp_path: Path) -> None:
    write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(12))
    write_bars_csv(tmp_path / "btc_usdt_5m.csv", synthetic_bars(12, symbol_index=1))
    assert set(open_feed(tmp_path, 300).symbols) == {"ETH/USDT", "BTC/USDT"}
    named = write_bars_csv(tmp_path / "bars.csv", synthetic_bars(12))
    assert open_feed(f"sol-usdt={named}", 300).symbols == ("SOL/USDT",)


def test_since_ms_resumes_at_the_first_bar_opening_then(tmp_path: Path) -> None:
    bars = synthetic_bars(20)
    feed = open_feed(write_bars_csv(tmp_path / "eth_usdt_5m.csv", bars), 300)
    events = collect(feed, since_ms=bars[12].open_time_ms)
    assert [event.bars[0] for event in events] == bars[12:]
    assert collect(feed, since_ms=bars[-1].close_time_ms) == []


def test_bad_rows_reach_the_engine_and_unsorted_rows_are_put_in_time_order(
    tmp_path: Path,
) -> None:
    bars = synthetic_bars(8)
    path = write_bars_csv(tmp_path / "eth_usdt_5m.csv", [bars[0], bars[2], bars[1], *bars[3:]])
    text = path.read_text().replace(repr(bars[5].close), "nan", 1)
    path.write_text(text)
    events = collect(open_feed(path, 300))
    assert [event.bars[0].open_time_ms for event in events] == [b.open_time_ms for b in bars]
    assert events[5].bars[0].close != events[5].bars[0].close  # NaN, for the gate to reject


def test_a_file_of_another_interval_is_refused(tmp_path: Path) -> None:
    path = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(10))
    with pytest.raises(DataError, match="300 s bars but the run expects 60 s"):
        open_feed(path, 60)


def test_missing_columns_files_and_duplicate_symbols_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "eth_usdt_5m.csv"
    bad.write_text("timestamp,open,high,low,close\n1,2,3,1,2\n")
    with pytest.raises(DataError, match="volume"):
        open_feed(bad, 300)
    with pytest.raises(DataError, match="not found"):
        open_feed(tmp_path / "missing.csv", 300)
    one = write_bars_csv(tmp_path / "x.csv", synthetic_bars(5))
    with pytest.raises(DataError, match="same symbol"):
        open_feed(f"ETH/USDT={one},ETH/USDT={one}", 300)
    with pytest.raises(DataError, match="at least one"):
        CsvFeed([])
