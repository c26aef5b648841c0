"""Windows of consecutive bars for the sequence models (CGDT, FLAG-TRADER) and their scoring.

Training windows lie wholly inside one part; decision windows end at the rows being scored and
may reach back into earlier bars (history a live model also has), never forward.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from trader.errors import DataError
from trader.training.dataset import LabeledDataset


def run_starts(dataset: LabeledDataset) -> np.ndarray:
    """Return, per dataset row, the first row of its run of consecutive bars."""
    rows = np.arange(len(dataset), dtype=np.int64)
    follows = dataset.contiguous_before(rows)
    breaks = np.where(follows, 0, rows)
    return np.maximum.accumulate(breaks)


def training_starts(dataset: LabeledDataset, rows: np.ndarray, length: int) -> np.ndarray:
    """Return the first rows of every window of `length` consecutive bars lying inside `rows`."""
    if length < 1:
        raise DataError(f"window length must be at least 1, got {length}")
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) < length:
        return np.empty(0, dtype=np.int64)
    inside = np.zeros(len(dataset), dtype=bool)
    inside[rows] = True
    ends = rows + (length - 1)
    ok = ends < len(dataset)
    ok[ok] &= inside[ends[ok]]
    # Same series and consecutive bars: the row `length − 1` bars later is exactly `length − 1`
    # rows on (rows of a series are unique, time-ordered bars).
    ok[ok] &= dataset.row_after(rows[ok], length - 1) == ends[ok]
    return rows[ok]


@dataclass(frozen=True, eq=False)
class DecisionWindows:
    """Windows [start, end] (dataset rows, inclusive) that score rows first_scored..end."""

    start: np.ndarray
    end: np.ndarray
    first_scored: np.ndarray

    def __len__(self) -> int:
        return len(self.end)

    @property
    def lengths(self) -> np.ndarray:
        """Return each window's length in bars."""
        return self.end - self.start + 1

    def spread(self, count: int) -> DecisionWindows:
        """Return up to `count` of the windows, evenly spaced (validation on a fixed subset)."""
        if len(self) <= count:
            return self
        pick = np.linspace(0, len(self) - 1, count).round().astype(np.int64)
        return DecisionWindows(self.start[pick], self.end[pick], self.first_scored[pick])

    def scored_rows(self) -> np.ndarray:
        """Return the rows these windows score, ascending."""
        parts = [np.arange(a, b + 1) for a, b in zip(self.first_scored, self.end, strict=True)]
        return np.sort(np.concatenate(parts)).astype(np.int64)


def decision_windows(
    dataset: LabeledDataset, rows: np.ndarray, length: int, stride: int
) -> DecisionWindows:
    """Cover every row of `rows` once with windows of up to `length` bars ending at or after it.

    Windows end every `stride` rows, so each row is read at a position with at least
    `length − stride` bars of history before it (less only at the start of a series). With
    stride 1 every row is the last position of its own window, as at run time.
    """
    if not 1 <= stride <= length:
        raise DataError(f"stride must be in 1..{length}, got {stride}")
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    if len(rows) == 0:
        raise DataError("no rows to cover with decision windows")
    first = run_starts(dataset)
    starts, ends, scored = [], [], []
    # Blocks of rows that are consecutive dataset rows in one run of bars.
    cut = np.flatnonzero((np.diff(rows) != 1) | (first[rows[1:]] != first[rows[:-1]])) + 1
    for block in np.split(rows, cut):
        block_ends = block[stride - 1 :: stride]
        if len(block_ends) == 0 or block_ends[-1] != block[-1]:
            block_ends = np.r_[block_ends, block[-1]]
        previous = np.r_[block[0] - 1, block_ends[:-1]]
        ends.append(block_ends)
        scored.append(previous + 1)
        starts.append(np.maximum(block_ends - (length - 1), first[block_ends]))
    return DecisionWindows(
        start=np.concatenate(starts), end=np.concatenate(ends), first_scored=np.concatenate(scored)
    )


WindowForward = Callable[[np.ndarray, int], torch.Tensor]


@torch.inference_mode()
def predict_windows(
    windows: DecisionWindows, rows: np.ndarray, forward: WindowForward, batch_size: int
) -> np.ndarray:
    """Return float32 logits (len(rows), 3) read at each row's position in its window.

    `forward(starts, length)` runs the model on windows of `length` bars beginning at `starts`
    and returns logits (B, length, 3).
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.full((len(rows), 3), np.nan, dtype=np.float32)
    where = {int(row): i for i, row in enumerate(rows)}
    lengths = windows.lengths
    for length in np.unique(lengths):
        chosen = np.flatnonzero(lengths == length)
        for batch in _chunks(chosen, batch_size):
            logits = forward(windows.start[batch], int(length)).float().cpu().numpy()
            for k, w in enumerate(batch):
                for row in range(int(windows.first_scored[w]), int(windows.end[w]) + 1):
                    out[where[row]] = logits[k, row - int(windows.start[w])]
    if np.isnan(out).any():
        raise DataError("some rows were not covered by a decision window")
    return out


def _chunks(values: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for begin in range(0, len(values), size):
        yield values[begin : begin + size]


def gather_windows(values: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Return values[starts[b] + j] for j < length, shape (B, length, …)."""
    index = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(length, dtype=np.int64)
    return values[index]


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """Return bf16 autocast on CUDA (weights stay float32), nothing on the CPU."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()
