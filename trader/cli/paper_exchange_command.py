"""`trader paper-exchange`: serve the simulated venue over Binance's spot API on 127.0.0.1."""

import asyncio
import signal

import structlog
import typer
from pydantic import ValidationError

from adapters.paper_exchange.config import PaperExchangeConfig
from adapters.paper_exchange.demo import DEMO_API_KEY, DEMO_API_SECRET
from trader.errors import ConfigError, TraderError
from trader.logging_setup import configure_logging

log = structlog.get_logger(__name__)


def paper_exchange(
    feed: str = typer.Option(..., "--feed", help="CSV path or 'synthetic'"),
    port: int = typer.Option(..., "--port", help="TCP port on 127.0.0.1 (0 picks a free one)"),
    speed: float = typer.Option(
        1.0, "--speed", help="Market seconds per real second (300: one 5m bar a second); 0 stops"
    ),
    api_key: str = typer.Option(
        DEMO_API_KEY, "--api-key", help="API key clients must send (default: the demo key)"
    ),
    api_secret: str = typer.Option(
        DEMO_API_SECRET,
        "--api-secret",
        help="HMAC secret clients sign with (default: the demo secret)",
        show_default=False,
    ),
    symbol: str = typer.Option("ETH/USDT", "--symbol", help="Symbol of a CSV feed"),
    history_bars: int = typer.Option(
        1000, "--history-bars", help="Bars already closed at start (for clients to backfill)"
    ),
    time_base: str = typer.Option(
        "now",
        "--time-base",
        help="'now': bar times shifted so the market starts at the current interval; "
        "'recorded': the file's (or seed's) own times",
    ),
    updates_per_bar: int = typer.Option(
        0,
        "--updates-per-bar",
        help="Kline updates (and trades) per bar; 0: one per ~2 real seconds, 4 to 300",
    ),
    drop_every_s: float = typer.Option(
        0.0, "--drop-every", help="Close every WebSocket every S seconds (0: never)"
    ),
    latency_ms: int = typer.Option(0, "--latency-ms", help="Delay every REST answer by this"),
    burst_429: int = typer.Option(
        0, "--burst-429", help="Every --burst-every seconds, answer the next N requests with 429"
    ),
    burst_every_s: float = typer.Option(30.0, "--burst-every", help="Seconds between 429 bursts"),
    reset_every_s: float = typer.Option(
        0.0, "--reset-every", help="Testnet-style reset every S seconds: orders vanish (0: never)"
    ),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic market"),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING or ERROR"),
) -> None:
    """Run a Binance-compatible paper exchange on 127.0.0.1 until Ctrl-C or SIGTERM."""
    try:
        config = PaperExchangeConfig(
            feed=feed,
            port=port,
            speed=speed,
            api_key=api_key,
            api_secret=api_secret,
            symbol=symbol,
            history_bars=history_bars,
            time_base=time_base,
            updates_per_bar=updates_per_bar,
            drop_every_s=drop_every_s,
            latency_ms=latency_ms,
            burst_429=burst_429,
            burst_every_s=burst_every_s,
            reset_every_s=reset_every_s,
            seed=seed,
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            typer.echo(f"paper-exchange: {where}: {error['msg']}", err=True)
        raise typer.Exit(code=2) from None
    try:
        configure_logging(level=log_level)
    except ConfigError as exc:
        typer.echo(f"paper-exchange: {exc}", err=True)
        raise typer.Exit(code=2) from None
    try:
        asyncio.run(_run(config))
    except TraderError as exc:
        typer.echo(f"paper-exchange: {exc}", err=True)
        raise typer.Exit(code=1) from None


async def _run(config: PaperExchangeConfig) -> None:
    from adapters.paper_exchange.server import PaperExchange  # aiohttp: only when serving

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with PaperExchange(config) as exchange:
        demo = config.api_key == DEMO_API_KEY
        typer.echo(
            f"paper exchange on {exchange.rest_url} (REST) and {exchange.ws_url} (streams); "
            f"symbols {', '.join(exchange.clock.symbols)}, {exchange.interval} bars, "
            f"speed {config.speed}x"
            + ("; demo API key pair (see docs/hinance.md)" if demo else ""),
            err=True,
        )
        await stop.wait()
        log.info("exchange.stopping", reason="signal")


def main() -> None:
    """Run the command on its own (`python -m trader.cli.paper_exchange_command`)."""
    typer.run(paper_exchange)


if __name__ == "__main__":
    main()
