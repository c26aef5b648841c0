"""Signals become intents: BUY toward the target exposure, SELL out, HOLD nothing."""

from decimal import Decimal

from trader.domain import Action, Side, Signal
from trader.sizing import SizingConfig, size_intent


def signal(action: Action) -> Signal:
    return Signal("s", "ETH/USDT", 0, 0, "p", action, 0.7, (0.1, 0.2, 0.7))


def test_buy_targets_a_share_of_equity() -> None:
    intent = size_intent(
        signal(Action.BUY),
        equity=Decimal("10000"),
        position=Decimal("0.25"),
        price=Decimal("2000"),
        config=SizingConfig(target_exposure=0.2),
    )
    assert intent is not None
    assert intent.side is Side.BUY
    assert intent.quantity == Decimal("0.75")  # target 1.0 minus the 0.25 held


def test_sell_exits_and_hold_or_dust_does_nothing() -> None:
    config = SizingConfig()
    sell = size_intent(
        signal(Action.SELL),
        equity=Decimal("1"),
        position=Decimal("2"),
        price=Decimal("10"),
        config=config,
    )
    assert sell is not None and sell.side is Side.SELL and sell.quantity == Decimal("2")
    assert (
        size_intent(
            signal(Action.HOLD),
            equity=Decimal("1e4"),
            position=Decimal(0),
            price=Decimal(1),
            config=config,
        )
        is None
    )
    dust = size_intent(
        signal(Action.SELL),
        equity=Decimal("1e4"),
        position=Decimal("0.001"),
        price=Decimal("100"),
        config=config,
    )
    assert dust is None  # 0.10 USDT is below min_trade_notional
    at_target = size_intent(
        signal(Action.BUY),
        equity=Decimal("10000"),
        position=Decimal("1"),
        price=Decimal("2000"),
        config=config,
    )
    assert at_target is None
