"""Integer parameters and signed-request numbers: odd input is Binance's -1100, never a crash."""

from __future__ import annotations

import pytest

from adapters.paper_exchange.errors import BinanceApiError
from adapters.paper_exchange.requests import int_param, optional_int
from tests.unit.paper_exchange.test_signing import NOW, code_of, signed, verify


@pytest.mark.parametrize(
    ("text", "value"),
    [("", None), ("0", 0), ("500", 500), ("-1", -1), ("9" * 20, int("9" * 20))],
)
def test_optional_int_reads_ascii_integers(text: str, value: int | None) -> None:
    assert optional_int({"limit": text}, "limit") == value
    assert optional_int({}, "limit") is None
    assert int_param({}, "limit", default=7) == 7


@pytest.mark.parametrize(
    "text",
    ["²", "١٢٣", "１２３", "--5", "-", "5\n", " 5", "1.5", "1e3", "9" * 21, "9" * 5000],
)
def test_optional_int_refuses_odd_input_with_1100(text: str) -> None:
    with pytest.raises(BinanceApiError) as caught:
        optional_int({"limit": text}, "limit")
    assert (caught.value.http_status, caught.value.code) == (400, -1100)
    assert "'limit'" in caught.value.msg


@pytest.mark.parametrize("timestamp", ["²", "١٢٣", "9" * 5000, f"{NOW}\n"])
def test_odd_timestamp_is_1100(timestamp: str) -> None:
    assert code_of(lambda: verify(signed(f"timestamp={timestamp}"))) == (400, -1100)


@pytest.mark.parametrize("window", ["²", "١٢٣", "nan", "inf", "1e3", "-5", "9" * 5000])
def test_odd_recv_window_is_1100(window: str) -> None:
    assert code_of(lambda: verify(signed(f"recvWindow={window}&timestamp={NOW}"))) == (400, -1100)


def test_fractional_recv_window_still_accepted() -> None:
    verify(signed(f"recvWindow=5000.5&timestamp={NOW}"))
