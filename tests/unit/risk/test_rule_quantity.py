"""Rule quantity: positive, finite quantity and price."""

from decimal import Decimal

from risk_builders import make_config, make_intent, make_snapshot, make_state

from risk import DenialCode
from risk.rules import quantity

CONFIG = make_config()


def run(**intent: object):
    return quantity.check(make_intent(**intent), make_snapshot(), make_state(), CONFIG)  # type: ignore[arg-type]


def test_passes_a_sane_intent() -> None:
    assert run() is None


def test_zero_and_negative_quantities_are_denied() -> None:
    for value in ("0", "-0.1"):
        denial = run(quantity=value)
        assert denial.code is DenialCode.NON_POSITIVE_QUANTITY
    assert run(quantity="-0.1").text == "NON_POSITIVE_QUANTITY: symbol=ETH/USDT, quantity=-0.1"


def test_non_finite_quantity_is_denied() -> None:
    denial = run(quantity=Decimal("NaN"))
    assert denial.code is DenialCode.INVALID_QUANTITY
    assert denial.text == "INVALID_QUANTITY: symbol=ETH/USDT, quantity=NaN"


def test_non_positive_price_is_denied() -> None:
    denial = run(price="0")
    assert denial.code is DenialCode.INVALID_PRICE
    assert denial.text == "INVALID_PRICE: symbol=ETH/USDT, reference_price=0"
