"""Check a signed request as Binance does: API key header, HMAC-SHA256 of the parameters, time.

The signature covers the query string followed directly by the request body (Binance's
`totalParams`), exactly as sent and without the `signature` parameter itself.
"""

import hashlib
import hmac
import re
from collections.abc import Mapping

from adapters.paper_exchange import errors

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000
# Binance refuses a timestamp more than a second ahead of its clock.
MAX_AHEAD_MS = 1_000
_API_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{1,128}$")
_SIGNATURE_FORMAT = re.compile(r"^[0-9a-fA-F]{64}$")
_TIMESTAMP_FORMAT = re.compile(r"[0-9]{1,20}")  # ASCII digits: str.isdigit also takes '²'
_RECV_WINDOW_FORMAT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


def sign(secret: str, payload: str) -> str:
    """Return the hex HMAC-SHA256 of payload under secret (what a client sends as `signature`)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Return raw parameters without their `signature=` part, and that signature if present."""
    if not raw:
        return "", None
    kept: list[str] = []
    signature: str | None = None
    for part in raw.split("&"):
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def check_api_key(header_value: str | None, api_key: str) -> None:
    """Raise -2014 for a missing or malformed key and -2015 for an unknown one."""
    if not header_value or not _API_KEY_FORMAT.match(header_value):
        raise errors.api_key_format_invalid()
    if not hmac.compare_digest(header_value.encode(), api_key.encode()):
        raise errors.api_key_rejected()


def verify_signed_request(
    *,
    api_key_header: str | None,
    raw_query: str,
    raw_body: str,
    params: Mapping[str, str],
    api_key: str,
    api_secret: str,
    server_time_ms: int,
) -> None:
    """Raise the BinanceApiError Binance would answer for this signed request, or return."""
    check_api_key(api_key_header, api_key)
    timestamp_text = params.get("timestamp", "")
    if not timestamp_text:
        raise errors.missing_parameter("timestamp")
    if not _TIMESTAMP_FORMAT.fullmatch(timestamp_text):
        raise errors.illegal_characters("timestamp")
    recv_window_text = params.get("recvWindow", str(DEFAULT_RECV_WINDOW_MS))
    if not _RECV_WINDOW_FORMAT.fullmatch(recv_window_text):
        raise errors.illegal_characters("recvWindow")
    recv_window = float(recv_window_text)
    if not 0 < recv_window <= MAX_RECV_WINDOW_MS:
        raise errors.BinanceApiError(
            400, -1131, f"recvWindow must be less than or equal to {MAX_RECV_WINDOW_MS}."
        )
    query, query_signature = strip_signature(raw_query)
    body, body_signature = strip_signature(raw_body)
    given = body_signature if body_signature is not None else query_signature
    if not given:
        raise errors.missing_parameter("signature")
    expected = sign(api_secret, query + body)
    if not _SIGNATURE_FORMAT.match(given) or not hmac.compare_digest(given.lower(), expected):
        raise errors.bad_signature()
    timestamp = int(timestamp_text)
    if timestamp > server_time_ms + MAX_AHEAD_MS:
        raise errors.timestamp_ahead()
    if server_time_ms - timestamp > recv_window:
        raise errors.timestamp_outside_window()
