"""How a signal becomes an order intent: target a share of equity on BUY, exit on SELL.

Sizing is deliberately simple and separate from risk: risk may only shrink or refuse what
sizing asks for, never enlarge it.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from pydantic import BaseModel, ConfigDict, field_validator

from trader.domain import Action, OrderIntent, Side, Signal

QUANTITY_QUANTUM = Decimal("0.00000001")


class SizingConfig(BaseModel):
    """Target exposure per symbol on BUY, share of the position sold on SELL, dust threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_exposure: float = 0.20
    sell_fraction: float = 1.0
    min_trade_notional: Decimal = Decimal("10")

    @field_validator("target_exposure", "sell_fraction")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0.0 < value <= 1.0:
            raise ValueError(f"must be in (0, 1], got {value}")
        return value


def size_intent(
    signal: Signal,
    *,
    equity: Decimal,
    position: Decimal,
    price: Decimal,
    config: SizingConfig,
) -> OrderIntent | None:
    """Return the order that moves the position toward the signal's target, or None.

    BUY raises the position toward `target_exposure × equity`; SELL sells `sell_fraction` of
    it; HOLD and changes below `min_trade_notional` produce nothing.
    """
    if signal.action is Action.HOLD or price <= 0:
        return None
    if signal.action is Action.BUY:
        target = equity * Decimal(repr(config.target_exposure)) / price
        quantity = target - position
        side = Side.BUY
    else:
        quantity = position * Decimal(repr(config.sell_fraction))
        side = Side.SELL
    quantity = quantity.quantize(QUANTITY_QUANTUM, rounding=ROUND_DOWN)
    if quantity <= 0 or quantity * price < config.min_trade_notional:
        return None
    return OrderIntent(
        symbol=signal.symbol,
        side=side,
        quantity=quantity,
        reference_price=price,
        confidence=signal.confidence,
        signal_id=signal.signal_id,
    )
