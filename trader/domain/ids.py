"""Deterministic ids: the same run, symbol, bar time and sequence always give the same id."""

import hashlib
from collections.abc import Sequence


def _short_hash(*parts: object) -> str:
    text = "|".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def signal_id(run_id: str, symbol: str, bar_open_time_ms: int) -> str:
    """Return the id of the signal for one symbol's closed bar."""
    return f"sig-{_short_hash(run_id, symbol, bar_open_time_ms)}"


def signal_ids(run_id: str, symbols: Sequence[str], bar_open_times_ms: Sequence[int]) -> list[str]:
    """Return `signal_id` of every (symbol, bar open time) pair, computed in one pass."""
    sha256 = hashlib.sha256
    return [
        f"sig-{sha256(f'{run_id}|{symbol}|{time_ms}'.encode()).hexdigest()[:16]}"
        for symbol, time_ms in zip(symbols, bar_open_times_ms, strict=True)
    ]


def decision_id(run_id: str, symbol: str, bar_open_time_ms: int, sequence: int) -> str:
    """Return the id of a risk decision."""
    return f"dec-{_short_hash(run_id, symbol, bar_open_time_ms, sequence)}"


def order_id(run_id: str, symbol: str, bar_open_time_ms: int, sequence: int) -> str:
    """Return the client order id; Binance accepts up to 36 characters of [.A-Z:/a-z0-9_-]."""
    return f"trd-{_short_hash(run_id, symbol, bar_open_time_ms, sequence)}"


def fill_id(order_id_: str, sequence: int) -> str:
    """Return the id of the sequence-th fill of an order."""
    return f"fil-{_short_hash(order_id_, sequence)}"
