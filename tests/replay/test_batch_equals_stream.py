"""The fast batch replay leaves exactly the streaming replay's ledger: same digest, same signals."""

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.replay.support import (
    eth_csv,
    rows,
    run,
    settings_for,
    synthetic_bars,
    write_bars_csv,
)
from trader.domain import Bar

STREAM = 1e9  # paced "as fast as it goes" through the streaming Runner


def signal_rows(db: Path) -> list[tuple]:
    """Return every signal with its member outputs, without the wall-clock latencies (which
    are in `member_latencies_ms`, not in `members`)."""
    result = []
    for row in rows(
        db,
        "SELECT signal_id, event_close_ms, bar_open_time_ms, decided_at_ms, action, confidence,"
        " p_sell, p_hold, p_buy, abstained, note, members FROM signals ORDER BY signal_id",
    ):
        result.append((*row[:-1], json.loads(row[-1])))
    return result


def both_paths(folder: Path, feed: Path, **overrides: object) -> tuple[object, object]:
    batch = run(settings_for(folder, feed, "batch.db", **overrides))
    stream = run(settings_for(folder, feed, "stream.db", **overrides), speed=STREAM)
    assert batch.path == "batch" and stream.path == "stream"
    assert batch.events == stream.events
    assert signal_rows(folder / "batch.db") == signal_rows(folder / "stream.db")
    return batch, stream


@pytest.mark.slow
def test_two_thousand_eth_bars_give_the_same_ledger(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 2000)
    batch, stream = both_paths(tmp_path, feed)
    assert batch.batched_inference
    assert batch.digest == stream.digest
    assert batch.totals.signals == 2000 - 50 and batch.totals.fills > 50


def injected_bars() -> list[Bar]:
    bars = synthetic_bars(420)
    bars[120] = dataclasses.replace(bars[120], close=float("nan"))
    bars[160] = dataclasses.replace(bars[160], high=bars[160].low * 0.99)
    bars[200] = dataclasses.replace(bars[200], open=0.0)
    bars[350] = dataclasses.replace(bars[350], volume=-1.0)
    bars[330] = dataclasses.replace(bars[330], open_time_ms=bars[330].open_time_ms + 60_000)
    conflicting = dataclasses.replace(bars[300], close=bars[300].close * 1.001)
    kept = bars[:240] + bars[245:]  # a gap of five bars
    position = kept.index(bars[300])
    return [*kept[: position + 1], conflicting, *kept[position + 1 :], bars[280]]


def test_bad_bars_and_gaps_give_the_same_ledger(tmp_path: Path) -> None:
    feed = write_bars_csv(tmp_path / "eth_usdt_5m.csv", injected_bars())
    batch, stream = both_paths(tmp_path, feed)
    assert batch.digest == stream.digest
    codes = Counter(
        code for (code,) in rows(tmp_path / "batch.db", "SELECT code FROM bar_rejections")
    )
    assert codes == {
        "NON_FINITE_PRICE": 1, "HIGH_BELOW_LOW": 1, "NON_POSITIVE_PRICE": 1, "NEGATIVE_VOLUME": 1,
        "MISALIGNED_BAR": 1, "CONFLICTING_BAR": 1, "DUPLICATE_BAR": 1,
        "GAP": 6,  # the five missing bars, and the bar after each rejected bad value
    }  # fmt: skip
    assert len(rows(tmp_path / "batch.db", "SELECT * FROM bars")) == 420 - 5 - 5


def test_two_symbols_give_the_same_ledger(tmp_path: Path) -> None:
    eth = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(260))
    btc = write_bars_csv(tmp_path / "btc_usdt_5m.csv", synthetic_bars(260, symbol_index=1)[30:])
    feed = Path(f"{eth},{btc}")
    batch, stream = both_paths(tmp_path, feed)
    assert batch.digest == stream.digest
    assert rows(tmp_path / "batch.db", "SELECT count(DISTINCT symbol) FROM signals") == [(2,)]


def test_members_with_a_latency_budget_are_answered_event_by_event(tmp_path: Path) -> None:
    # A budget makes the decision depend on each call's latency, so the chain is not decided
    # ahead; the members' outputs still are (a generous budget is never missed here).
    feed = write_bars_csv(tmp_path / "eth_usdt_5m.csv", synthetic_bars(200))
    paths = settings_for(tmp_path, feed).ensemble.profiles["low-latency"].members
    budgeted = [member.model_dump() | {"latency_budget_ms": 60_000.0} for member in paths]
    batch, stream = both_paths(
        tmp_path, feed, ensemble={"profiles": {"low-latency": {"members": budgeted}}}
    )
    assert batch.batched_inference
    assert batch.digest == stream.digest


def test_the_shipped_low_latency_checkpoints_give_the_same_ledger(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "checkpoints"
    if (
        not (shipped / "cql.safetensors").is_file()
        or not (shipped / "baseline_mlp.safetensors").is_file()
    ):
        pytest.skip(f"no shipped low-latency checkpoints in {shipped}")
    feed = eth_csv(tmp_path, 600)
    members = [
        {"name": "cql", "checkpoint": str(shipped / "cql.safetensors"), "weight": 0.6},
        {
            "name": "baseline_mlp",
            "checkpoint": str(shipped / "baseline_mlp.safetensors"),
            "weight": 0.4,
        },
    ]
    batch, stream = both_paths(
        tmp_path, feed, ensemble={"profiles": {"low-latency": {"members": members}}}
    )
    assert batch.digest == stream.digest
