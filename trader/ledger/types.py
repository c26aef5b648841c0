"""Column types and codecs that keep money exact and state round-trippable on every dialect."""

from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import NUMERIC
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from trader.errors import LedgerError, MoneyTypeError

_DECIMAL_TAG = "__decimal__"


def decimal_to_db(value: object, dialect_name: str) -> Decimal | str:
    """Return a Decimal (or int) as the ledger stores it: text on SQLite, numeric on PostgreSQL.

    The text is `str(Decimal)`, which `Decimal()` reads back to the identical value, digits and
    exponent alike.
    """
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    else:
        raise MoneyTypeError(
            f"ledger amounts must be Decimal, got {type(value).__name__}: {value!r}"
        )
    if not amount.is_finite():
        raise MoneyTypeError(f"ledger amounts must be finite, got {amount!r}")
    return amount if dialect_name == "postgresql" else str(amount)


def canonical_decimal(value: Decimal | str | None) -> str | None:
    """Return the canonical text of a stored amount: fixed point, no trailing zeros, no -0."""
    if value is None:
        return None
    text = value if isinstance(value, str) else format(value, "f")
    if "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class DecimalText(TypeDecorator[Decimal]):
    """An exact Decimal column: TEXT on SQLite (which has no decimal type), NUMERIC on PostgreSQL.

    PostgreSQL gets an unconstrained NUMERIC rather than NUMERIC(38, 18): Decimal arithmetic (an
    average entry price) yields up to 28 significant digits and more than 18 decimals, which a
    fixed scale would round, so SQLite and PostgreSQL would then disagree.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(NUMERIC())
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return decimal_to_db(value, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(value)


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        return {_DECIMAL_TAG: format(value, "f")}
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable: {value!r}")


def encode_state(state: dict[str, Any]) -> str:
    """Return canonical JSON (sorted keys) for a state dict; Decimals survive the round trip."""
    try:
        return orjson.dumps(state, default=_encode_default, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as exc:
        raise LedgerError(f"risk state cannot be stored as JSON: {exc}") from exc


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DECIMAL_TAG in value:
            return Decimal(value[_DECIMAL_TAG])
        return {key: _decode_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_value(item) for item in value]
    return value


def decode_state(text: str) -> dict[str, Any]:
    """Return the state dict stored by `encode_state` (tuples come back as lists)."""
    decoded = _decode_value(orjson.loads(text))
    if not isinstance(decoded, dict):
        raise LedgerError(f"stored risk state is not a JSON object: {text[:80]!r}")
    return decoded


def plain_json(value: Any) -> Any:
    """Return value with Decimals as fixed-point strings, for output as ordinary JSON."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    return value
