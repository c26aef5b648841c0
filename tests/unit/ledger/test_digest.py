"""The ledger digest: equal for equal contents, blind to wall-clock fields, alert to the rest."""

import dataclasses
from decimal import Decimal

from trader.ledger.store import LedgerStore

from .builders import make_events, make_run


def write(path, events, **run_changes) -> LedgerStore:
    store = LedgerStore(f"sqlite:///{path}")
    store.begin_run(make_run(**run_changes))
    store.write_events(events)
    return store


def test_same_content_in_two_databases_gives_the_same_digest(tmp_path):
    events = make_events(count=30)
    with write(tmp_path / "a.db", events) as a, write(tmp_path / "b.db", events) as b:
        assert a.digest() == b.digest()
        assert a.digest("run-test") == b.digest("run-test")
        assert len(a.digest()) == 64


def test_wall_clock_fields_do_not_change_the_digest(tmp_path):
    with write(tmp_path / "a.db", make_events(count=30)) as a:
        a.heartbeat("run-test", 1_000)
        a.end_run("run-test", 2_000, "finished")
        expected = a.digest()
    slow = make_events(count=30, latency_scale=7.0)  # other latencies and decision times
    changes = {"started_ms": 99_999, "config_json": '{"ledger": {"url": "sqlite:///b.db"}}'}
    with write(tmp_path / "b.db", slow, **changes) as b:
        b.heartbeat("run-test", 5_000)
        assert b.digest() == expected


def test_a_changed_price_changes_the_digest(tmp_path):
    events = make_events(count=30)
    fill = events[5].fills[0]
    moved = dataclasses.replace(fill, price=fill.price + Decimal("0.01"))
    changed = [
        *events[:5],
        dataclasses.replace(events[5], fills=(moved, *events[5].fills[1:])),
        *events[6:],
    ]
    with write(tmp_path / "a.db", events) as a, write(tmp_path / "b.db", changed) as b:
        assert a.digest() != b.digest()


def test_trailing_zeros_are_not_a_change_but_any_probability_shift_is(tmp_path):
    # Probabilities are hashed as stored: the ensemble rounds them to 1e-9 before they are
    # written, so even a shift far below that is a different ledger.
    events = make_events(count=5)
    equity = events[4].equity
    assert equity is not None
    cash = f"{equity.cash:f}"
    padded = dataclasses.replace(equity, cash=Decimal(cash + ("000" if "." in cash else ".000")))
    signal, *other_signals = events[4].signals
    p = signal.probabilities
    same = dataclasses.replace(events[4], equity=padded)
    moved = dataclasses.replace(signal, probabilities=(p[0] + 1e-13, p[1], p[2]))
    nudged = dataclasses.replace(events[4], signals=(moved, *other_signals))
    with (
        write(tmp_path / "a.db", events) as a,
        write(tmp_path / "b.db", [*events[:4], same]) as b,
        write(tmp_path / "c.db", [*events[:4], nudged]) as c,
    ):
        assert a.digest() == b.digest()
        assert a.digest() != c.digest()


def test_a_changed_member_probability_changes_the_digest_but_its_latency_does_not(tmp_path):
    events = make_events(count=5)
    signal, *other_signals = events[4].signals
    first, *others = signal.members

    def with_first(**changes: object) -> list:
        member = dataclasses.replace(first, **changes)
        changed = dataclasses.replace(signal, members=(member, *others))
        return [*events[:4], dataclasses.replace(events[4], signals=(changed, *other_signals))]

    moved = (first.probabilities[0] + 1e-9, *first.probabilities[1:])
    with (
        write(tmp_path / "a.db", events) as a,
        write(tmp_path / "b.db", with_first(latency_ms=first.latency_ms * 9)) as b,
        write(tmp_path / "c.db", with_first(probabilities=moved)) as c,
    ):
        assert a.digest() == b.digest()
        assert a.digest() != c.digest()


def test_digest_of_one_run_ignores_other_runs(tmp_path):
    with write(tmp_path / "a.db", make_events(count=10)) as store:
        alone, everything = store.digest("run-test"), store.digest()
        store.begin_run(make_run("run-other"))
        store.write_events(make_events("run-other", count=3))
        assert store.digest("run-test") == alone
        assert store.digest() != everything
