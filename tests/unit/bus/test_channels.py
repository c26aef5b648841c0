"""Channel and key names of the bus."""

import pytest

from trader.bus.channels import Channels, symbol_slug


def test_default_channel_names() -> None:
    channels = Channels()
    assert channels.signals == "trader:signals"
    assert channels.signals_for("ETH/USDT") == "trader:signals:ETH-USDT"
    assert channels.signals_pattern == "trader:signals:*"
    assert channels.orders == "trader:orders"
    assert channels.fills == "trader:fills"
    assert channels.risk == "trader:risk"
    assert channels.heartbeat == "trader:heartbeat"
    assert channels.status_key == "trader:status"
    assert channels.all_pattern == "trader:*"


def test_prefix_is_applied_everywhere() -> None:
    channels = Channels("paper1")
    assert channels.signals_for("BTC/USDT") == "paper1:signals:BTC-USDT"
    assert channels.status_key == "paper1:status"


@pytest.mark.parametrize(
    ("symbol", "slug"),
    [
        ("ETH/USDT", "ETH-USDT"),
        ("eth/usdt", "ETH-USDT"),
        ("ETH-USDT", "ETH-USDT"),
        ("BTCUSDT", "BTCUSDT"),
    ],
)
def test_symbol_slug_accepts_both_spellings(symbol: str, slug: str) -> None:
    assert symbol_slug(symbol) == slug
