"""What the fast replay infers ahead for a whole file: every clean window's single-vector model
outputs and, when the profile allows, its signals, in batches, equal bit for bit to what the
streaming stages decide bar by bar. The bars' verdicts and vectors come from `feature_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import structlog

from trader.domain import Signal
from trader.domain.bulk import frozen_instances
from trader.domain.ids import signal_ids
from trader.ensemble.evaluation import ChainEvaluator
from trader.ensemble.members import (
    SINGLE_VECTOR_KINDS,
    MemberBatch,
    single_vector_members,
)
from trader.gc_pause import paused_gc
from trader.replay.feature_plan import PlannedEvent, clean_rows

log = structlog.get_logger(__name__)

INFERENCE_ROWS = 8192
"""Rows per batched member call: large enough for BLAS to run at full speed."""


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
    clean = clean_rows(planned)
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
    clean = clean_rows(planned)
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
