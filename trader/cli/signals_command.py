"""`trader signals`: tail the Redis bus, printing one readable line or raw JSON per message."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

import typer
from pydantic import ValidationError

from trader.bus.backoff import Backoff
from trader.bus.channels import Channels, symbol_slug
from trader.bus.config import BusConfig, redact_url, scrub
from trader.bus.messages import decode
from trader.errors import TraderError

REDIS_URL_ENV = "TRADER_BUS__REDIS_URL"
_POLL_S = 0.5


def _probabilities(probabilities: Mapping[str, Any] | None) -> str:
    if not probabilities:
        return "-"
    return "/".join(f"{float(probabilities.get(k, 0.0)):.2f}" for k in ("SELL", "HOLD", "BUY"))


def _member(member: Mapping[str, Any]) -> str:
    text = f"{member.get('name', '?')} {_probabilities(member.get('probabilities'))}"
    latency = member.get("latency_ms")
    if isinstance(latency, int | float):
        text += f" {latency:.1f}ms"
    if member.get("included") is False:
        text += " (excluded)"
    return text


def format_message(message: Mapping[str, Any]) -> str:
    """Return one human-readable line for a bus message of any type."""
    kind = message.get("type")
    if kind == "signal":
        decision = message.get("decision") or {}
        members = ", ".join(_member(m) for m in message.get("members") or [])
        line = (
            f"{message.get('bar_open_time', '?')} {message.get('symbol', '?'):<10}"
            f" {message.get('action', '?'):<4} conf={float(message.get('confidence') or 0.0):.3f}"
            f" P[S/H/B]={_probabilities(message.get('probabilities'))}"
        )
        if members:
            line += f" | {members}"
        line += f" | risk={decision.get('code', '-')}"
        if decision.get("approved"):
            line += f" qty={decision.get('approved_quantity')}"
        if message.get("order_id"):
            line += f" order={message['order_id']}"
        if message.get("abstained"):
            line += " (abstained)"
        return line
    if kind == "order":
        return (
            f"{message.get('created', '?')} {message.get('symbol', '?'):<10} ORDER"
            f" {message.get('side')} {message.get('order_type')} qty={message.get('quantity')}"
            f" order={message.get('order_id')}"
        )
    if kind == "fill":
        return (
            f"{message.get('time', '?')} {message.get('symbol', '?'):<10} FILL"
            f" {message.get('side')} {message.get('quantity')} @ {message.get('price')}"
            f" fee={message.get('fee')} order={message.get('order_id')}"
        )
    if kind == "risk_event":
        return (
            f"{message.get('time', '?')} RISK {message.get('from_state')} -> "
            f"{message.get('to_state')} {message.get('reason') or message.get('code')}"
        )
    if kind == "heartbeat":
        return (
            f"{message.get('time', '?')} HEARTBEAT run={message.get('run_id')}"
            f" bus={message.get('bus_state')} published={message.get('published')}"
            f" dropped={message.get('dropped')} buffered={message.get('buffered')}"
        )
    return f"? {dict(message)}"


def _wanted(message: Mapping[str, Any], symbol: str | None) -> bool:
    # Fills and orders share one channel for all symbols, so --symbol filters them here.
    if symbol is None or "symbol" not in message:
        return True
    return symbol_slug(str(message["symbol"])) == symbol_slug(symbol)


def subscription_channels(prefix: str, symbol: str | None, include_all: bool) -> list[str]:
    """Return the channels to SUBSCRIBE: one symbol's signals or the firehose, plus the rest."""
    channels = Channels(prefix)
    names = [channels.signals_for(symbol) if symbol else channels.signals]
    if include_all:
        names += [channels.orders, channels.fills, channels.risk, channels.heartbeat]
    return names


async def tail(
    *,
    redis_url: str,
    prefix: str = "trader",
    symbol: str | None = None,
    count: int | None = None,
    as_json: bool = False,
    include_all: bool = False,
    emit: Callable[[str], None] = typer.echo,
    warn: Callable[[str], None] = lambda text: typer.echo(text, err=True),
    on_subscribed: Callable[[], None] | None = None,
) -> int:
    """Print messages from the bus until `count` were printed (forever when None); return the count.

    The first connection must succeed (else TraderError); later losses are retried with backoff.
    """
    # redis loads here, not when the CLI starts: every other command runs without it.
    from redis.exceptions import RedisError

    from trader.bus.client import CONNECTION_ERRORS, build_client

    names = subscription_channels(prefix, symbol, include_all)
    backoff = Backoff(0.2, 5.0)
    printed = 0
    subscribed_once = False
    while count is None or printed < count:
        client = build_client(redis_url, read_timeout_s=None)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(*names)
            if not subscribed_once:
                subscribed_once = True
                if on_subscribed is not None:
                    on_subscribed()
            else:
                warn(f"reconnected to {redact_url(redis_url)}")
            backoff.reset()
            while count is None or printed < count:
                raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_S)
                if raw is None or raw.get("type") not in ("message", "pmessage"):
                    continue
                printed += _show(raw["data"], symbol, as_json, emit)
        except (RedisError, *CONNECTION_ERRORS) as exc:
            error = scrub(str(exc), redis_url)
            if not subscribed_once:
                raise TraderError(f"cannot subscribe at {redact_url(redis_url)}: {error}") from exc
            warn(f"connection lost ({error}); retrying")
            await asyncio.sleep(backoff.next_delay())
        finally:
            with contextlib.suppress(RedisError, *CONNECTION_ERRORS):
                await pubsub.aclose()
            with contextlib.suppress(RedisError, *CONNECTION_ERRORS):
                await client.aclose()
    return printed


def _show(data: bytes, symbol: str | None, as_json: bool, emit: Callable[[str], None]) -> int:
    try:
        message = decode(data)
    except ValueError:
        emit(data.decode("utf-8", "replace"))
        return 1
    if not _wanted(message, symbol):
        return 0
    emit(data.decode() if as_json else format_message(message))
    return 1


def signals(
    symbol: str | None = typer.Option(
        None, "--symbol", help="only this symbol, e.g. ETH/USDT or ETH-USDT"
    ),
    redis_url: str | None = typer.Option(
        None,
        "--redis-url",
        envvar=REDIS_URL_ENV,
        help="redis:// or rediss:// URL, credentials allowed (default: the bus config default)",
    ),
    prefix: str = typer.Option("trader", "--prefix", help="channel prefix of the bus"),
    count: int | None = typer.Option(None, "--count", min=1, help="exit after N messages"),
    as_json: bool = typer.Option(False, "--json", help="print each message as raw JSON"),
    include_all: bool = typer.Option(
        False, "--all", help="also show orders, fills, risk events and heartbeats"
    ),
) -> None:
    """Tail the signal bus: one line per signal (time, symbol, action, confidence, risk)."""
    try:
        config = BusConfig(
            redis_url=redis_url if redis_url is not None else BusConfig().redis_url,
            channel_prefix=prefix,
        )
    except ValidationError as exc:
        messages = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(messages) from None
    if config.redis_url is None:
        raise typer.BadParameter("the bus is disabled: give --redis-url")
    try:
        asyncio.run(
            tail(
                redis_url=config.redis_url,
                prefix=config.channel_prefix,
                symbol=symbol,
                count=count,
                as_json=as_json,
                include_all=include_all,
            )
        )
    except KeyboardInterrupt:
        # Ctrl-C is how a user stops tailing: no traceback, success.
        sys.stderr.flush()
        raise typer.Exit(0) from None
    except TraderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
