"""Cash, positions and fees of the paper account, in Decimal; marked to market on each bar."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from trader.domain import ZERO, Fill, Side
from trader.domain.money import require_decimal
from trader.errors import VenueError
from trader.ledger.records import PositionRecord


@dataclass(slots=True)
class Position:
    """One symbol's holding: quantity, average entry price and realised PnL."""

    symbol: str
    quantity: Decimal = ZERO
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO


@dataclass(slots=True)
class Portfolio:
    """The account: quote cash, positions, marks and fees paid."""

    cash: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)
    fees_paid: Decimal = ZERO

    def position(self, symbol: str) -> Decimal:
        """Return the quantity held of symbol (0 when none)."""
        held = self.positions.get(symbol)
        return held.quantity if held else ZERO

    def apply_fill(self, fill: Fill) -> None:
        """Move cash and position by one fill; fees are paid in the quote currency."""
        require_decimal("fill.quantity", fill.quantity)
        require_decimal("fill.price", fill.price)
        held = self.positions.setdefault(fill.symbol, Position(fill.symbol))
        notional = fill.quantity * fill.price
        if fill.side is Side.BUY:
            new_quantity = held.quantity + fill.quantity
            held.average_price = (held.average_price * held.quantity + notional) / new_quantity
            held.quantity = new_quantity
            self.cash -= notional + fill.fee
        else:
            if fill.quantity > held.quantity:
                raise VenueError(
                    f"fill {fill.fill_id} sells {fill.quantity} {fill.symbol} "
                    f"but only {held.quantity} is held"
                )
            held.realized_pnl += (fill.price - held.average_price) * fill.quantity
            held.quantity -= fill.quantity
            if held.quantity == 0:
                held.average_price = ZERO
            self.cash += notional - fill.fee
        held.realized_pnl -= fill.fee
        self.fees_paid += fill.fee
        self.marks.setdefault(fill.symbol, fill.price)

    def mark(self, symbol: str, price: Decimal) -> None:
        """Record the latest close of symbol for mark-to-market."""
        self.marks[symbol] = require_decimal("mark price", price)

    def exposure(self) -> Decimal:
        """Return Σ quantity × mark over all positions."""
        total = ZERO
        marks = self.marks
        for symbol, held in self.positions.items():
            total += held.quantity * marks.get(symbol, held.average_price)
        return total

    def equity(self) -> Decimal:
        """Return cash + Σ quantity × mark."""
        return self.cash + self.exposure()

    def position_records(self) -> tuple[PositionRecord, ...]:
        """Return every symbol's position for the ledger, sorted by symbol."""
        if not self.positions:
            return ()
        marks = self.marks
        return tuple(
            [
                PositionRecord(
                    symbol,
                    held.quantity,
                    held.average_price,
                    held.realized_pnl,
                    marks.get(symbol, held.average_price),
                )
                for symbol, held in sorted(self.positions.items())
            ]
        )
