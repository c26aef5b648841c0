"""Bar sources: the seeded synthetic market and a bar CSV through `load_bars_csv`."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.paper_exchange.sources import open_source, rebase_to_now
from adapters.simulated.config import SyntheticMarketConfig
from adapters.simulated.market import SyntheticMarket
from trader.errors import ConfigError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "eth_usdt_5m.csv"


def test_synthetic_source_is_the_simulated_market() -> None:
    config = SyntheticMarketConfig(seed=5)
    source = open_source("synthetic", symbol="ETH/USDT", market=config)
    assert source.bars_at(7) == SyntheticMarket(config).bars_at(7)
    assert source.symbols == ("ETH/USDT", "BTC/USDT")


def test_csv_source_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(
        "datetime,timestamp,open,high,low,close,volume\n"
        "2025-07-07 04:00:00,1751860800000,2577.41,2580.23,2576.04,2580.22,734.5975\n"
        "2025-07-07 04:05:00,1751861100000,2580.22,2580.64,2576.37,2576.38,1198.5351\n"
    )
    source = open_source(str(path), symbol="ETH/USDT", market=SyntheticMarketConfig())
    assert len(source) == 2 and source.interval_s == 300
    bar = source.bars_at(1)[0]  # type: ignore[index]
    assert (bar.open_time_ms, bar.close, bar.volume) == (1751861100000, 2576.38, 1198.5351)
    assert source.bars_at(2) is None
    assert source.index_at(1751860800001) == 1
    assert source.specs["ETH/USDT"].tick_size.as_tuple().exponent == -2


def test_a_missing_feed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="synthetic"):
        open_source(str(tmp_path / "nope.csv"), symbol="ETH/USDT", market=SyntheticMarketConfig())


@pytest.mark.skipif(not DATA.is_file(), reason=f"recorded data {DATA} is absent")
def test_the_recorded_eth_file_is_served_whole() -> None:
    source = open_source(str(DATA), symbol="ETH/USDT", market=SyntheticMarketConfig())
    assert len(source) == 51_852
    assert source.open_time_ms(0) == 1_751_860_800_000


def test_rebased_source_starts_at_the_current_interval() -> None:
    source = open_source("synthetic", symbol="ETH/USDT", market=SyntheticMarketConfig(seed=5))
    now_ms = 1_800_000_123_456
    shifted = rebase_to_now(source, 10, now_ms)
    assert shifted.open_time_ms(10) == now_ms // 300_000 * 300_000
    assert shifted.index_at(shifted.open_time_ms(12)) == 12
    original, moved = source.bars_at(12)[0], shifted.bars_at(12)[0]  # type: ignore[index]
    assert moved.open_time_ms - original.open_time_ms == shifted.offset_ms
    assert (moved.open, moved.close, moved.volume) == (
        original.open,
        original.close,
        original.volume,
    )
