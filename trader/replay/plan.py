"""What the fast replay computes ahead for a whole file: every bar's gate verdict and vector,
and every clean window's single-vector model outputs, in batches, equal bit for bit to what the
streaming stages compute bar by bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
import structlog

from trader.domain import Bar, BarEvent, Signal
from trader.domain.bulk import frozen_instances
from trader.domain.ids import signal_ids
from trader.engine.pipeline import BarOutcome
from trader.ensemble.evaluation import ChainEvaluator
from trader.ensemble.members import (
    FEATURE_WIDTH,
    SINGLE_VECTOR_KINDS,
    MemberBatch,
    single_vector_members,
)
from trader.features.bars_csv import BarSeries
from trader.features.quality import BarIssueCode
from trader.features.series import FeatureTable, compute_series
from trader.features.stream import FeatureStreamSet
from trader.gc_pause import paused_gc

log = structlog.get_logger(__name__)

INFERENCE_ROWS = 8192
"""Rows per batched member call: large enough for BLAS to run at full speed."""


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


class PrecomputedPredict:
    """A member's `predict` answered from outputs inferred ahead, keyed by (symbol, bar open).

    A row it does not hold sends the whole call to the member's own predict.
    """

    def __init__(
        self,
        fallback: Callable[[MemberBatch], np.ndarray],
        index: dict[tuple[str, int], int],
        outputs: np.ndarray,
    ) -> None:
        self.fallback = fallback
        self.index = index
        self.outputs = outputs
        self.misses = 0

    def __call__(self, batch: MemberBatch) -> np.ndarray:
        index = self.index
        rows = [index.get(key) for key in zip(batch.symbols, batch.bar_open_times_ms, strict=True)]
        if None in rows or not rows:
            self.misses += 1
            return self.fallback(batch)
        return self.outputs[rows]


def plan_member_outputs(
    members: Sequence[Any], planned: Iterable[PlannedEvent], rows_per_call: int = INFERENCE_ROWS
) -> list[PrecomputedPredict]:
    """Infer every clean window with each single-vector member, in large batches.

    The members are run through their own (padded) `predict`, so every row's outputs are the
    ones a decision on that bar alone would compute.
    """
    clean = _clean_rows(planned)
    symbols, opens, matrix = clean.symbols, clean.opens, clean.vectors
    index = {key: row for row, key in enumerate(zip(symbols, opens, strict=True))}
    portfolio = np.zeros((len(matrix), 5), dtype=np.float32)
    answers = []
    for member in members:
        parts = []
        for start in range(0, len(matrix), rows_per_call):
            stop = min(start + rows_per_call, len(matrix))
            batch = MemberBatch(
                symbols=symbols[start:stop],
                features=matrix[start:stop],
                portfolio=portfolio[start:stop],
                bar_open_times_ms=opens[start:stop],
            )
            parts.append(np.asarray(member.predict(batch), dtype=np.float64))
        outputs = np.concatenate(parts) if parts else np.zeros((0, 3))
        answers.append(PrecomputedPredict(member.predict, index, outputs))
    log.debug("replay.outputs_planned", rows=len(matrix), members=len(members))
    return answers


@contextmanager
def precomputed_outputs(ensemble: Any, planned: Sequence[PlannedEvent]) -> Iterator[int]:
    """Answer the ensemble's single-vector members from outputs inferred ahead, meanwhile.

    Yields how many members are precomputed; their own `predict` is back afterwards.
    """
    members = single_vector_members(ensemble)
    answers = plan_member_outputs(members, planned)
    saved = [member.__dict__.get("predict") for member in members]
    for member, answer in zip(members, answers, strict=True):
        member.predict = answer
    try:
        yield len(members)
    finally:
        for member, previous in zip(members, saved, strict=True):
            if previous is None:
                del member.predict
            else:
                member.predict = previous
        misses = sum(answer.misses for answer in answers)
        if misses:
            log.info("replay.outputs_missed", calls=misses)


def vectorizable(ensemble: Any) -> bool:
    """Return whether the profile chain can decide every row at once, as it would row by row.

    True when every member reads only the newest vector (BaselineMLP, CQL: stateless, no
    history) and no member has a latency budget (a budget makes decisions depend on the wall
    clock; then the pass asks the ensemble event by event, from outputs inferred ahead).
    """
    chain = getattr(ensemble, "chain", None)
    profiles = getattr(ensemble, "profiles", None)
    if not chain or not isinstance(profiles, dict):
        return False
    for name in chain:
        for entry in profiles[name]:
            member = entry.member
            if entry.latency_budget_ms > 0:
                return False
            if getattr(member, "kind", "") not in SINGLE_VECTOR_KINDS or member.stateful:
                return False
            if getattr(member, "min_history", 1) > 1:
                return False
    return True


def plan_signals(
    ensemble: Any,
    run_id: str,
    planned: Iterable[PlannedEvent],
    rows_per_call: int = INFERENCE_ROWS,
) -> dict[tuple[str, int], Signal]:
    """Decide every clean window ahead with the ensemble's own chain evaluator, in big batches.

    Only for a `vectorizable` ensemble: its decision for a row then depends on that row alone.
    The signals are built as `Ensemble.decide` builds them, stamped `decided_at_ms` with their
    event's close time (the replay clock's time; `signal_lookup` restamps any other).
    """
    with paused_gc():
        return _plan_signals(ensemble, run_id, planned, rows_per_call)


def _plan_signals(
    ensemble: Any, run_id: str, planned: Iterable[PlannedEvent], rows_per_call: int
) -> dict[tuple[str, int], Signal]:
    clean = _clean_rows(planned)
    symbols, opens, closes, matrix = clean.symbols, clean.opens, clean.closes, clean.vectors
    evaluator = ChainEvaluator(
        ensemble.chain, ensemble.profiles, ensemble.config.abstain_opposing_weight
    )
    ids = signal_ids(run_id, symbols, opens)
    profile = ensemble.profile_name
    hold = np.ones(1, dtype=np.int64)
    hold.setflags(write=False)  # one HOLD placeholder, read by every row
    signals: list[Signal] = []
    for start in range(0, len(matrix), rows_per_call):
        stop = min(start + rows_per_call, len(matrix))
        rows = stop - start
        batch = MemberBatch(
            symbols=symbols[start:stop],
            features=matrix[start:stop],
            portfolio=np.zeros((rows, 5), dtype=np.float32),
            histories=list(matrix[start:stop, None, :]),
            previous_actions=[hold] * rows,
            bar_open_times_ms=opens[start:stop],
        )
        outcome = evaluator.evaluate(batch, np.ones(rows, dtype=np.int64))
        decisions = outcome.decisions
        texts = {notes: "; ".join(notes) for notes in set(outcome.notes)}
        signals += frozen_instances(
            Signal,
            {
                "signal_id": ids[start:stop],
                "symbol": symbols[start:stop],
                "bar_open_time_ms": opens[start:stop],
                "decided_at_ms": closes[start:stop],
                "profile": [profile] * rows,
                "action": decisions.actions,
                "confidence": decisions.confidences,
                "probabilities": decisions.probabilities,
                "members": outcome.members,
                "abstained": decisions.abstained,
                "note": [texts[notes] for notes in outcome.notes],
            },
        )
    log.debug("replay.signals_planned", rows=len(matrix))
    return dict(zip(zip(symbols, opens, strict=True), signals, strict=True))


def signal_lookup(signals: dict[tuple[str, int], Signal]) -> Callable[[Any, int], list[Signal]]:
    """Return a pipeline `decide` that answers from signals planned ahead, stamped `now_ms`."""

    def decide(ready: Any, now_ms: int) -> list[Signal]:
        result = []
        for symbol, bar, _vector in ready:
            s = signals[(symbol, bar.open_time_ms)]
            if s.decided_at_ms != now_ms:
                s = Signal(
                    s.signal_id, s.symbol, s.bar_open_time_ms, now_ms, s.profile, s.action,
                    s.confidence, s.probabilities, s.members, s.abstained, s.note,
                )  # fmt: skip
            result.append(s)
        return result

    return decide


def _clean_rows(planned: Iterable[PlannedEvent]) -> CleanRows:
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
