"""Symbols of bar files: given explicitly, or read from a file name like `eth_usdt_5m.csv`."""

from __future__ import annotations

import re
from pathlib import Path

from trader.errors import DataError

# Longest first, so `ETHUSDT` splits as ETH/USDT rather than ETHUSD/T.
QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB")
_SEPARATORS = re.compile(r"[_\-\s.]+")
_INTERVAL = re.compile(r"^\d+[smhdw]$", re.IGNORECASE)


def symbol_from_path(path: Path) -> str:
    """Return the symbol a bar file's name spells: `eth_usdt_5m.csv` → `ETH/USDT`.

    The name's parts are split on `_`, `-` or `.`; an interval part (`5m`, `1h`) is ignored. Two
    parts name base and quote; one part such as `ETHUSDT` is split at a known quote asset.
    """
    parts = [part for part in _SEPARATORS.split(path.stem) if part]
    parts = [part.upper() for part in parts if not _INTERVAL.match(part)]
    if len(parts) >= 2 and parts[0].isalnum() and parts[1].isalnum():
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 1:
        for quote in QUOTE_ASSETS:
            base = parts[0].removesuffix(quote)
            if base != parts[0] and base.isalnum():
                return f"{base}/{quote}"
    raise DataError(
        f"cannot tell the symbol from the file name {path.name!r}; name it like "
        "eth_usdt_5m.csv or give the symbol as SYMBOL=PATH (e.g. ETH/USDT=bars.csv)"
    )


def normalise_symbol(text: str) -> str:
    """Return a symbol in exchange spelling: `eth-usdt` or `ETH/USDT` → `ETH/USDT`."""
    cleaned = text.strip().upper().replace("-", "/").replace("_", "/")
    base, separator, quote = cleaned.partition("/")
    if not separator or not base.isalnum() or not quote.isalnum():
        raise DataError(f"not a symbol like ETH/USDT: {text!r}")
    return f"{base}/{quote}"
