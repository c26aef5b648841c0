"""The fast ledger digest gives the first version's digest, for ordinary and awkward ledgers alike.

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
from .digest_reference import float9, member_rows, reference_digest

RUN = "run-test"


def _member(name: str = "cql", weight: object = 0.6, p: tuple = (0.2, 0.3, 0.5), **extra) -> dict:
    member = {
        "name": name,
        "weight": weight,
        "probabilities": {"SELL": p[0], "HOLD": p[1], "BUY": p[2]},
        "latency_ms": 1.25,
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


def _insert_signals(path: str, members_texts: list[str], probabilities: list[float]) -> None:
    rows = []
    for index, members in enumerate(members_texts):
        p = probabilities[index % len(probabilities)]
        signal_id = f"sig-{random.Random(index).getrandbits(48):012x}"
        rows.append(
            (signal_id, RUN, 1_000 + index, "ETH/USDT", 700 + index, 5, "low-latency", "HOLD",
             p, p, 1.0 - p, -p, index % 2, 'note "quoted" \\ \x01 é', 3.5, members)
        )  # fmt: skip
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany("INSERT INTO signals VALUES (" + ",".join("?" * 16) + ")", rows)


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


FAST_LAYOUTS = {
    "two members": [_writer_text(_member(), _member("baseline_mlp", 0.4))],
    "one, two and three members": [
        _writer_text(_member()),
        _writer_text(_member(), _member("b")),
        _writer_text(_member(), _member("b"), _member("c", included=False, reason="LOW")),
    ],
    "no members": ["[]"],
    "escaped and exotic tokens": [
        '[{"name":"a\\u0041\\"","weight":1E0,"probabilities":{"SELL":-0.0,"HOLD":0.3e-0,'
        '"BUY":1},"latency_ms":[1,2],"included":false,"reason":"tab\\tend"}]'
    ],
    "numbers far from [0, 1)": [
        _writer_text(_member(weight=w, p=(p, -p, p * 3)))
        for w, p in zip((1, 2.5, True, 0.9999999996, 1e20), EDGE_PROBABILITIES, strict=False)
    ],
    "keys in another order": [orjson.dumps([_member()], option=orjson.OPT_SORT_KEYS).decode()],
    "included as a number and a string": [
        _writer_text(_member(included=0)),
        _writer_text(_member(included="yes")),
    ],
}

GENERAL_LAYOUTS = {
    "non-ASCII name": [_writer_text(_member("modèle"))],
    "a repeated key": ['[{"name":"a",' + _writer_text(_member())[2:]],
    "whitespace": [orjson.dumps([_member()], option=orjson.OPT_INDENT_2).decode()],
    "an extra key": [_writer_text(_member(extra_field=1))],
    "no latency": [
        orjson.dumps([{k: v for k, v in _member().items() if k != "latency_ms"}]).decode()
    ],
    "a null name and reason": [_writer_text(_member(name=None, reason=None))],
    "nine members": [_writer_text(*[_member(f"m{i}") for i in range(9)])],
    "an object": ["{}"],
    "an empty string": ['""'],
}

FAILING_LAYOUTS = {
    "a number": ["12"],
    "malformed JSON": ['[{"name":'],
    "a text weight": [_writer_text(_member(weight="0.5"))],
    "a missing key": [orjson.dumps([{"name": "a"}]).decode()],
    "a trailing comma": ["[1,]"],
}


@pytest.mark.parametrize(
    "texts",
    [*FAST_LAYOUTS.values(), *GENERAL_LAYOUTS.values(), *FAILING_LAYOUTS.values()],
    ids=[*FAST_LAYOUTS, *GENERAL_LAYOUTS, *FAILING_LAYOUTS],
)
def test_members_digest_as_the_definition(ledger, texts):
    store, path = ledger
    members = [texts[index % len(texts)] for index in range(300)]  # enough for the bulk paths
    _insert_signals(path, members, [random.Random(7).random() for _ in range(50)])
    actual, expected = _digests(store, path)
    assert actual == expected


def test_failing_members_fail_alike(ledger):
    store, path = ledger
    _insert_signals(path, ["12"], [0.5])
    with pytest.raises(TypeError):
        store.digest()


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


def test_floats9_in_bulk_equals_one_by_one():
    rng = random.Random(11)
    values = [*EDGE_PROBABILITIES, 3, True, False, -7, 2**60]
    values += [round(rng.random(), rng.randrange(1, 12)) for _ in range(2_000)]
    values += [rng.uniform(-1, 2) for _ in range(2_000)]
    values += [n / 1e9 + 5e-10 for n in range(1_000)]  # halfway cases, as near as floats get
    assert digest_forms.floats9(values) == [float9(value) for value in values]
    assert digest_forms.floats9(values[:10]) == [float9(value) for value in values[:10]]


def test_floats9_of_what_is_no_number_fails_as_the_definition():
    with pytest.raises(TypeError):
        digest_forms.floats9([0.5] * 300 + ["0.5"])
    with pytest.raises(OverflowError):
        digest_forms.floats9([0.5] * 300 + [10**400])


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


def test_members_column_equals_member_rows_for_parsed_and_text_values():
    parsed = [[_member()], [], [_member(), _member("b", 1, (1, 0, 0))]]
    texts = [orjson.dumps(value).decode() for value in parsed]
    for column in (parsed, texts, [*texts[:1], *parsed[1:]]):
        assert [list(map(list, group)) for group in digest_forms.members(column)] == [
            member_rows(value) for value in column
        ]
