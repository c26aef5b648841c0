"""One decision step over a profile and its fallbacks: run members, apply budgets, combine.

Rules (docs/ensemble.md):
- A member decides for a row once the symbol's history holds `min_history` vectors; before
  that it is left out of the row (reason `WARMING_UP: history=…, needed=…`).
- A member whose call takes longer than its `latency_budget_ms` (0 = none) is left out of the
  decision (reason `LATENCY_BUDGET: latency_ms=…, budget_ms=…`). If its profile has a
  fallback, the whole decision is made by the fallback profile's members (note `FALLBACK:
  profile=…, missed=…`; the other members of the profile that fell back are listed with
  reason `FALLBACK: profile=…`). A profile without a fallback decides without the late member.
- A member used by several profiles of the chain (same name and checkpoint) runs once per
  decision; stateful members (PPO) of every profile in the chain run on every decision so
  their recurrent state never skips a bar.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import structlog

from trader.domain import MemberOutput
from trader.domain.bulk import frozen_instances
from trader.ensemble.combine import CombinedRows, combine_rows, rounded_rows
from trader.ensemble.members import Member, MemberBatch

log = structlog.get_logger(__name__)

NO_OUTPUT = (0.0, 0.0, 0.0)
NO_MEMBERS_NOTE = "NO_MEMBERS: every member left out"
ABSTAINED_NOTE = "ABSTAINED: members disagree"


@dataclass(frozen=True)
class ProfileMember:
    """A member as one profile uses it: its weight and its latency budget (0 = none)."""

    member: Member
    weight: float
    latency_budget_ms: float = 0.0
    label: str = ""  # the name it is reported under (unique across the fallback chain)

    @property
    def name(self) -> str:
        """Return the reported name."""
        return self.label or self.member.name


@dataclass
class MemberRun:
    """One member's answer for this decision step."""

    probabilities: np.ndarray  # (B, 3); zero rows where it did not decide
    ready: np.ndarray  # (B,) bool
    latency_ms: float


@dataclass
class Outcome:
    """The decision of every row, the member views and the notes of the chain.

    Rows that read the same share one notes tuple (a batch of thousands holds a few).
    """

    decisions: CombinedRows
    members: list[tuple[MemberOutput, ...]]
    notes: list[tuple[str, ...]]
    profile: str
    missed: list[str] = field(default_factory=list)


_View = tuple[ProfileMember, MemberRun, np.ndarray, list[str]]


def budget_reason(latency_ms: float, budget_ms: float) -> str:
    """Return the standard reason of a missed budget."""
    return f"LATENCY_BUDGET: latency_ms={latency_ms:.3f}, budget_ms={budget_ms:.3f}"


