"""What the fast replay computes ahead for a whole file: every bar's gate verdict and vector,
and every clean window's signal, in batches, equal to what the streaming stages would produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import structlog

from trader.domain import Bar, BarEvent, Signal
from trader.engine.pipeline import PADDED_KINDS, BarOutcome
from trader.ensemble import Ensemble, MemberBatch
from trader.features.bars_csv import BarSeries
from trader.features.quality import BarIssue
from trader.features.series import compute_series
from trader.features.stream import FeatureStreamSet

log = structlog.get_logger(__name__)

INFERENCE_ROWS = 8192
"""Rows per batched ensemble call: large enough for BLAS to run at full speed."""


class Outcome:
    """One bar's verdict from the batch feature stage (the fields of a `StreamResult`)."""

    __slots__ = ("accepted", "code", "reason", "vector", "window_clean")

    def __init__(
        self, accepted: bool, issue: BarIssue | None, window_clean: bool, vector: np.ndarray | None
    ) -> None:
        self.accepted = accepted
        self.code = None if issue is None else issue.code
        self.reason = None if issue is None else issue.reason
        self.window_clean = window_clean
        self.vector = vector


PlannedEvent = tuple[BarEvent, list[tuple[Bar, BarOutcome]]]


@dataclass(slots=True)
class _SymbolBars:
    bars: list[Bar]
    warm: int


def plan_features(
    events: Sequence[BarEvent],
    features: FeatureStreamSet,
    warm_bars: dict[str, list[Bar]] | None = None,
) -> list[PlannedEvent] | None:
    """Return every event's bars (sorted by symbol, as the pipeline takes them) with outcomes.

    Each symbol's bars go through `compute_series` in one pass, after `warm_bars` (the stored
    bars a resumed run warmed its windows with). Bars of unknown symbols get the stream set's
    own rejection. Returns None when a bar's interval differs from its stream's (the series
    path cannot express that; the caller then pushes bars one by one).
    """
    per_symbol = {
        symbol: _SymbolBars(list((warm_bars or {}).get(symbol, [])), 0)
        for symbol in features.symbols
    }
    for item in per_symbol.values():
        item.warm = len(item.bars)
    placed: list[tuple[BarEvent, list[tuple[Bar, str | None, int | BarOutcome]]]] = []
    for event in events:
        entries: list[tuple[Bar, str | None, int | BarOutcome]] = []
        for bar in sorted(event.bars, key=lambda b: b.symbol):
            target = per_symbol.get(bar.symbol)
            if target is None:
                entries.append((bar, None, features.push(bar)))
                continue
            if bar.interval_s != features.stream(bar.symbol).interval_s:
                return None
            entries.append((bar, bar.symbol, len(target.bars)))
            target.bars.append(bar)
        placed.append((event, entries))
    outcomes = {
        symbol: _symbol_outcomes(features, symbol, item.bars)
        for symbol, item in per_symbol.items()
        if len(item.bars) > item.warm
    }
    planned: list[PlannedEvent] = []
    for event, entries in placed:
        items: list[tuple[Bar, BarOutcome]] = []
        for bar, symbol, where in entries:
            if symbol is None:
                items.append((bar, where))  # type: ignore[arg-type]
            else:
                items.append((bar, outcomes[symbol][where]))  # type: ignore[index]
        planned.append((event, items))
    return planned


def _symbol_outcomes(features: FeatureStreamSet, symbol: str, bars: list[Bar]) -> list[Outcome]:
    stream = features.stream(symbol)
    series = BarSeries(
        symbol=symbol,
        interval_s=stream.interval_s,
        open_time_ms=np.fromiter((b.open_time_ms for b in bars), np.int64, len(bars)),
        open=np.fromiter((b.open for b in bars), np.float64, len(bars)),
        high=np.fromiter((b.high for b in bars), np.float64, len(bars)),
        low=np.fromiter((b.low for b in bars), np.float64, len(bars)),
        close=np.fromiter((b.close for b in bars), np.float64, len(bars)),
        volume=np.fromiter((b.volume for b in bars), np.float64, len(bars)),
    )
    table = compute_series(series, stream.anchor_ms)
    issues = dict(table.issues)
    vector_at = np.full(len(bars), -1, dtype=np.int64)
    vector_at[table.rows] = np.arange(len(table.rows))
    accepted = table.accepted.tolist()
    valid = table.valid.tolist()
    vectors = table.vectors
    result = []
    for row, index in enumerate(vector_at.tolist()):
        result.append(
            Outcome(
                accepted[row],
                issues.get(row),
                valid[row],
                vectors[index] if index >= 0 else None,
            )
        )
    return result


def batchable(ensemble: Ensemble) -> bool:
    """Return whether every member maps one feature vector to probabilities on its own.

    Only then can all rows be inferred ahead; members that read the portfolio or a history
    are asked event by event during the sequential pass.
    """
    return all(getattr(member, "kind", "") in PADDED_KINDS for member, _w in ensemble.members)


def plan_signals(
    ensemble: Ensemble,
    run_id: str,
    planned: Iterable[PlannedEvent],
    rows_per_call: int = INFERENCE_ROWS,
) -> dict[tuple[str, int], Signal]:
    """Infer every clean window ahead in large batches; key the signals by (symbol, bar open).

    The signals come from `Ensemble.decide` itself, so the combination, rounding and ids are the
    streaming path's; `decided_at_ms` is set per event during the pass.
    """
    symbols: list[str] = []
    opens: list[int] = []
    vectors: list[np.ndarray] = []
    for _event, items in planned:
        for bar, outcome in items:
            if outcome.accepted and outcome.vector is not None:
                symbols.append(bar.symbol)
                opens.append(bar.open_time_ms)
                vectors.append(outcome.vector)
    signals: dict[tuple[str, int], Signal] = {}
    if not vectors:
        return signals
    matrix = np.stack(vectors)
    portfolio = np.zeros((len(vectors), 5), dtype=np.float32)
    for start in range(0, len(vectors), rows_per_call):
        stop = min(start + rows_per_call, len(vectors))
        batch = MemberBatch(
            symbols=symbols[start:stop],
            features=matrix[start:stop],
            portfolio=portfolio[start:stop],
        )
        for signal in ensemble.decide(run_id, batch, opens[start:stop], 0):
            signals[(signal.symbol, signal.bar_open_time_ms)] = signal
    log.debug("replay.signals_planned", rows=len(vectors))
    return signals
