"""Exchange filters read from Binance's exchangeInfo and applied before an order is sent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.hinance.filters import SymbolFilters
from trader.domain import Side
from trader.errors import VenueError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hinance"


def load(name: str) -> SymbolFilters:
    return SymbolFilters.from_exchange_info("X/USDT", json.loads((FIXTURES / name).read_text()))


def test_current_binance_filters_are_read() -> None:
    filters = load("exchange_info_ethusdt.json")
    assert filters.tick_size == Decimal("0.01")
    assert (filters.step_size, filters.min_quantity) == (Decimal("0.0001"), Decimal("0.0001"))
    assert filters.min_notional == Decimal("5") and filters.apply_min_to_market


def test_legacy_min_notional_filter_is_read() -> None:
    filters = load("exchange_info_legacy_min_notional.json")
    assert filters.min_notional == Decimal("10") and filters.step_size == Decimal("0.00001")


def test_quantity_rounds_down_and_price_toward_the_passive_side() -> None:
    filters = load("exchange_info_ethusdt.json")
    assert filters.round_quantity(Decimal("0.123456")) == Decimal("0.1234")
    assert filters.round_price(Decimal("3000.019"), Side.BUY) == Decimal("3000.01")
    assert filters.round_price(Decimal("3000.011"), Side.SELL) == Decimal("3000.02")


def test_refusals_name_the_filter_and_the_figures() -> None:
    filters = load("exchange_info_ethusdt.json")
    reason = filters.refusal(Decimal("0.001"), Decimal("3000"), market=True)
    assert reason is not None and reason.startswith("MIN_NOTIONAL: notional=3")
    assert "min_notional=5" in reason
    assert filters.refusal(Decimal("0"), Decimal("3000"), market=True).startswith("LOT_SIZE")  # type: ignore[union-attr]
    assert filters.refusal(Decimal("0.01"), Decimal("3000"), market=True) is None
    assert filters.refusal(Decimal("0.01"), None, market=True) is None


def test_missing_lot_size_is_an_error() -> None:
    with pytest.raises(VenueError, match="LOT_SIZE"):
        SymbolFilters.from_exchange_info("X/USDT", {"filters": []})
