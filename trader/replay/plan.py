"""What the fast replay infers ahead for a whole file: every clean window's single-vector model
outputs and, when the profile allows, its signals, in batches, equal bit for bit to what the
streaming stages decide bar by bar. The bars' verdicts and vectors come from `feature_plan`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


NICENESS = 5
"""The deciding thread runs below the pass's priority: the pass is the critical path."""

FIRST_ROWS = 1024
"""Rows of the first chunk the pass waits for: small, so the pass starts soon."""


class SignalsAhead(Mapping[tuple[str, int], Signal]):
    """Every clean window's signal, decided in a background thread chunk by chunk, in the
    order the pass asks for them (`clean_rows` follows the events).

    The members' products run in numpy without the GIL, so on a second core the decisions stay
    ahead of the sequential pass instead of running before it. Looking up a signal whose chunk
    is not decided yet waits for it; an error in the thread is raised there. `close` stops the
    thread (after its chunk in flight) and waits for it.
    """

    def __init__(
        self,
        ensemble: Any,
        run_id: str,
        planned: Iterable[PlannedEvent],
        rows_per_call: int = INFERENCE_ROWS,
        first_rows: int = FIRST_ROWS,
    ) -> None:
        clean = clean_rows(planned)
        self._keys = list(zip(clean.symbols, clean.opens, strict=True))
        total = len(self._keys)
        self._bounds = _growing_chunks(total, first_rows, rows_per_call)
        self._chunks = _signal_chunks(ensemble, run_id, clean)
        self._signals: dict[tuple[str, int], Signal] = {}
        self._condition = threading.Condition()
        self._finished = False
        self._cancelled = False
        self._error: BaseException | None = None
        self.waited_s = 0.0
        """Seconds lookups spent waiting for the thread (the first chunk included)."""
        self._thread = threading.Thread(target=self._decide_all, name="replay-signals")
        self._thread.start()

    def _decide_all(self) -> None:
        with contextlib.suppress(OSError):  # below the pass (Linux: per thread, inherited)
            os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS)
        try:
            for start, stop in self._bounds:
                if self._cancelled:
                    break
                decided = self._chunks(start, stop)
                with self._condition:
                    self._signals.update(zip(self._keys[start:stop], decided, strict=True))
                    self._condition.notify_all()
        except BaseException as exc:  # handed to the pass, which raises it
            self._error = exc
        finally:
            with self._condition:
                self._finished = True
                self._condition.notify_all()
            log.debug("replay.signals_planned", rows=len(self._signals))

    def __getitem__(self, key: tuple[str, int]) -> Signal:
        signal = self._signals.get(key)
        if signal is not None:
            return signal
        started = time.perf_counter()
        with self._condition:
            while key not in self._signals and not self._finished:
                self._condition.wait()
        self.waited_s += time.perf_counter() - started
        if key in self._signals:
            return self._signals[key]
        if self._error is not None:
            raise self._error  # the thread's own error, raised where the pass asked
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def close(self) -> None:
        """Stop deciding after the chunk in flight and wait for the thread."""
        self._cancelled = True
        self._thread.join()


def _growing_chunks(total: int, first: int, largest: int) -> list[tuple[int, int]]:
    """Return [start, stop) bounds over total rows, each chunk twice the one before (from
    `first`, up to `largest`): the pass starts early and the thread stays ahead of it."""
    bounds = []
    start, size = 0, max(1, min(first, largest))
    while start < total:
        stop = min(start + size, total)
        bounds.append((start, stop))
        start, size = stop, min(size * 2, largest)
    return bounds


def plan_signals(
    ensemble: Any,
    run_id: str,
    planned: Iterable[PlannedEvent],
    rows_per_call: int = INFERENCE_ROWS,
) -> SignalsAhead:
    """Decide every clean window ahead with the ensemble's own chain evaluator, in big batches.

    Only for a `vectorizable` ensemble: its decision for a row then depends on that row alone,
    so the chunks can be of any size. The signals are built as `Ensemble.decide` builds them,
    stamped `decided_at_ms` with their event's close time (the replay clock's time;
    `signal_lookup` restamps any other). Close the result when done with it.
    """
    return SignalsAhead(ensemble, run_id, planned, rows_per_call)


def _signal_chunks(ensemble: Any, run_id: str, clean: Any) -> Callable[[int, int], list[Signal]]:
    """Return a function deciding the clean rows [start, stop) as a list of signals."""
    symbols, opens, closes, matrix = clean.symbols, clean.opens, clean.closes, clean.vectors
    evaluator = ChainEvaluator(
        ensemble.chain, ensemble.profiles, ensemble.config.abstain_opposing_weight
    )
    ids = signal_ids(run_id, symbols, opens)
    profile = ensemble.profile_name
    hold = np.ones(1, dtype=np.int64)
    hold.setflags(write=False)  # one HOLD placeholder, read by every row

    def decide(start: int, stop: int) -> list[Signal]:
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
        return frozen_instances(
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

    return decide


def signal_lookup(signals: Mapping[tuple[str, int], Signal]) -> Callable[[Any, int], list[Signal]]:
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
