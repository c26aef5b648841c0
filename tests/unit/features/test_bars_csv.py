"""Loading bar CSVs: the ETH file, column order, missing columns and malformed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from feature_builders import ETH_CSV, eth_series, require

from trader.domain import Bar
from trader.errors import DataError
from trader.features.bars_csv import BarSeries, load_bars_csv

ROWS = [
    ("2025-07-07 04:00:00", 1751860800000, 2577.41, 2580.23, 2576.04, 2580.22, 734.5975),
    ("2025-07-07 04:05:00", 1751861100000, 2580.22, 2580.64, 2576.37, 2576.38, 1198.5351),
    ("2025-07-07 04:10:00", 1751861400000, 2576.38, 2578.0, 2575.0, 2577.5, 100.0),
]
NAMES = ("datetime", "timestamp", "open", "high", "low", "close", "volume")


def write_csv(path: Path, names: tuple[str, ...], rows: list[tuple[object, ...]]) -> Path:
    lines = [",".join(names)]
    lines += [",".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_eth_file_loads_with_its_shape_and_interval() -> None:
    series = eth_series()
    assert len(series) == 51_852
    assert series.interval_s == 300
    assert series.symbol == "ETH/USDT"
    assert series.open_time_ms[0] == 1_751_860_800_000
    assert series.open_time_ms.dtype == np.int64
    assert series.close[0] == 2580.22
    assert np.all(np.diff(series.open_time_ms) == 300_000)


def test_columns_match_by_name_in_any_order_and_extras_are_ignored(tmp_path: Path) -> None:
    order = (6, 4, 0, 5, 2, 1, 3)
    names = (*(NAMES[i] for i in order), "trades")
    rows = [(*(row[i] for i in order), 42) for row in ROWS]
    shuffled = load_bars_csv(write_csv(tmp_path / "shuffled.csv", names, rows))
    plain = load_bars_csv(write_csv(tmp_path / "plain.csv", NAMES, ROWS))
    for column in ("open_time_ms", "open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(shuffled, column), getattr(plain, column))
    assert plain.interval_s == 300


def test_missing_column_is_named(tmp_path: Path) -> None:
    names = tuple(name for name in NAMES if name != "low")
    rows = [
        tuple(value for name, value in zip(NAMES, row, strict=True) if name != "low")
        for row in ROWS
    ]
    with pytest.raises(DataError, match="low"):
        load_bars_csv(write_csv(tmp_path / "nolow.csv", names, rows))


def test_missing_time_columns_name_timestamp(tmp_path: Path) -> None:
    names = NAMES[2:]
    rows = [row[2:] for row in ROWS]
    with pytest.raises(DataError, match="timestamp"):
        load_bars_csv(write_csv(tmp_path / "notime.csv", names, rows))


def test_datetime_is_used_when_timestamp_is_absent(tmp_path: Path) -> None:
    names = (NAMES[0], *NAMES[2:])
    rows = [(row[0], *row[2:]) for row in ROWS]
    series = load_bars_csv(write_csv(tmp_path / "dt.csv", names, rows), symbol="BTC/USDT")
    assert series.open_time_ms.tolist() == [row[1] for row in ROWS]
    assert series.symbol == "BTC/USDT"


def test_malformed_value_is_a_data_error(tmp_path: Path) -> None:
    rows = [*ROWS[:2], (*ROWS[2][:4], "oops", *ROWS[2][5:])]
    with pytest.raises(DataError, match="malformed"):
        load_bars_csv(write_csv(tmp_path / "bad.csv", NAMES, rows))


def test_header_only_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows"):
        load_bars_csv(write_csv(tmp_path / "empty.csv", NAMES, []))


def test_absent_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_bars_csv(tmp_path / "absent.csv")


def test_series_round_trips_through_bars(tmp_path: Path) -> None:
    series = load_bars_csv(write_csv(tmp_path / "plain.csv", NAMES, ROWS), interval_s=300)
    bars = series.to_bars()
    assert bars[1] == Bar(
        "ETH/USDT", 300, 1751861100000, 2580.22, 2580.64, 2576.37, 2576.38, 1198.5351
    )
    assert series.bar(1) == bars[1]
    rebuilt = BarSeries.from_bars(bars)
    assert np.array_equal(rebuilt.close, series.close)
    assert len(rebuilt) == 3
    with pytest.raises(ValueError, match="read-only"):
        series.close[0] = 1.0


def test_eth_file_is_found_relative_to_the_repo() -> None:
    assert require(ETH_CSV).name == "eth_usdt_5m.csv"
