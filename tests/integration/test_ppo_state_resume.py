"""PPO-LSTM's recurrent state survives a restart: a run stopped half-way and resumed leaves the
ledger (signals with every member's probabilities included) of the run that never stopped.

The profile pairs the shipped PPO-LSTM with the shipped CQL. A PPO member that restarted from
the zero state would give other probabilities on the bars after the restart, so the digests
would differ; the ledger keeps the state per symbol with every committed event.
"""

import asyncio
import json
from pathlib import Path

import pytest

from trader.ledger.store import LedgerStore
from trader.replay.session import replay, replay_settings

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "eth_usdt_5m.csv"
BARS = 160
STOP_AFTER = 90
PROFILE = {
    "fallback": "",
    "members": [
        {"name": "ppo_lstm", "checkpoint": str(REPO / "checkpoints/ppo_lstm.safetensors"),
         "weight": 0.5},
        {"name": "cql", "checkpoint": str(REPO / "checkpoints/cql.safetensors"), "weight": 0.5},
    ],
}  # fmt: skip


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    if not DATA.is_file():
        pytest.skip(f"recorded data not found at {DATA}")
    lines = DATA.read_text().splitlines()[: BARS + 1]
    path = tmp_path / "eth_usdt_5m.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _replay(feed: Path, db: Path, *, stop_after: int = 0, speed: float | None = None) -> str:
    settings = replay_settings(
        None,
        str(feed),
        profile="ppo-test",
        db=f"sqlite:///{db}",
        redis_url="",
        extra={
            "ensemble": {"profiles": {"ppo-test": PROFILE}},
            "run": {"stop_after_bars": stop_after, "run_id": "ppo-resume"},
        },
    )
    return asyncio.run(replay(settings, speed=speed, handle_signals=False)).digest


def _stored_state(db: Path) -> dict:
    with LedgerStore(f"sqlite:///{db}", create=False) as ledger:
        resume = ledger.load_resume_state("ppo-resume")
    assert resume is not None
    return resume.ensemble_state


@pytest.mark.parametrize("speed", [1e9, None], ids=["stream", "batch-resume"])
def test_resumed_run_keeps_the_recurrent_state(feed: Path, tmp_path: Path, speed) -> None:
    whole = _replay(feed, tmp_path / "whole.db", speed=1e9)

    _replay(feed, tmp_path / "split.db", stop_after=STOP_AFTER, speed=1e9)
    state = _stored_state(tmp_path / "split.db")
    symbols = state["members"]["ppo_lstm"]["symbols"]
    assert list(symbols) == ["ETH/USDT"]
    assert len(symbols["ETH/USDT"]["h"]) == 2 and len(symbols["ETH/USDT"]["h"][0]) == 128
    assert any(value != 0.0 for row in symbols["ETH/USDT"]["h"] for value in row)

    resumed = _replay(feed, tmp_path / "split.db", speed=speed)
    assert resumed == whole


def test_a_corrupt_stored_state_is_refused_with_the_reason(feed: Path, tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    _replay(feed, db, stop_after=STOP_AFTER, speed=1e9)
    import sqlite3

    with sqlite3.connect(db) as connection:
        text = connection.execute("SELECT state_json FROM ensemble_state").fetchone()[0]
        state = json.loads(text)
        state["members"]["ppo_lstm"]["symbols"]["ETH/USDT"]["h"] = [[1.0, 2.0]]
        connection.execute("UPDATE ensemble_state SET state_json = ?", (json.dumps(state),))
    from trader.errors import DataError, TraderError

    with pytest.raises((DataError, TraderError), match="PPO state"):
        _replay(feed, db, speed=1e9)
