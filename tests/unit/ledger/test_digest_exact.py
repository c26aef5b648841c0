"""The fast ledger digest equals its value-by-value definition, for ordinary and awkward ledgers.

Awkward rows are written with plain SQL, past the writer's checks: the digest must hash whatever
a ledger holds exactly as the one-value-at-a-time definition (digest_reference.py) does.
"""

import math
import random
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal

import orjson
import pytest

from trader.ledger import digest_forms
from trader.ledger.store import LedgerStore
from trader.ledger.types import canonical_decimal

from .builders import make_events, make_run
from .digest_reference import reference_digest

RUN = "run-test"


def _member(name: str = "cql", weight: object = 0.6, p: tuple = (0.2, 0.3, 0.5), **extra) -> dict:
    member = {
        "name": name,
        "weight": weight,
        "probabilities": {"SELL": p[0], "HOLD": p[1], "BUY": p[2]},
        "included": True,
        "reason": "",
    }
    member.update(extra)
    return member


def _writer_text(*members: dict) -> str:
    return orjson.dumps(list(members)).decode()


@pytest.fixture
def ledger(tmp_path) -> Iterator[tuple[LedgerStore, str]]:
    path = tmp_path / "ledger.db"
    with LedgerStore(f"sqlite:///{path}") as store:
        store.begin_run(make_run(RUN))
        yield store, str(path)


def _insert_signals(
    path: str, members_texts: list[str], probabilities: list[float], flags: tuple = (0, 1)
) -> None:
    rows = []
    for index, members in enumerate(members_texts):
        p = probabilities[index % len(probabilities)]
        signal_id = f"sig-{random.Random(index).getrandbits(48):012x}"
        rows.append(
            (signal_id, RUN, 1_000 + index, "ETH/USDT", 700 + index, 5, "low-latency", "HOLD",
             p, p, 1.0 - p, -p, flags[index % len(flags)], 'note "quoted" \\ \x01 é', 3.5,
             members, "[1.25]")
        )  # fmt: skip
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany("INSERT INTO signals VALUES (" + ",".join("?" * 17) + ")", rows)


def _digests(store: LedgerStore, path: str, run_id: str | None = None) -> tuple[object, object]:
    def attempt(compute):
        try:
            return compute()
        except Exception as exc:  # both must fail alike where the definition fails
            return type(exc).__name__

    with closing(sqlite3.connect(path)) as db:
        expected = attempt(lambda: reference_digest(db, run_id))
    return attempt(lambda: store.digest(run_id)), expected


EDGE_PROBABILITIES = [
    0.0, -0.0, -1e-12, -0.4, 1e-10, 2.5e-10, 5e-10, 0.4999999995, 0.9999999994, 0.9999999996,
    1.0, 1.5, -2.75, 123456.789, 1e300, math.inf, 0.1 + 0.2, 1 / 3,
]  # fmt: skip


def test_built_ledgers_digest_as_the_definition(ledger):
    store, path = ledger
    store.write_events(make_events(RUN, count=60))
    store.begin_run(make_run("run-other"))
    store.write_events(make_events("run-other", count=7, seed=3))
    for run_id in (None, RUN, "run-other", "run-missing"):
        actual, expected = _digests(store, path, run_id)
        assert actual == expected


MEMBER_LAYOUTS = {
    "two members": [_writer_text(_member(), _member("baseline_mlp", 0.4))],
    "one, two and three members": [
        _writer_text(_member()),
        _writer_text(_member(), _member("b")),
        _writer_text(_member(), _member("b"), _member("c", included=False, reason="LOW")),
    ],
    "no members": ["[]"],
    "escaped and exotic tokens": [
        '[{"name":"a\\u0041\\"","weight":1E0,"probabilities":{"SELL":-0.0,"HOLD":0.3e-0,'
        '"BUY":1},"included":false,"reason":"tab\\tend"}]'
    ],
    "numbers far from [0, 1)": [
        _writer_text(_member(weight=w, p=(p, -p, p * 3)))
        for w, p in zip((1, 2.5, True, 0.9999999996, 1e20), EDGE_PROBABILITIES, strict=False)
    ],
    "keys in another order": [orjson.dumps([_member()], option=orjson.OPT_SORT_KEYS).decode()],
    "non-ASCII name": [_writer_text(_member("modèle"))],
    "whitespace": [orjson.dumps([_member()], option=orjson.OPT_INDENT_2).decode()],
    "a latency inside, as before revision 0003": [_writer_text(_member(latency_ms=1.25))],
    "malformed JSON": ['[{"name":'],
    "an object and an empty string": ["{}", '""'],
}


