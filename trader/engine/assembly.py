"""Build one run from the config: ledger, ensemble, feed, venue, bus, and the state to resume.

A run is identified by `run.run_id`, or by a hash of the config that decides its ledger, so the
same command after a crash or restart resumes the same run instead of starting a new account.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog

from adapters.base import Feed, Venue
from risk import RiskState
from trader.bus import Bus, create_bus
from trader.config import TraderConfig, config_as_dict
from trader.engine.clock import Clock, EventClock, WallClock
from trader.engine.pipeline import Pipeline
from trader.engine.recovery import restore_run
from trader.ensemble import Ensemble
from trader.errors import ConfigError
from trader.features.stream import FeatureStreamSet
from trader.ledger.config import redact_url
from trader.ledger.records import RunInfo
from trader.ledger.resume import ResumeState
from trader.ledger.store import LedgerStore
from trader.portfolio import Portfolio, Position

log = structlog.get_logger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_BARS = 51


@dataclass(slots=True)
class Assembly:
    """Everything a Runner needs, built and (when resuming) restored."""

    run: RunInfo
    pipeline: Pipeline
    feed: Feed
    venue: Venue
    ledger: LedgerStore
    bus: Bus
    since_ms: int | None
    resumed: bool


def derive_run_id(config: TraderConfig, mode: str) -> str:
    """Return a run id fixed by what decides the run's ledger (feed, venue, profile, risk…)."""
    data = config_as_dict(config)
    for volatile in ("ledger", "bus", "metrics", "logging", "scheduler"):
        data.pop(volatile, None)
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{mode}-{digest[:12]}"


def build_feed_and_venue(config: TraderConfig) -> tuple[Feed, Venue, str]:
    """Return the feed, the venue and the run mode the config asks for."""
    if config.run.venue == "simulated":
        from adapters.simulated import SimulatedVenue, SyntheticFeed

        venue_config = config.venue.model_copy(update={"initial_cash": config.run.initial_cash})
        if config.run.feed != "synthetic":
            feed = _file_feed(config)
            symbols = _specs_for(config, feed.symbols)
            return feed, SimulatedVenue(venue_config, symbols), "replay"
        feed = SyntheticFeed(config.market)
        return feed, SimulatedVenue(venue_config, config.market.symbols), "simulated"
    from adapters.hinance import build_hinance

    feed, venue = build_hinance(config.hinance)
    return feed, venue, "paper"


def _file_feed(config: TraderConfig) -> Feed:
    from adapters.replay import open_feed

    return open_feed(Path(config.run.feed), interval_s=config.features.interval_s)


def _specs_for(config: TraderConfig, symbols: tuple[str, ...] | list[str]) -> tuple:
    known = {spec.symbol: spec for spec in config.market.symbols}
    missing = [symbol for symbol in symbols if symbol not in known]
    if missing:
        raise ConfigError(
            f"no market.symbols entry (tick, step, min notional) for {missing}; "
            "add one to the config"
        )
    return tuple(known[symbol] for symbol in symbols)


async def assemble(
    config: TraderConfig,
    *,
    feed: Feed | None = None,
    venue: Venue | None = None,
    mode: str | None = None,
    clock: Clock | None = None,
) -> Assembly:
    """Build a run from config; resume it from the ledger when it already exists."""
    if feed is None or venue is None:
        built_feed, built_venue, built_mode = build_feed_and_venue(config)
        feed = feed or built_feed
        venue = venue or built_venue
        mode = mode or built_mode
    mode = mode or "simulated"
    run_id = config.run.run_id or derive_run_id(config, mode)
    ledger = LedgerStore(config.ledger)
    ensemble = Ensemble.from_config(config.ensemble, config.run.profile, search_roots=[REPO_ROOT])
    clock = clock or (WallClock() if mode == "paper" else EventClock())
    run = RunInfo(
        run_id=run_id,
        mode=mode,
        profile=config.run.profile,
        started_ms=int(time.time() * 1000),
        config_json=orjson.dumps(_without_credentials(config_as_dict(config))).decode(),
        initial_cash=config.run.initial_cash,
        quote_currency=config.run.quote_currency,
    )
    history = max(WINDOW_BARS, config.ensemble.history_length + WINDOW_BARS)
    resume = ledger.load_resume_state(run_id, bars_per_symbol=history)
    features = FeatureStreamSet(list(feed.symbols), feed.interval_s, _anchor(config, ensemble))
    if resume is None:
        portfolio = Portfolio(cash=config.run.initial_cash)
        risk_state = RiskState.initial(config.run.initial_cash, 0)
        warmup = history if config.run.paper_warmup_bars < 0 else config.run.paper_warmup_bars
        since_ms = _fresh_start_ms(mode, feed.interval_s, warmup)
    else:
        portfolio, risk_state = _restore(resume, features)
        since_ms = resume.last_close_time_ms
    pipeline = Pipeline(
        run_id=run_id,
        ensemble=ensemble,
        venue=venue,
        features=features,
        portfolio=portfolio,
        risk_state=risk_state,
        risk_config=config.risk,
        sizing_config=config.sizing,
        clock=clock,
        initial_cash=config.run.initial_cash,
    )
    if resume is not None:
        await restore_run(ledger, resume, pipeline, venue)
    created = ledger.begin_run(run)
    log.info(
        "run.started" if created else "run.resumed",
        run_id=run_id,
        mode=mode,
        profile=config.run.profile,
        since_ms=since_ms,
    )
    bus = create_bus(config.bus, run_id)
    return Assembly(run, pipeline, feed, venue, ledger, bus, since_ms, resume is not None)


def _without_credentials(value: Any) -> Any:
    """Return config data with the user:password part of every URL masked (the ledger keeps it)."""
    if isinstance(value, dict):
        return {key: _without_credentials(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_credentials(item) for item in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def _fresh_start_ms(mode: str, interval_s: int, history_bars: int) -> int | None:
    """Return where a new paper run's feed starts: far enough back to fill the windows at once.

    The backfilled bars are stale by the wall clock, so they warm the features and the
    ensemble's history without producing signals; simulated and replay runs start at the start.
    """
    if mode != "paper" or history_bars <= 0:
        return None
    interval_ms = interval_s * 1000
    now_ms = int(time.time() * 1000)
    return (now_ms // interval_ms - history_bars) * interval_ms


def _anchor(config: TraderConfig, ensemble: Ensemble) -> int:
    for member, _weight in ensemble.members:
        anchor = getattr(member, "anchor_ms", None)
        if anchor:
            return int(anchor)
    return config.features.anchor_ms


def _restore(resume: ResumeState, features: FeatureStreamSet) -> tuple[Portfolio, RiskState]:
    portfolio = Portfolio(cash=resume.cash, fees_paid=resume.fees_paid)
    for symbol, record in resume.positions.items():
        portfolio.positions[symbol] = Position(
            symbol, record.quantity, record.average_price, record.realized_pnl
        )
        portfolio.marks[symbol] = record.mark_price
    bars = [bar for series in resume.recent_bars.values() for bar in series]
    features.warm(sorted(bars, key=lambda bar: (bar.open_time_ms, bar.symbol)))
    risk_state = RiskState.from_dict(resume.risk_state) if resume.risk_state else None
    if risk_state is None:
        risk_state = RiskState.initial(resume.cash, 0)
    return portfolio, risk_state
