"""Signed requests: API key, HMAC over query + body, timestamp and recvWindow, Binance's codes."""

from __future__ import annotations

import pytest

from adapters.paper_exchange.errors import BinanceApiError
from adapters.paper_exchange.signing import sign, strip_signature, verify_signed_request

KEY = "k" * 64
SECRET = "s" * 64
NOW = 1_700_000_000_000


def verify(
    query: str = "",
    body: str = "",
    *,
    key: str | None = KEY,
    now: int = NOW,
) -> None:
    params = dict(part.split("=", 1) for part in f"{query}&{body}".split("&") if "=" in part)
    verify_signed_request(
        api_key_header=key,
        raw_query=query,
        raw_body=body,
        params=params,
        api_key=KEY,
        api_secret=SECRET,
        server_time_ms=now,
    )


def signed(payload: str, secret: str = SECRET) -> str:
    return f"{payload}&signature={sign(secret, payload)}"


def code_of(call: object) -> tuple[int, int]:
    with pytest.raises(BinanceApiError) as caught:
        call()  # type: ignore[operator]
    return caught.value.http_status, caught.value.code


def test_query_signature_accepted() -> None:
    verify(signed(f"symbol=ETHUSDT&timestamp={NOW}"))


def test_signature_covers_query_then_body_concatenated() -> None:
    # Binance's totalParams: the query string followed directly by the body.
    query = "symbol=ETHUSDT&side=BUY"
    body = f"type=MARKET&quantity=1&timestamp={NOW}"
    signature = sign(SECRET, query + body)
    verify(query, f"{body}&signature={signature}")


def test_bad_signature_is_1022() -> None:
    assert code_of(lambda: verify(signed(f"timestamp={NOW}", secret="x" * 64))) == (400, -1022)


def test_tampered_parameter_is_1022() -> None:
    good = signed(f"quantity=1&timestamp={NOW}")
    assert code_of(lambda: verify(good.replace("quantity=1", "quantity=2"))) == (400, -1022)


def test_missing_signature_is_1102() -> None:
    assert code_of(lambda: verify(f"timestamp={NOW}")) == (400, -1102)


def test_missing_timestamp_is_1102() -> None:
    assert code_of(lambda: verify(signed("symbol=ETHUSDT"))) == (400, -1102)


def test_old_timestamp_is_1021() -> None:
    old = NOW - 5_001
    assert code_of(lambda: verify(signed(f"timestamp={old}"))) == (400, -1021)


def test_recv_window_widens_the_window() -> None:
    verify(signed(f"recvWindow=10000&timestamp={NOW - 9_000}"))


def test_timestamp_ahead_of_server_is_1021() -> None:
    ahead = NOW + 1_001
    assert code_of(lambda: verify(signed(f"timestamp={ahead}"))) == (400, -1021)


def test_recv_window_above_60s_is_refused() -> None:
    assert code_of(lambda: verify(signed(f"recvWindow=60001&timestamp={NOW}"))) == (400, -1131)


def test_missing_api_key_is_2014() -> None:
    assert code_of(lambda: verify(signed(f"timestamp={NOW}"), key=None)) == (401, -2014)


def test_malformed_api_key_is_2014() -> None:
    assert code_of(lambda: verify(signed(f"timestamp={NOW}"), key="not a key!")) == (401, -2014)


def test_unknown_api_key_is_2015() -> None:
    assert code_of(lambda: verify(signed(f"timestamp={NOW}"), key="x" * 64)) == (401, -2015)


def test_strip_signature_keeps_other_parameters_in_order() -> None:
    assert strip_signature("a=1&signature=ff&b=2") == ("a=1&b=2", "ff")
    assert strip_signature("") == ("", None)
