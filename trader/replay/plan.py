"""What the fast replay computes ahead for a whole file: every bar's gate verdict and vector,
and every clean window's single-vector model outputs, in batches, equal bit for bit to what the
streaming stages compute bar by bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog

from trader.domain import Bar, BarEvent, Signal
from trader.domain.ids import signal_id
from trader.engine.pipeline import PADDED_KINDS, BarOutcome, single_vector_members
from trader.ensemble.evaluation import ChainEvaluator
from trader.ensemble.members import FEATURE_WIDTH, MemberBatch
from trader.features.bars_csv import BarSeries
from trader.features.quality import BarIssue
from trader.features.series import compute_series
from trader.features.stream import FeatureStreamSet

log = structlog.get_logger(__name__)

INFERENCE_ROWS = 8192
"""Rows per batched member call: large enough for BLAS to run at full speed."""


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
    intervals = {symbol: features.stream(symbol).interval_s for symbol in features.symbols}
    for event in events:
        for bar in event.bars:
            if bar.symbol in intervals and bar.interval_s != intervals[bar.symbol]:
                return None
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
    symbols, opens, vectors = _clean_rows(planned)
    index = {key: row for row, key in enumerate(zip(symbols, opens, strict=True))}
    matrix = np.stack(vectors) if vectors else np.zeros((0, FEATURE_WIDTH), np.float32)
    portfolio = np.zeros((len(vectors), 5), dtype=np.float32)
    answers = []
    for member in members:
        parts = []
        for start in range(0, len(vectors), rows_per_call):
            stop = min(start + rows_per_call, len(vectors))
            batch = MemberBatch(
                symbols=symbols[start:stop],
                features=matrix[start:stop],
                portfolio=portfolio[start:stop],
                bar_open_times_ms=opens[start:stop],
            )
            parts.append(np.asarray(member.predict(batch), dtype=np.float64))
        outputs = np.concatenate(parts) if parts else np.zeros((0, 3))
        answers.append(PrecomputedPredict(member.predict, index, outputs))
    log.debug("replay.outputs_planned", rows=len(vectors), members=len(members))
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
            if getattr(member, "kind", "") not in PADDED_KINDS or member.stateful:
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
    The signals are built as `Ensemble.decide` builds them; `decided_at_ms` is set per event.
    """
    symbols, opens, vectors = _clean_rows(planned)
    evaluator = ChainEvaluator(
        ensemble.chain, ensemble.profiles, ensemble.config.abstain_opposing_weight
    )
    signals: dict[tuple[str, int], Signal] = {}
    matrix = np.stack(vectors) if vectors else np.zeros((0, FEATURE_WIDTH), np.float32)
    for start in range(0, len(vectors), rows_per_call):
        stop = min(start + rows_per_call, len(vectors))
        rows = stop - start
        batch = MemberBatch(
            symbols=symbols[start:stop],
            features=matrix[start:stop],
            portfolio=np.zeros((rows, 5), dtype=np.float32),
            histories=[matrix[row : row + 1] for row in range(start, stop)],
            previous_actions=[np.ones(1, dtype=np.int64) for _ in range(rows)],
            bar_open_times_ms=opens[start:stop],
        )
        outcome = evaluator.evaluate(batch, np.ones(rows, dtype=np.int64))
        for row in range(rows):
            symbol, time_ms = symbols[start + row], opens[start + row]
            decision = outcome.decisions[row]
            signals[(symbol, time_ms)] = Signal(
                signal_id=signal_id(run_id, symbol, time_ms),
                symbol=symbol,
                bar_open_time_ms=time_ms,
                decided_at_ms=0,
                profile=ensemble.profile_name,
                action=decision.action,
                confidence=decision.confidence,
                probabilities=decision.probabilities,
                members=tuple(outcome.members[row]),
                abstained=decision.abstained,
                note="; ".join(outcome.notes[row]),
            )
    log.debug("replay.signals_planned", rows=len(vectors))
    return signals


def signal_lookup(signals: dict[tuple[str, int], Signal]) -> Callable[[Any, int], list[Signal]]:
    """Return a pipeline `decide` that answers from signals planned ahead, stamped `now_ms`."""

    def decide(ready: Any, now_ms: int) -> list[Signal]:
        result = []
        for symbol, bar, _vector in ready:
            s = signals[(symbol, bar.open_time_ms)]
            result.append(
                Signal(
                    s.signal_id, s.symbol, s.bar_open_time_ms, now_ms, s.profile, s.action,
                    s.confidence, s.probabilities, s.members, s.abstained, s.note,
                )
            )  # fmt: skip
        return result

    return decide


def _clean_rows(planned: Iterable[PlannedEvent]) -> tuple[list[str], list[int], list[np.ndarray]]:
    symbols: list[str] = []
    opens: list[int] = []
    vectors: list[np.ndarray] = []
    for _event, items in planned:
        for bar, outcome in items:
            if outcome.accepted and outcome.vector is not None:
                symbols.append(bar.symbol)
                opens.append(bar.open_time_ms)
                vectors.append(outcome.vector)
    return symbols, opens, vectors
