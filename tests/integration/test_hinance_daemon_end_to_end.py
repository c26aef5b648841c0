"""The daemon on the HINANCE adapter against the local paper exchange, with injected disconnects.

Two daemon sessions (a restart in between, while the market keeps moving) trade a few hundred
accelerated bars; the ledger must hold every bar once and in order, signals only on complete
windows, and exactly the fills the exchange reports.
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from adapters.paper_exchange import PaperExchange, PaperExchangeConfig
from adapters.paper_exchange.symbols import wire
from adapters.simulated.config import SyntheticMarketConfig
from tests.support.daemon import daemon_config
from trader.cli.run_command import run_daemon

WINDOW = 51
SESSION_BARS = 110


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def trading_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PaperExchange, list]:
    tmp_path = tmp_path_factory.mktemp("hinance_e2e")

    async def scenario() -> tuple[PaperExchange, list]:
        exchange_config = PaperExchangeConfig(
            port=0,
            speed=6000.0,  # 20 five-minute bars a second
            updates_per_bar=2,
            history_bars=200,
            drop_every_s=1.5,
            market=SyntheticMarketConfig(seed=7),
        )
        async with PaperExchange(exchange_config) as exchange:
            config = daemon_config(
                tmp_path,
                run={
                    "venue": "hinance",
                    "feed": "hinance",
                    "stop_after_bars": SESSION_BARS,
                    "paper_warmup_bars": 0,  # both sessions trade live bars only
                },
                hinance={
                    "rest_url": exchange.rest_url,
                    "ws_url": exchange.ws_url,
                    "symbols": ["ETH/USDT", "BTC/USDT"],
                    "use_demo_credentials": True,
                    "adjust_for_time_difference": False,
                    "silence_timeout_s": 5.0,
                    "close_grace_s": 0.5,
                    "reconnect_initial_s": 0.05,
                    "reconnect_max_s": 0.5,
                },
            )
            totals = [await asyncio.wait_for(run_daemon(config), 120)]
            await asyncio.sleep(1.0)  # the market moves on while the daemon is down
            totals.append(await asyncio.wait_for(run_daemon(config), 120))
            return exchange, totals

    exchange, totals = asyncio.run(scenario())
    return tmp_path / "ledger.db", exchange, totals


def test_every_bar_once_and_in_order_across_disconnects_and_a_restart(
    trading_run: tuple[Path, PaperExchange, list],
) -> None:
    db, exchange, totals = trading_run
    assert [t.events for t in totals] == [SESSION_BARS, SESSION_BARS]
    assert exchange.streams.dropped >= 2, "the run should have met injected disconnects"
    source = exchange.clock.source
    for symbol in ("ETH/USDT", "BTC/USDT"):
        bars = rows(db, f"SELECT * FROM bars WHERE symbol = '{symbol}' ORDER BY open_time_ms")
        opens = [b["open_time_ms"] for b in bars]
        assert len(opens) == len(set(opens))
        # The second session backfilled what closed while the daemon was down: no gap.
        assert all(b - a == 300_000 for a, b in pairwise(opens))
        assert len(bars) == 2 * SESSION_BARS  # every event of both sessions, nothing else
        for bar in bars:
            index = source.index_at(bar["open_time_ms"])
            (recorded,) = [b for b in source.bars_at(index) or () if b.symbol == symbol]
            assert (bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"]) == (
                recorded.open,
                recorded.high,
                recorded.low,
                recorded.close,
                recorded.volume,
            )


def test_signals_only_on_complete_windows(trading_run: tuple[Path, PaperExchange, list]) -> None:
    db, _, _ = trading_run
    signals = rows(db, "SELECT symbol, bar_open_time_ms FROM signals")
    assert signals
    for signal in signals:
        window = rows(
            db,
            "SELECT COUNT(*) AS n FROM bars WHERE symbol = '{}' AND open_time_ms > {} "
            "AND open_time_ms <= {}".format(
                signal["symbol"],
                signal["bar_open_time_ms"] - WINDOW * 300_000,
                signal["bar_open_time_ms"],
            ),
        )[0]["n"]
        assert window == WINDOW


def test_ledger_fills_are_the_exchange_fills(trading_run: tuple[Path, PaperExchange, list]) -> None:
    db, exchange, totals = trading_run
    assert sum(t.fills for t in totals) > 5
    wire_orders = {o.client_order_id: o for o in exchange.state.orders.values()}
    ledger_orders = rows(db, "SELECT order_id FROM orders")
    sent = [o["order_id"] for o in ledger_orders if o["order_id"] in wire_orders]
    assert len(wire_orders) == len(sent)  # nothing the ledger does not know, nothing twice
    fills = rows(db, "SELECT * FROM fills ORDER BY fill_id")
    by_order: dict[str, list[sqlite3.Row]] = {}
    for fill in fills:
        by_order.setdefault(fill["order_id"], []).append(fill)
    for order_id, ledger_fills in by_order.items():
        trades = wire_orders[order_id].trades
        ours = sorted(
            (Decimal(f["quantity"]), Decimal(f["price"]), Decimal(f["fee"])) for f in ledger_fills
        )
        theirs = sorted((t.quantity, t.price, Decimal(wire(t.commission))) for t in trades)
        assert ours == theirs
