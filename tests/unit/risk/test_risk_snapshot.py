"""MarketSnapshot: validated, read-only inputs."""

from decimal import Decimal

import pytest
from risk_builders import ETH, make_snapshot

from risk import MarketSnapshot
from trader.errors import DataError, MoneyTypeError


def test_snapshot_copies_its_maps_read_only() -> None:
    positions = {ETH: Decimal("1")}
    snapshot = make_snapshot(positions=positions)
    positions[ETH] = Decimal("5")
    assert snapshot.position(ETH) == Decimal("1")
    assert snapshot.position("XRP/USDT") == Decimal(0)
    with pytest.raises(TypeError):
        snapshot.positions[ETH] = Decimal("2")  # type: ignore[index]  # read-only under test


def _snapshot(**changes: object) -> MarketSnapshot:
    fields: dict[str, object] = {
        "time_ms": 1_000_000,
        "interval_s": 300,
        "equity": Decimal("100"),
        "cash": Decimal("100"),
        "positions": {},
        "marks": {},
        "last_bar_open_ms": {},
        "window_clean": {},
    }
    fields.update(changes)
    return MarketSnapshot(**fields)  # type: ignore[arg-type]  # bad values under test


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"equity": 100.0}, MoneyTypeError, "equity must be Decimal"),
        ({"cash": Decimal("Infinity")}, DataError, "cash must be finite"),
        ({"positions": {ETH: 1.5}}, MoneyTypeError, "positions\\['ETH/USDT'\\] must be Decimal"),
        ({"marks": {ETH: Decimal(0)}}, DataError, "must be positive"),
        ({"interval_s": 0}, DataError, "interval_s must be positive"),
        ({"time_ms": 1.5}, DataError, "time_ms must be an integer"),
        ({"last_bar_open_ms": {ETH: "0"}}, DataError, "last_bar_open_ms"),
        ({"window_clean": {ETH: 1}}, DataError, "window_clean"),
    ],
)
def test_bad_snapshot_values_are_refused(
    changes: dict[str, object], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        _snapshot(**changes)
