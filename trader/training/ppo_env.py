"""PPO-LSTM's trading environment: recorded bars executed on the real simulated venue.

One step = one closed bar: the agent sees the normalised features and 5 portfolio features
(models.md §5), picks SELL / HOLD / BUY, and the order goes to `SimulatedVenue`, which fills it
at the next bar's open with its spread, impact and fees; the reward is the log change of
portfolio value over that bar (percent). BUY spends the free cash (long), SELL sells the whole
holding (flat), HOLD does nothing: the long/flat rule of the backtest, with the venue's costs.
"""

from __future__ import annotations

import math
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from adapters.simulated import OrderRejectedError, SimulatedVenue, SimulatedVenueConfig, SymbolSpec
from adapters.simulated.filters import round_down
from trader.domain import Order, OrderType, Side, to_decimal
from trader.errors import DataError
from trader.training.dataset import BUY, SELL, LabeledDataset

PORTFOLIO_FEATURES = 5
T = TypeVar("T")


class PPOEnvConfig(BaseModel):
    """The venue the agent trades on and the exchange filters of the traded symbol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: SimulatedVenueConfig = SimulatedVenueConfig()
    tick_size: Decimal = Decimal("0.01")
    step_size: Decimal = Decimal("0.0001")
    min_notional: Decimal = Decimal("5")
    reward_scale: float = Field(default=100.0, gt=0.0)


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends and return its result.

    The simulated venue's methods are `async` for the Venue protocol but never await; driving
    them directly costs microseconds per bar instead of an event-loop round trip.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a simulated venue coroutine suspended; it cannot be run synchronously")


class VenueEnv:
    """One account on a fresh `SimulatedVenue`, stepping through consecutive dataset rows."""

    def __init__(
        self, dataset: LabeledDataset, inputs: np.ndarray, config: PPOEnvConfig | None = None
    ) -> None:
        self.dataset = dataset
        self.inputs = inputs
        self.config = config or PPOEnvConfig()
        self.initial_cash = float(self.config.venue.initial_cash)
        venue = self.config.venue
        # A market BUY reserves cash for the worst price the venue charges (half spread plus
        # impact at the participation cap) plus the fee; buying more would be rejected.
        worst = (
            venue.half_spread_bps / 10_000
            + venue.impact_coefficient * venue.participation_cap.sqrt()
        )
        self._reserve_factor = (1 + worst) * (1 + venue.taker_fee)
        self.row = -1
        self.end_row = -1
        self.episode = 0

    # -- episode ---------------------------------------------------------------------------------

    def reset(self, start_row: int, steps: int) -> np.ndarray:
        """Start a fresh account at `start_row` for `steps` decisions; return the observation.

        The rows start_row … start_row + steps − 1 must be consecutive bars of one series.
        """
        data = self.dataset
        last = start_row + steps - 1
        consecutive = (
            steps >= 1
            and last < len(data)
            and int(data.row_after(np.array([start_row]), steps - 1)[0]) == last
        )
        if not consecutive:
            raise DataError(f"rows {start_row}..{last} are not {steps} consecutive bars")
        self.series = data.series[int(data.series_index[start_row])]
        spec = SymbolSpec(
            symbol=self.series.symbol,
            start_price=to_decimal(float(data.close[start_row])),
            tick_size=self.config.tick_size,
            step_size=self.config.step_size,
            min_notional=self.config.min_notional,
        )
        self.spec = spec
        self.venue = SimulatedVenue(self.config.venue, [spec])
        self.episode += 1
        self.row = start_row
        self.end_row = last
        self.sequence = 0
        self.entry_cost = 0.0
        self.first_price = float(data.close[start_row])
        run_now(self.venue.on_bars([self.series.bar(int(data.series_row[start_row]))]))
        self.value = self._value(self.first_price)
        self.fees = 0.0
        self.trades = 0
        return self.observation()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        """Act at the current bar's close; the next bar fills it. Return (obs, reward, done)."""
        if self.row < 0 or self.row > self.end_row:
            raise DataError("the episode is over; call reset first")
        self._cancel_open()
        self._order(action)
        bar_index = int(self.dataset.series_row[self.row]) + 1
        if bar_index < len(self.series):
            for fill in run_now(self.venue.on_bars([self.series.bar(bar_index)])):
                self._book(fill.side, float(fill.quantity), float(fill.price))
                self.fees += float(fill.fee)
        else:
            bar_index -= 1  # the recording ends: nothing fills, the book stays marked
        price = float(self.series.close[bar_index])
        value = self._value(price)
        reward = math.log(value / self.value) * self.config.reward_scale
        self.value = value
        done = self.row == self.end_row
        self.row += 1
        return self.observation(price) if not done else self._final(price), reward, done

    # -- observation -------------------------------------------------------------------------------

    def portfolio(self, price: float) -> np.ndarray:
        """Return the 5 portfolio features of models.md §5 at `price`."""
        position = self.position
        cash = self.cash
        unrealised = position * price - self.entry_cost
        return np.array(
            [
                position / (self.initial_cash / price),
                cash / self.initial_cash,
                unrealised / self.initial_cash,
                price / self.first_price,
                (cash + position * price) / self.initial_cash,
            ],
            dtype=np.float32,
        )

    def observation(self, price: float | None = None) -> np.ndarray:
        """Return the 65-vector at the current row: features, then portfolio features."""
        price = float(self.dataset.close[self.row]) if price is None else price
        return np.concatenate([self.inputs[self.row], self.portfolio(price)]).astype(np.float32)

    def _final(self, price: float) -> np.ndarray:
        # After the last decision there is no row to observe; the features repeat (unused).
        return np.concatenate([self.inputs[self.end_row], self.portfolio(price)]).astype(np.float32)

    @property
    def cash(self) -> float:
        """Return the quote balance."""
        return float(self.venue.account_book.total(self.venue.quote_asset))

    @property
    def position(self) -> float:
        """Return the base-asset holding."""
        return float(self.venue.position(self.spec.symbol))

    # -- internals -------------------------------------------------------------------------------

    def _value(self, price: float) -> float:
        return self.cash + self.position * price

    def _cancel_open(self) -> None:
        for order in run_now(self.venue.open_orders()):
            run_now(self.venue.cancel(order.order_id))

    def _order(self, action: int) -> None:
        venue, spec = self.venue, self.spec
        last = venue.last_price(spec.symbol) or Decimal(0)
        if action == BUY and last > 0:
            free = venue.account_book.free(venue.quote_asset)
            budget = free * Decimal("0.999999") / (last * self._reserve_factor)
            quantity = round_down(budget, spec.step_size)
            side = Side.BUY
        elif action == SELL:
            quantity = venue.account_book.free(spec.base_asset)
            side = Side.SELL
        else:
            return
        if quantity < spec.step_size or quantity * last < spec.min_notional:
            # Below the lot or notional filter the venue would refuse it: nothing to trade.
            return
        self.sequence += 1
        order_id = f"ppo-{self.episode}-{self.row}-{self.sequence}"
        bar_index = int(self.dataset.series_row[self.row])
        order = Order(
            order_id=order_id,
            decision_id=order_id,
            signal_id=order_id,
            symbol=spec.symbol,
            side=side,
            order_type=OrderType.MARKET,
            quantity=quantity,
            created_ms=int(self.series.open_time_ms[bar_index]) + self.series.interval_s * 1000,
        )
        try:
            run_now(venue.submit(order))
        except OrderRejectedError:
            # Too small for the lot or notional filters (nothing to buy or sell): a no-op.
            return

    def _book(self, side: Side, quantity: float, price: float) -> None:
        """Track the cost of the holding (for unrealised PnL) as fills move it."""
        self.trades += 1
        if side is Side.BUY:
            self.entry_cost += quantity * price
            return
        held = self.position + quantity  # before this sell
        self.entry_cost *= max(held - quantity, 0.0) / held if held > 0 else 0.0


def run_policy(
    env: VenueEnv,
    start_row: int,
    steps: int,
    choose: Any,
) -> dict[str, Any]:
    """Run `choose(obs) -> action` over `steps` rows from `start_row`; return actions and figures.

    `choose` is called once per bar in order, so a recurrent policy can keep its own state.
    """
    obs = env.reset(start_row, steps)
    actions = np.empty(steps, dtype=np.int64)
    rewards = np.empty(steps, dtype=np.float64)
    for k in range(steps):
        actions[k] = int(choose(obs))
        obs, rewards[k], _ = env.step(int(actions[k]))
    returns = np.expm1(rewards / env.config.reward_scale)
    return {
        "actions": actions,
        "total_return": float(env.value / env.initial_cash - 1.0),
        "step_returns": returns,
        "fees_paid": env.fees,
        "fills": env.trades,
    }