@pytest.mark.parametrize("texts", MEMBER_LAYOUTS.values(), ids=MEMBER_LAYOUTS)
def test_members_digest_as_the_definition(ledger, texts):
    store, path = ledger
    members = [texts[index % len(texts)] for index in range(300)]
    _insert_signals(path, members, [random.Random(7).random() for _ in range(50)])
    actual, expected = _digests(store, path)
    assert actual == expected


def test_members_are_hashed_as_the_text_stored(tmp_path):
    # Equal members written as other text are another ledger: the text is what is hashed.
    digests = []
    for index, text in enumerate(
        [_writer_text(_member()), orjson.dumps([_member()], option=orjson.OPT_INDENT_2).decode()]
    ):
        path = tmp_path / f"ledger-{index}.db"
        with LedgerStore(f"sqlite:///{path}") as store:
            store.begin_run(make_run(RUN))
            _insert_signals(str(path), [text], [0.5])
            digests.append(store.digest())
    assert digests[0] != digests[1]


def test_booleans_and_nulls_digest_as_the_definition(ledger):
    store, path = ledger
    _insert_signals(path, [_writer_text(_member())] * 20, [0.25], flags=(True, False, 1, 0))
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "INSERT INTO risk_decisions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (f"dec-{index}", RUN, 1_000 + index, None, "ETH/USDT", 1_000 + index, "BUY",
                 "1.50", "0", approved, "OK", "", "NORMAL")
                for index, approved in enumerate((True, False, 1, 0))
            ],
        )  # fmt: skip
        db.execute(
            "INSERT INTO equity_snapshots VALUES (?,?,?,?,?,?,?,?,?)",
            (RUN, 5, None, "1", "1", "1", "0", "0", "0"),
        )
    actual, expected = _digests(store, path)
    assert actual == expected


def test_an_empty_ledger_digests_as_the_definition(tmp_path):
    path = tmp_path / "empty.db"
    with LedgerStore(f"sqlite:///{path}") as store:
        for run_id in (None, RUN):
            actual, expected = _digests(store, str(path), run_id)
            assert actual == expected


def test_edge_probabilities_and_prices_digest_as_the_definition(ledger):
    store, path = ledger
    _insert_signals(path, [_writer_text(_member())] * 300, EDGE_PROBABILITIES)
    prices = [0.1 + 0.2, 1e-5, 1e-4, 1e16, 1e15, 5e-324, -0.0, 1e300, math.inf, -2577.41, 100.0]
    bars = [
        (RUN, "ETH/USDT", 60_000 * index, 60_000 * index + 300, 300, price, price, price, 2.0, 0.0)
        for index, price in enumerate(prices)
    ]
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany("INSERT INTO bars VALUES (?,?,?,?,?,?,?,?,?,?)", bars)
    actual, expected = _digests(store, path)
    assert actual == expected


AMOUNTS = ["10000", "10000.000", "-0", "-0.000", "0E-8", "1E+2", "7.", "2991.70", "0.6685",
           "-1.999958135", "1.2E-7", "abc"]  # fmt: skip


def test_amount_texts_digest_as_the_definition(ledger):
    store, path = ledger
    rows = [
        (RUN, 1_000 + index, 1_000 + index, amount, amount, "1.50", amount, "0", "0.0")
        for index, amount in enumerate(AMOUNTS[:-1] * 30)
    ]
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany("INSERT INTO equity_snapshots VALUES (?,?,?,?,?,?,?,?,?)", rows)
    actual, expected = _digests(store, path)
    assert actual == expected


def test_decimals_equal_canonical_decimal_and_keep_types_apart():
    decimals = digest_forms.Decimals()
    texts = [*AMOUNTS, None, "12.000", "12.000"]
    assert decimals(texts) == [canonical_decimal(value) for value in texts]
    plain = ["1", "2.5", "10000", "-3.25"]
    assert decimals(plain) == plain
    numbers = [Decimal("1.0"), Decimal("-0E-8"), Decimal("1E+2"), None, Decimal("2") ** -30]
    assert decimals(numbers) == [canonical_decimal(value) for value in numbers]
    floats = [2.0**-30, 0.5]  # 2**-30 equals a Decimal above, yet prints otherwise as a float
    assert decimals(floats) == [canonical_decimal(value) for value in floats]  # type: ignore[arg-type]
