"""Symbols read from bar file names, and normalised spellings."""

from pathlib import Path

import pytest

from adapters.replay import normalise_symbol, symbol_from_path
from trader.errors import DataError


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("eth_usdt_5m.csv", "ETH/USDT"),
        ("BTC-USDT.csv", "BTC/USDT"),
        ("sol_usdc_1h_2025.csv", "SOL/USDC"),
        ("ETHUSDT.csv", "ETH/USDT"),
        ("ethbtc_5m.csv", "ETH/BTC"),
        ("eth_usdt_5m.jsonl", "ETH/USDT"),
    ],
)
def test_the_symbol_comes_from_the_file_name(name: str, symbol: str) -> None:
    assert symbol_from_path(Path("/data") / name) == symbol


@pytest.mark.parametrize("name", ["bars.csv", "5m.csv", "data_.csv"])
def test_a_name_without_a_symbol_is_a_clear_error(name: str) -> None:
    with pytest.raises(DataError, match="SYMBOL=PATH"):
        symbol_from_path(Path(name))


@pytest.mark.parametrize("text", ["eth-usdt", "ETH/USDT", " eth_usdt "])
def test_symbols_are_normalised_to_exchange_spelling(text: str) -> None:
    assert normalise_symbol(text) == "ETH/USDT"


def test_a_malformed_symbol_is_refused() -> None:
    with pytest.raises(DataError, match="not a symbol"):
        normalise_symbol("ETHUSDT")
