"""The fast replay's feature stage for a whole file: every bar's gate verdict and vector, equal
bit for bit to what the streaming stages compute bar by bar, and the clean windows as columns
ready for batched inference (`trader.replay.plan`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
import structlog

from trader.domain import Bar, BarEvent
from trader.domain.bulk import frozen_instances
from trader.engine.pipeline import BarOutcome
from trader.ensemble.members import FEATURE_WIDTH
from trader.features.bars_csv import BarSeries
from trader.features.quality import BarIssueCode
from trader.features.series import FeatureTable, compute_series
from trader.features.stream import FeatureStreamSet
from trader.gc_pause import paused_gc

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class Outcome:
    """One bar's verdict from the batch feature stage (the fields of a `StreamResult`)."""

    accepted: bool
    code: BarIssueCode | None
    reason: str | None
    window_clean: bool
    vector: np.ndarray | None


# Shared by every bar they describe: accepted before its window is clean, and rejected
# without an issue (the gate always names one; kept for completeness).
_OUTSIDE_WINDOW = Outcome(True, None, None, False, None)
_REJECTED = Outcome(False, None, None, False, None)

PlannedEvent = tuple[BarEvent, list[tuple[Bar, BarOutcome]]]


@dataclass(frozen=True, eq=False)
class CleanRows:
    """Every bar with a clean window, in the order the pass meets them: its symbol, open time,
    event close time and vector (one row of `vectors`)."""

    symbols: list[str]
    opens: list[int]
    closes: list[int]
    vectors: np.ndarray


class FeaturePlan(list[PlannedEvent]):
    """The planned events, with their clean windows gathered as columns for the models."""

    clean_rows: CleanRows | None = None


_SYMBOL = attrgetter("symbol")
_INTERVAL = attrgetter("interval_s")
_BARS = attrgetter("bars")
_COLUMNS = (
    ("open_time_ms", np.int64),
    ("open", np.float64),
    ("high", np.float64),
    ("low", np.float64),
    ("close", np.float64),
    ("volume", np.float64),
)


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
    with paused_gc():
        return _plan_features(events, features, warm_bars or {})


def _plan_features(
    events: Sequence[BarEvent], features: FeatureStreamSet, warm_bars: dict[str, list[Bar]]
) -> FeaturePlan | None:
    intervals = {symbol: features.stream(symbol).interval_s for symbol in features.symbols}
    per_symbol = {symbol: list(warm_bars.get(symbol, ())) for symbol in features.symbols}
    event_of: dict[str, Sequence[int]] = {}
    warm = {symbol: len(bars) for symbol, bars in per_symbol.items()}
    unknown: list[Bar] = []
    ordered: list[Sequence[Bar]] = []
    single = _single_symbol_bars(events, intervals)
    if single is not None:
        per_symbol[single[0].symbol] += single
        event_of[single[0].symbol] = range(len(events))
    else:
        placed: dict[str, list[int]] = {symbol: [] for symbol in features.symbols}
        for index, event in enumerate(events):
            bars: Sequence[Bar] = event.bars
            if len(bars) > 1:
                bars = sorted(bars, key=_SYMBOL)
            ordered.append(bars)
            for bar in bars:
                target = per_symbol.get(bar.symbol)
                if target is None:
                    unknown.append(bar)
                elif bar.interval_s != intervals[bar.symbol]:
                    return None
                else:
                    target.append(bar)
                    placed[bar.symbol].append(index)
        event_of.update(placed)
    tables: dict[str, FeatureTable] = {}
    cursors: dict[str, Iterator[BarOutcome]] = {}
    for symbol, bars in per_symbol.items():
        if len(bars) > warm[symbol]:
            outcomes, tables[symbol] = _symbol_outcomes(features, symbol, bars)
            cursors[symbol] = iter(outcomes[warm[symbol] :])
    rejected: Iterator[BarOutcome] = iter([features.push(bar) for bar in unknown])
    plan = FeaturePlan()
    if single is not None:
        [outcomes_in_order] = cursors.values()
        items = [[pair] for pair in zip(single, outcomes_in_order, strict=True)]
        plan.extend(zip(events, items, strict=True))
    else:
        plan.extend(
            (event, [(bar, next(cursors.get(bar.symbol, rejected))) for bar in bars])
            for event, bars in zip(events, ordered, strict=True)
        )
    plan.clean_rows = _gather_clean_rows(events, tables, warm, event_of)
    return plan


