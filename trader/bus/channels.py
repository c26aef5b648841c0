"""Redis channel and key names of the bus, derived from one prefix."""

from __future__ import annotations

from dataclasses import dataclass


def symbol_slug(symbol: str) -> str:
    """Return the channel form of a symbol: upper case, "/" becomes "-" (ETH/USDT → ETH-USDT)."""
    return symbol.strip().upper().replace("/", "-")


@dataclass(frozen=True, slots=True)
class Channels:
    """Every name the bus publishes to, for one `channel_prefix`."""

    prefix: str = "trader"

    @property
    def signals(self) -> str:
        """Return the firehose channel carrying every symbol's signals."""
        return f"{self.prefix}:signals"

    def signals_for(self, symbol: str) -> str:
        """Return one symbol's signal channel, e.g. `trader:signals:ETH-USDT`."""
        return f"{self.prefix}:signals:{symbol_slug(symbol)}"

    @property
    def signals_pattern(self) -> str:
        """Return the PSUBSCRIBE pattern matching every per-symbol signal channel."""
        return f"{self.prefix}:signals:*"

    @property
    def orders(self) -> str:
        """Return the channel of orders sent to the venue."""
        return f"{self.prefix}:orders"

    @property
    def fills(self) -> str:
        """Return the channel of fills."""
        return f"{self.prefix}:fills"

    @property
    def risk(self) -> str:
        """Return the channel of risk state changes."""
        return f"{self.prefix}:risk"

    @property
    def heartbeat(self) -> str:
        """Return the heartbeat channel."""
        return f"{self.prefix}:heartbeat"

    @property
    def status_key(self) -> str:
        """Return the key holding the latest heartbeat as JSON, expiring after `status_ttl_s`."""
        return f"{self.prefix}:status"

    @property
    def all_pattern(self) -> str:
        """Return the PSUBSCRIBE pattern matching every channel of this prefix."""
        return f"{self.prefix}:*"
