"""Resume state: what a restart reads back, and a crash-resumed run equal to a clean one."""

from decimal import Decimal

import pytest

from trader.domain import OrderStatus, OrderType
from trader.ledger.store import LedgerStore

from .builders import INTERVAL_S, START_MS, make_events, make_run


@pytest.fixture
def store(tmp_path):
    with LedgerStore(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        opened.begin_run(make_run())
        yield opened


def test_unknown_run_has_no_resume_state(store):
    assert store.load_resume_state("nope") is None


def test_a_run_without_events_resumes_from_its_initial_cash(store):
    state = store.load_resume_state("run-test")
    assert state is not None
    assert state.run == make_run()
    assert state.status == "running"
    assert (state.cash, state.fees_paid, state.last_equity) == (Decimal("10000"), Decimal(0), None)
    assert state.risk_state == {} and state.positions == {} and state.open_orders == ()
    assert state.last_close_time_ms is None and state.last_bar_open_ms == {}


def test_resume_state_matches_what_was_written(store):
    events = make_events(count=11)  # event 10 leaves the order bought at event 10 half filled
    store.write_events(events)
    state = store.load_resume_state("run-test", bars_per_symbol=4)
    assert state is not None
    last = events[-1]
    assert last.equity is not None
    assert state.last_equity == last.equity
    assert (state.cash, state.fees_paid) == (last.equity.cash, last.equity.fees_paid)
    assert state.positions == {p.symbol: p for p in last.positions}
    assert state.risk_state == last.risk_state
    assert isinstance(state.risk_state["peak_equity"], Decimal)
    assert state.last_close_time_ms == last.close_time_ms
    last_open = START_MS + 10 * INTERVAL_S * 1000
    assert state.last_bar_open_ms == {"BTC/USDT": last_open, "ETH/USDT": last_open}
    for symbol, bars in state.recent_bars.items():
        assert [bar.open_time_ms for bar in bars] == [
            START_MS + i * INTERVAL_S * 1000 for i in range(7, 11)
        ]
        expected = [bar for event in events[7:] for bar in event.bars if bar.symbol == symbol]
        assert list(bars) == expected
    open_by_id = {item.order.order_id: item for item in state.open_orders}
    resting = events[3].orders[-1]
    assert resting.order_type is OrderType.LIMIT
    assert open_by_id[resting.order_id].order == resting
    assert open_by_id[resting.order_id].status is OrderStatus.NEW
    assert open_by_id[resting.order_id].filled_quantity == 0
    for order in last.orders:
        assert open_by_id[order.order_id].order == order
        assert open_by_id[order.order_id].status is OrderStatus.PARTIALLY_FILLED
        assert open_by_id[order.order_id].filled_quantity == order.quantity / 2
    assert len(state.open_orders) == 1 + len(last.orders)


def test_a_crash_resumed_run_equals_an_uninterrupted_one(tmp_path):
    events = make_events(count=50)
    with LedgerStore(f"sqlite:///{tmp_path / 'clean.db'}") as clean:
        clean.begin_run(make_run())
        clean.write_events(events)
        clean.end_run("run-test", 99_000, "finished")
        expected = clean.digest()
    url = f"sqlite:///{tmp_path / 'crashed.db'}"
    crashed = LedgerStore(url)
    crashed.begin_run(make_run())
    for event in events[:23]:
        crashed.write_event(event)
    crashed.close()  # the process dies here
    with LedgerStore(url) as restarted:
        assert restarted.begin_run(make_run(started_ms=55_000)) is False
        state = restarted.load_resume_state("run-test")
        assert state is not None and state.last_close_time_ms == events[22].close_time_ms
        # The restart replays from a little before the last written event: no duplicates.
        for event in events[20:]:
            restarted.write_event(event)
        restarted.end_run("run-test", 123_000, "finished")
        assert restarted.digest() == expected
