"""ccxt errors translated at the seam by Binance's code, not by ccxt's host-dependent class."""

from __future__ import annotations

import ccxt

from adapters.hinance import errors
from trader.errors import FeedError, VenueError


def test_binance_code_and_message_are_read_from_ccxt_text() -> None:
    exc = ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')
    assert errors.binance_error(exc) == (-2010, "Duplicate order sent.")
    assert errors.is_duplicate_order(exc)


def test_unknown_order_by_code_even_under_a_generic_class() -> None:
    assert errors.is_unknown_order(ccxt.ExchangeError('binance {"code":-2013,"msg":"x"}'))
    assert errors.is_unknown_order(ccxt.OperationRejected('binance {"code":-2011,"msg":"x"}'))
    assert not errors.is_unknown_order(ccxt.ExchangeError('binance {"code":-2010,"msg":"x"}'))


def test_translation_keeps_the_code_and_says_what_failed() -> None:
    exc = ccxt.AuthenticationError(
        'binance {"code":-1022,"msg":"Signature for this request is not valid."}'
    )
    error = errors.to_venue_error(exc, "submit")
    assert isinstance(error, VenueError)
    assert error.binance_code == -1022 and "submit" in str(error) and "-1022" in str(error)
    assert not error.retryable
    assert errors.to_venue_error(ccxt.RequestTimeout("timeout"), "query").retryable
    assert isinstance(errors.to_feed_error(exc, "fetch_ohlcv"), FeedError)


def test_rate_limit_status_tells_a_ban_from_a_429() -> None:
    assert errors.rate_limit_status(ccxt.DDoSProtection("binance 418 I'm a teapot {}")) == 418
    assert errors.rate_limit_status(ccxt.DDoSProtection("binance 429 Too Many Requests")) == 429