def _single_symbol_bars(events: Sequence[BarEvent], intervals: dict[str, int]) -> list[Bar] | None:
    """Return the bars when every event holds one bar, all of one known symbol and interval."""
    if not events or set(map(len, map(_BARS, events))) != {1}:
        return None
    bars = [event.bars[0] for event in events]
    symbols = set(map(_SYMBOL, bars))
    if len(symbols) != 1:
        return None
    [symbol] = symbols
    if symbol not in intervals or set(map(_INTERVAL, bars)) != {intervals[symbol]}:
        return None
    return bars


def _gather_clean_rows(
    events: Sequence[BarEvent],
    tables: dict[str, FeatureTable],
    warm: dict[str, int],
    event_of: dict[str, Sequence[int]],
) -> CleanRows:
    """Return the clean windows of every symbol's new bars by event, then symbol, as planned."""
    names = sorted(tables)
    ranks, positions, event_indexes, opens, vectors = [], [], [], [], []
    for rank, symbol in enumerate(names):
        table = tables[symbol]
        kept = table.rows >= warm[symbol]
        position = table.rows[kept] - warm[symbol]
        ranks.append(np.full(len(position), rank, dtype=np.int64))
        positions.append(position)
        event_indexes.append(np.asarray(event_of[symbol], dtype=np.int64)[position])
        opens.append(table.open_time_ms[kept])
        vectors.append(table.vectors[kept])
    if not names:
        return CleanRows([], [], [], np.zeros((0, FEATURE_WIDTH), np.float32))
    event_index = np.concatenate(event_indexes)
    order = np.lexsort((np.concatenate(positions), np.concatenate(ranks), event_index))
    return CleanRows(
        symbols=[names[rank] for rank in np.concatenate(ranks)[order].tolist()],
        opens=np.concatenate(opens)[order].tolist(),
        closes=[events[index].close_time_ms for index in event_index[order].tolist()],
        vectors=np.concatenate(vectors)[order],
    )


def _symbol_outcomes(
    features: FeatureStreamSet, symbol: str, bars: list[Bar]
) -> tuple[list[Outcome], FeatureTable]:
    stream = features.stream(symbol)
    count = len(bars)
    columns = {
        name: np.fromiter(map(attrgetter(name), bars), dtype, count) for name, dtype in _COLUMNS
    }
    series = BarSeries(symbol=symbol, interval_s=stream.interval_s, **columns)
    table = compute_series(series, stream.anchor_ms)
    outcomes = np.full(count, _OUTSIDE_WINDOW, dtype=object)
    outcomes[~table.accepted] = _REJECTED
    windows = len(table.rows)
    windowed = np.empty(windows, dtype=object)
    windowed[:] = frozen_instances(
        Outcome,
        {
            "accepted": [True] * windows,
            "code": [None] * windows,
            "reason": [None] * windows,
            "window_clean": [True] * windows,
            "vector": list(table.vectors),
        },
    )
    outcomes[table.rows] = windowed
    if table.issues:
        vector_at = dict(zip(table.rows.tolist(), table.vectors, strict=True))
        for row, issue in table.issues:
            outcomes[row] = Outcome(
                bool(table.accepted[row]),
                issue.code,
                issue.reason,
                bool(table.valid[row]),
                vector_at.get(row),
            )
    return outcomes.tolist(), table


def clean_rows(planned: Iterable[PlannedEvent]) -> CleanRows:
    """Return the clean windows of a plan as columns (kept by `plan_features`, else gathered)."""
    clean_rows = getattr(planned, "clean_rows", None)
    if clean_rows is not None:
        return clean_rows  # type: ignore[no-any-return]
    symbols: list[str] = []
    opens: list[int] = []
    closes: list[int] = []
    vectors: list[np.ndarray] = []
    for event, items in planned:
        for bar, outcome in items:
            if outcome.accepted and outcome.vector is not None:
                symbols.append(bar.symbol)
                opens.append(bar.open_time_ms)
                closes.append(event.close_time_ms)
                vectors.append(outcome.vector)
    matrix = np.array(vectors) if vectors else np.zeros((0, FEATURE_WIDTH), np.float32)
    return CleanRows(symbols, opens, closes, matrix)