class ChainEvaluator:
    """Evaluates one decision step for a profile chain (profile, its fallback, …)."""

    def __init__(
        self,
        chain: Sequence[str],
        profiles: Mapping[str, Sequence[ProfileMember]],
        abstain_opposing_weight: float,
    ) -> None:
        self.chain = list(chain)
        self.profiles = profiles
        self.abstain_opposing_weight = abstain_opposing_weight

    def evaluate(self, batch: MemberBatch, history_lengths: np.ndarray) -> Outcome:
        """Decide every row of `batch` (its histories filled by the ensemble)."""
        cache: dict[int, MemberRun] = {}

        def run(entry: ProfileMember) -> MemberRun:
            key = id(entry.member)
            if key not in cache:
                cache[key] = self._run(entry.member, batch, history_lengths)
            return cache[key]

        for profile in self.chain:
            for entry in self.profiles[profile]:
                if entry.member.stateful:
                    run(entry)
        rows = len(batch)
        views: dict[int, _View] = {}
        notes: list[str] = []
        missed_names: list[str] = []
        for depth, profile in enumerate(self.chain):
            entries = self.profiles[profile]
            runs = [run(entry) for entry in entries]
            missed = [
                entry.latency_budget_ms > 0 and result.latency_ms > entry.latency_budget_ms
                for entry, result in zip(entries, runs, strict=True)
            ]
            late = [entry.name for entry, late in zip(entries, missed, strict=True) if late]
            fallback = self.chain[depth + 1] if depth + 1 < len(self.chain) else None
            if late and fallback is not None:
                log.warning(
                    "ensemble.fell_back",
                    profile=profile,
                    fallback=fallback,
                    missed=late,
                    latency_ms=[
                        round(r.latency_ms, 3) for r, m in zip(runs, missed, strict=True) if m
                    ],
                )
                notes.append(f"FALLBACK: profile={fallback}, missed={'+'.join(late)}")
                missed_names += late
                for entry, result, late_member in zip(entries, runs, missed, strict=True):
                    reason = (
                        budget_reason(result.latency_ms, entry.latency_budget_ms)
                        if late_member
                        else f"FALLBACK: profile={fallback}"
                    )
                    views[id(entry.member)] = (
                        entry,
                        result,
                        np.zeros(rows, dtype=bool),
                        [reason] * rows,
                    )
                continue
            return self._combine(
                profile, entries, runs, missed, views, notes, missed_names, history_lengths
            )
        raise AssertionError("the last profile of a chain always decides")  # pragma: no cover

    def _run(self, member: Member, batch: MemberBatch, history_lengths: np.ndarray) -> MemberRun:
        ready = history_lengths >= member.min_history
        probabilities = np.zeros((len(batch), 3), dtype=np.float64)
        if not ready.any():
            return MemberRun(probabilities, ready, 0.0)
        part = batch if ready.all() else batch.select(np.flatnonzero(ready).tolist())
        started = time.perf_counter()
        answer = member.predict(part)
        latency_ms = (time.perf_counter() - started) * 1000.0
        probabilities[ready] = answer
        return MemberRun(probabilities, ready, latency_ms)

    def _combine(
        self,
        profile: str,
        entries: Sequence[ProfileMember],
        runs: Sequence[MemberRun],
        missed: Sequence[bool],
        views: dict[int, _View],
        notes: list[str],
        missed_names: list[str],
        history_lengths: np.ndarray,
    ) -> Outcome:
        rows = len(history_lengths)
        included = np.stack(
            [result.ready & (not late) for result, late in zip(runs, missed, strict=True)]
        )
        decisions = combine_rows(
            np.stack([result.probabilities for result in runs]),
            np.array([entry.weight for entry in entries]),
            self.abstain_opposing_weight,
            included,
        )
        for index, (entry, result, late) in enumerate(zip(entries, runs, missed, strict=True)):
            if late:
                reasons = [budget_reason(result.latency_ms, entry.latency_budget_ms)] * rows
            else:
                reasons = [""] * rows
                if not result.ready.all():
                    needed = entry.member.min_history
                    for row in np.flatnonzero(~result.ready).tolist():
                        history = int(history_lengths[row])
                        reasons[row] = f"WARMING_UP: history={history}, needed={needed}"
            # A member shared with a profile that fell back is reported once, as used here.
            views[id(entry.member)] = (entry, result, included[index], reasons)
        columns = [_member_outputs(*view) for view in views.values()]
        members = list(zip(*columns, strict=True)) if columns else [()] * rows
        shared = tuple(notes)
        row_notes = [shared] * rows
        if True in decisions.abstained:
            anyone = included.any(axis=0)
            nobody, disagree = (*shared, NO_MEMBERS_NOTE), (*shared, ABSTAINED_NOTE)
            for row in np.flatnonzero(decisions.abstained).tolist():
                row_notes[row] = disagree if anyone[row] else nobody
        return Outcome(decisions, members, row_notes, profile, missed_names)


def _member_outputs(
    entry: ProfileMember, result: MemberRun, used: np.ndarray, reasons: list[str]
) -> list[MemberOutput]:
    """Return one member's view for every row, built column-wise."""
    rows = len(reasons)
    probabilities: list[tuple[float, float, float]]
    if result.ready.all():
        probabilities = rounded_rows(result.probabilities)
    elif result.ready.any():
        probabilities = rounded_rows(result.probabilities)
        for row in np.flatnonzero(~result.ready).tolist():
            probabilities[row] = NO_OUTPUT
    else:
        probabilities = [NO_OUTPUT] * rows
    return frozen_instances(
        MemberOutput,
        {
            "name": [entry.name] * rows,
            "weight": [entry.weight] * rows,
            "probabilities": probabilities,
            "latency_ms": [result.latency_ms] * rows,
            "included": used.tolist(),
            "reason": reasons,
        },
    )
