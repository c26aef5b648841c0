"""Exact money columns, canonical decimal text and the risk-state JSON codec."""

from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from trader.errors import LedgerError, MoneyTypeError
from trader.ledger.types import (
    DecimalText,
    canonical_decimal,
    decimal_to_db,
    decode_state,
    encode_state,
    plain_json,
)

AWKWARD = [
    Decimal("0"),
    Decimal("-0"),
    Decimal("0.00"),
    Decimal("0E-18"),
    Decimal("1.50"),
    Decimal("-1234.5678"),
    Decimal("105.766435000000000000000000"),  # an average price: 27 places
    Decimal("0.1") + Decimal("0.2"),
    Decimal(1) / Decimal(3),  # 28 significant digits
    Decimal("1E-30"),
    Decimal("1E+2"),
    Decimal("123456789012345678901234567890.123456789012345678901234567890"),
    Decimal("2.099895180000000000000000050"),
]


def test_decimal_text_round_trips_exactly_on_sqlite(tmp_path):
    metadata = MetaData()
    amounts = Table(
        "amounts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("value", DecimalText()),
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'amounts.db'}")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(amounts), [{"id": i, "value": value} for i, value in enumerate(AWKWARD)]
        )
        stored = connection.execute(text("SELECT typeof(value) FROM amounts")).scalars().all()
        back = connection.execute(select(amounts.c.value).order_by(amounts.c.id)).scalars().all()
    engine.dispose()
    assert set(stored) == {"text"}  # never a float on the way
    assert back == AWKWARD
    # Identical digits and exponent, not merely equal values.
    assert [value.as_tuple() for value in back] == [value.as_tuple() for value in AWKWARD]


def test_decimal_text_is_numeric_on_postgresql():
    from sqlalchemy.dialects import postgresql

    column = DecimalText().dialect_impl(postgresql.dialect())
    assert column.impl_instance.compile(dialect=postgresql.dialect()) == "NUMERIC"  # type: ignore[attr-defined]  # TypeDecorator impl


@pytest.mark.parametrize("bad", [1.5, True, "1.5", None, Decimal("NaN"), Decimal("Infinity")])
def test_decimal_to_db_refuses_anything_but_finite_decimals(bad):
    with pytest.raises(MoneyTypeError):
        decimal_to_db(bad, "sqlite")


def test_decimal_to_db_accepts_ints_and_keeps_decimals_for_postgresql():
    assert decimal_to_db(7, "sqlite") == "7"
    assert decimal_to_db(Decimal("1.50"), "sqlite") == "1.50"
    value = Decimal("1.50")
    assert decimal_to_db(value, "postgresql") is value


@pytest.mark.parametrize(
    ("stored", "canonical"),
    [
        ("1.50", "1.5"),
        ("-0.00", "0"),
        ("0E-18", "0"),
        ("-0E-18", "0"),
        ("1E+2", "100"),
        ("100", "100"),
        ("1E-7", "0.0000001"),
        (Decimal("12.3400"), "12.34"),
        (Decimal("1E+2"), "100"),
        (None, None),
    ],
)
def test_canonical_decimal(stored, canonical):
    assert canonical_decimal(stored) == canonical


def test_state_codec_round_trips_decimals_and_sorts_keys():
    state = {
        "trading_state": "REDUCING",
        "peak_equity": Decimal("10234.500000000000000001"),
        "cooldowns": {"ETH/USDT": 1_751_860_800_000},
        "history": [Decimal("1.0"), 2.5, None, True],
    }
    encoded = encode_state(state)
    assert encoded.index('"cooldowns"') < encoded.index('"trading_state"')
    decoded = decode_state(encoded)
    assert decoded == state
    assert decoded["peak_equity"].as_tuple() == state["peak_equity"].as_tuple()
    assert plain_json(decoded)["peak_equity"] == "10234.500000000000000001"


def test_state_codec_refuses_what_json_cannot_hold():
    with pytest.raises(LedgerError, match="risk state"):
        encode_state({"when": object()})
    with pytest.raises(LedgerError, match="not a JSON object"):
        decode_state("[1, 2]")
