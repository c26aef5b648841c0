"""The per-symbol history ring: windows, wrap-around, same bar again, gaps, warm from storage."""

from __future__ import annotations

import numpy as np
import pytest

from trader.domain import Action
from trader.ensemble.history import HistoryBook, Recorded
from trader.errors import DataError

BAR = 300_000


def vector(value: float) -> np.ndarray:
    return np.full(3, value, dtype=np.float32)


def test_windows_hold_the_newest_entries_oldest_first_across_wrap_around() -> None:
    book = HistoryBook(capacity=4, width=3)
    for index in range(6):
        assert book.record("A", vector(index), index * BAR) is Recorded.APPENDED
        book.get("A").set_last_action(index % 3)
    vectors, actions = book.get("A").window(4)
    assert vectors[:, 0].tolist() == [2, 3, 4, 5]
    assert actions.tolist() == [2, 0, 1, 2]
    vectors, actions = book.get("A").window(2)
    assert vectors[:, 0].tolist() == [4, 5] and actions.tolist() == [1, 2]
    assert book.get("A").window(10)[0].shape == (4, 3)
    assert book.get("A").interval_ms == BAR


def test_the_same_bar_again_replaces_the_newest_entry() -> None:
    book = HistoryBook(capacity=4, width=3)
    book.record("A", vector(1), 0)
    book.get("A").set_last_action(Action.BUY.index)
    assert book.record("A", vector(9), 0) is Recorded.REPLACED
    vectors, actions = book.get("A").window(4)
    assert vectors[:, 0].tolist() == [9] and actions.tolist() == [Action.HOLD.index]


def test_a_gap_or_an_older_bar_restarts_the_history() -> None:
    book = HistoryBook(capacity=8, width=3)
    for index in range(3):
        book.record("A", vector(index), index * BAR)
    assert book.record("A", vector(7), 10 * BAR) is Recorded.RESET
    assert book.get("A").length == 1
    assert book.record("A", vector(8), 11 * BAR) is Recorded.APPENDED
    assert book.record("A", vector(1), 2 * BAR) is Recorded.RESET
    assert book.get("A").window(8)[0][:, 0].tolist() == [1]
    assert "B" not in book


def test_warm_keeps_the_last_capacity_entries_and_checks_its_input() -> None:
    book = HistoryBook(capacity=3, width=3)
    vectors = np.stack([vector(i) for i in range(5)])
    actions = [Action.SELL, Action.HOLD, Action.BUY, Action.BUY, Action.SELL]
    assert book.warm("A", vectors, actions, [i * BAR for i in range(5)]) == 3
    stored, indices = book.get("A").window(3)
    assert stored[:, 0].tolist() == [2, 3, 4] and indices.tolist() == [2, 2, 0]
    assert book.record("A", vector(5), 5 * BAR) is Recorded.APPENDED
    assert book.record("A", vector(7), 7 * BAR) is Recorded.RESET  # the interval was kept
    with pytest.raises(DataError, match=r"shape \(N, 3\)"):
        book.warm("A", np.zeros((2, 4)), [Action.HOLD] * 2)
    with pytest.raises(DataError, match="2 vectors but 1 actions"):
        book.warm("A", np.zeros((2, 3)), [Action.HOLD])
    with pytest.raises(DataError, match="NaN"):
        book.warm("A", np.full((1, 3), np.nan), [Action.HOLD])
    with pytest.raises(DataError, match="increase"):
        book.warm("A", np.zeros((2, 3)), [Action.HOLD] * 2, [BAR, BAR])
    with pytest.raises(DataError, match="bad action"):
        book.warm("A", np.zeros((1, 3)), ["JUMP"])  # type: ignore[list-item]
    assert book.get("A").window(3)[0][:, 0].tolist() == [7]  # refused input changed nothing


def test_warm_without_times_skips_the_gap_check_on_the_next_bar() -> None:
    book = HistoryBook(capacity=4, width=3)
    book.warm("A", np.zeros((2, 3)), [Action.HOLD, Action.BUY])
    assert book.record("A", vector(1), 123 * BAR) is Recorded.APPENDED
    assert book.get("A").length == 3
