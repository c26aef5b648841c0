"""The venue-side spot account: balances per asset, with amounts reserved by open orders.

A BUY reserves quote currency and a SELL reserves base currency while open, as Binance locks
them; `enforce_cash` and `allow_short` switch those checks off (a margin-like account).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from adapters.simulated.errors import OrderRejectedError, RejectCode
from trader.domain import ZERO, Side
from trader.domain.money import require_decimal


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset's balance: `free` can back new orders, `locked` is reserved by open ones."""

    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        """Return free plus locked."""
        return self.free + self.locked


class VenueAccount:
    """Spot balances that fills move and open orders reserve."""

    def __init__(
        self,
        quote_asset: str,
        initial_cash: Decimal,
        *,
        enforce_cash: bool = True,
        allow_short: bool = False,
    ) -> None:
        self.quote_asset = quote_asset
        self.initial_cash = require_decimal("initial_cash", initial_cash)
        self.enforce_cash = enforce_cash
        self.allow_short = allow_short
        self._totals: dict[str, Decimal] = {quote_asset: initial_cash}
        self._reserved: dict[str, tuple[str, Decimal]] = {}

    def total(self, asset: str) -> Decimal:
        """Return the asset's whole balance, reserved or not (negative only when unchecked)."""
        return self._totals.get(asset, ZERO)

    def locked(self, asset: str) -> Decimal:
        """Return the amount of the asset reserved by open orders."""
        return sum(
            (amount for held, amount in self._reserved.values() if held == asset), start=ZERO
        )

    def free(self, asset: str) -> Decimal:
        """Return the amount of the asset not reserved by open orders."""
        return self.total(asset) - self.locked(asset)

    def reserved(self, order_id: str) -> Decimal:
        """Return what an order still has reserved (0 when nothing)."""
        return self._reserved.get(order_id, ("", ZERO))[1]

    def balances(self) -> dict[str, Balance]:
        """Return every asset's balance, quote asset first."""
        return {
            asset: Balance(asset, self.free(asset), self.locked(asset)) for asset in self._totals
        }

    def is_checked(self, side: Side) -> bool:
        """Return whether orders on this side must be covered by a free balance."""
        return self.enforce_cash if side is Side.BUY else not self.allow_short

    def reserve(self, order_id: str, side: Side, asset: str, amount: Decimal) -> None:
        """Reserve `amount` of `asset` for an order, or reject it when the free balance is short."""
        if not self.is_checked(side):
            return
        self._totals.setdefault(asset, ZERO)
        available = self.free(asset)
        if amount > available:
            raise OrderRejectedError(
                order_id,
                RejectCode.INSUFFICIENT_BALANCE,
                asset=asset,
                required=amount,
                free=available,
            )
        self._reserved[order_id] = (asset, amount)

    def restore(
        self, totals: Mapping[str, Decimal], reservations: Mapping[str, tuple[str, Decimal]]
    ) -> None:
        """Replace every balance and reservation with a resumed run's (nothing is checked).

        The caller vouches for consistency: the totals and what open orders still hold are
        exactly what the account had when the run stopped.
        """
        restored = {self.quote_asset: ZERO}  # quote asset first, as `balances` promises
        for asset, amount in totals.items():
            restored[asset] = require_decimal(f"balance of {asset}", amount)
        held = {
            order_id: (asset, require_decimal(f"reservation of {order_id}", amount))
            for order_id, (asset, amount) in reservations.items()
        }
        self._totals = restored
        self._reserved = held

    def spendable(self, order_id: str, side: Side, asset: str) -> Decimal | None:
        """Return what a fill may spend (reservation plus free balance); None when unchecked."""
        if not self.is_checked(side):
            return None
        return self.reserved(order_id) + self.free(asset)

    def release(self, order_id: str) -> None:
        """Give back whatever an order still has reserved (it filled, expired or was canceled)."""
        self._reserved.pop(order_id, None)

    def settle(
        self,
        order_id: str,
        side: Side,
        base_asset: str,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
    ) -> None:
        """Move balances for one fill: the fee is charged in the quote asset."""
        notional = quantity * price
        quote = self.quote_asset
        self._totals.setdefault(base_asset, ZERO)
        if side is Side.BUY:
            self._consume(order_id, notional + fee)
            self._totals[quote] -= notional + fee
            self._totals[base_asset] += quantity
        else:
            self._consume(order_id, quantity)
            self._totals[base_asset] -= quantity
            self._totals[quote] += notional - fee

    def _consume(self, order_id: str, amount: Decimal) -> None:
        held = self._reserved.get(order_id)
        if held is None:
            return
        asset, reserved = held
        self._reserved[order_id] = (asset, max(reserved - amount, ZERO))
