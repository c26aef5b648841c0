"""Benchmark the synthetic market and the simulated venue; prints one JSON line.

Usage: python bench/venue.py [--bars N] [--orders-per-bar K]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import time
from decimal import Decimal

import structlog

from adapters.simulated import (
    OrderRejectedError,
    SimulatedVenue,
    SimulatedVenueConfig,
    SyntheticFeed,
    SyntheticMarket,
    SyntheticMarketConfig,
)
from trader.domain import Order, OrderType, Side
from trader.domain.ids import order_id


async def _feed_events(config: SyntheticMarketConfig) -> int:
    feed = SyntheticFeed(config)
    return sum([1 async for _ in feed.events()])


async def _venue_run(market: SyntheticMarket, bars: int, orders_per_bar: int) -> dict[str, int]:
    venue = SimulatedVenue(SimulatedVenueConfig(initial_cash=Decimal("1e9")), market.config.symbols)
    fills = rejected = 0
    for index in range(bars):
        event = market.event_at(index)
        fills += len(await venue.on_bars(event.bars))
        for k in range(orders_per_bar):
            symbol = market.symbols[k % len(market.symbols)]
            side = Side.BUY if (index + k) % 3 else Side.SELL
            order = Order(
                order_id=order_id("bench", symbol, event.close_time_ms, k),
                decision_id="d",
                signal_id="s",
                symbol=symbol,
                side=side,
                order_type=OrderType.MARKET,
                quantity=Decimal("0.05") if symbol.startswith("ETH") else Decimal("0.002"),
                created_ms=event.close_time_ms,
            )
            try:
                await venue.submit(order)
            except OrderRejectedError:
                rejected += 1
    return {"fills": fills, "rejected": rejected}


def main() -> None:
    """Time bar generation, the unpaced feed and venue matching; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=50_000)
    parser.add_argument("--orders-per-bar", type=int, default=2)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    config = SyntheticMarketConfig(speed=0, bars=min(args.bars, 20_000))
    start = time.perf_counter()
    SyntheticMarket(config).generate(args.bars)
    generate_s = time.perf_counter() - start

    start = time.perf_counter()
    events = asyncio.run(_feed_events(config))
    feed_s = time.perf_counter() - start

    venue_bars = min(args.bars, 5_000)
    start = time.perf_counter()
    counts = asyncio.run(_venue_run(SyntheticMarket(config), venue_bars, args.orders_per_bar))
    venue_s = time.perf_counter() - start

    print(
        json.dumps(
            {
                "bench": "simulated_venue",
                "python": platform.python_version(),
                "symbols": len(config.symbols),
                "generate_bars": args.bars,
                "generate_bars_per_s": round(args.bars / generate_s),
                "feed_events": events,
                "feed_events_per_s": round(events / feed_s),
                "venue_bars": venue_bars,
                "orders_per_bar": args.orders_per_bar,
                "venue_bars_per_s": round(venue_bars / venue_s),
                **counts,
            }
        )
    )


if __name__ == "__main__":
    main()
