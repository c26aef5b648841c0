"""`kill -9` at random moments of `trader replay FEED --db URL`, then again: same ledger digest.

The batch replay writes its ledger in transactions of 4096 bar events; the feed here has
REPLAY_BARS of a seeded synthetic market, so kills land before the first commit, between the
commits (a resume must then restore the run mid-way: orders resting, partial fills, the risk
state) and during the last write. Half the kill moments are random fractions of an
uninterrupted replay's duration, half come at a random moment shortly after the first commit;
every other kill is of a replay whose ledger rows a writer process commits (killed with it).
"""

import os
import random
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.support.kill_harness import (
    EventCounter,
    Zygote,
    alive,
    kill_test_config,
    ledger_facts,
)

COMMIT_EVENTS = 4096  # trader.replay.batch.WRITE_EVENTS
REPLAY_BARS = 4600  # two ledger transactions: 4096 events, then 504
REPLAY_KILLS = 10
SEED = 20260106


@pytest.fixture(scope="module")
def replay_feed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Write a synthetic ETH/USDT bar CSV; return the replay feed spec naming its symbol."""
    from adapters.simulated.config import DEFAULT_SYMBOLS, SyntheticMarketConfig
    from adapters.simulated.market import SyntheticMarket

    market = SyntheticMarket(SyntheticMarketConfig(seed=11, symbols=DEFAULT_SYMBOLS[:1]))
    path = tmp_path_factory.mktemp("feed") / "ethusdt.csv"
    lines = ["timestamp,open,high,low,close,volume"]
    for index in range(REPLAY_BARS):
        (bar,) = market.bars_at(index)
        lines.append(
            f"{bar.open_time_ms},{bar.open!r},{bar.high!r},{bar.low!r},{bar.close!r},{bar.volume!r}"
        )
    path.write_text("\n".join(lines) + "\n")
    return f"ETH/USDT={path}"


def write_replay_config(
    directory: Path, checkpoints: dict[str, Path], writer: str = "inline"
) -> Path:
    """Write the replay's TOML; `writer` "process" commits from a writer process (the feed is
    below its default threshold), "inline" from the replay itself."""
    directory.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = kill_test_config(checkpoints, "WARNING")
    table["ledger"] = {"replay_writer_process_min_events": 1 if writer == "process" else 0}
    path = directory / "replay.toml"
    path.write_text(tomli_w.dumps(table))
    return path


@dataclass(frozen=True)
class ReplayReference:
    digest: str
    seconds: float


@pytest.fixture(scope="module")
def replay_reference(
    zygote: Zygote,
    checkpoints: dict[str, Path],
    replay_feed: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> ReplayReference:
    directory = tmp_path_factory.mktemp("replay_uninterrupted")
    config = write_replay_config(directory, checkpoints)
    log = directory / "replay.log"
    started = time.monotonic()
    pid = zygote.start_replay(config, replay_feed, f"sqlite:///{directory / 'ledger.db'}", log)
    assert zygote.wait(pid) == 0, log.read_text()[-3000:]
    seconds = time.monotonic() - started
    with sqlite3.connect(directory / "ledger.db") as connection:
        assert connection.execute("SELECT count(*) FROM events").fetchone()[0] == REPLAY_BARS
        assert connection.execute("SELECT count(*) FROM fills").fetchone()[0] > 20
    digest, _ids = ledger_facts(directory / "ledger.db")
    assert f"ledger-digest {digest}" in log.read_text()
    return ReplayReference(digest, seconds)


def replay_kill_moments() -> list[tuple[str, float, str]]:
    """Return seeded kill moments: a fraction of a replay's duration, or ms after a commit;
    every other one in a replay whose ledger is written by a writer process."""
    rng = random.Random(SEED)
    moments = [("fraction", round(rng.uniform(0.02, 0.98), 3)) for _ in range(REPLAY_KILLS // 2)]
    moments += [("after_commit", round(rng.uniform(0.0, 0.2), 3)) for _ in range(REPLAY_KILLS // 2)]
    writers = ("inline", "process")
    return [(kind, moment, writers[index % 2]) for index, (kind, moment) in enumerate(moments)]


@pytest.mark.parametrize(("kind", "moment", "writer"), replay_kill_moments())
def test_a_killed_replay_resumes_to_the_uninterrupted_ledger(
    kind: str,
    moment: float,
    writer: str,
    zygote: Zygote,
    replay_reference: ReplayReference,
    replay_feed: str,
    checkpoints: dict[str, Path],
    tmp_path: Path,
) -> None:
    config = write_replay_config(tmp_path, checkpoints, writer)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    pid = zygote.start_replay(config, replay_feed, url, tmp_path / "killed.log")
    counter = EventCounter(tmp_path / "ledger.db")
    if kind == "fraction":
        delay_s = moment * replay_reference.seconds
        time.sleep(delay_s)
    else:
        delay_s = moment  # after the first transaction, well before the replay's end
        while counter() < COMMIT_EVENTS and alive(pid):
            time.sleep(0.005)
        time.sleep(moment * replay_reference.seconds * 0.1)
    counter.close()
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    code = zygote.wait(pid)
    # The exit status says what happened: a replay already past its last statement when the
    # signal came (still running its exit) ends 0, as if the kill had come after it.
    killed = code == -signal.SIGKILL
    assert killed or code == 0, (tmp_path / "killed.log").read_text()[-3000:]
    assert killed or kind == "fraction", "the replay ended before the kill"
    at_kill = EventCounter(tmp_path / "ledger.db")
    written = at_kill()
    at_kill.close()
    pid = zygote.start_replay(config, replay_feed, url, tmp_path / "resumed.log")
    assert zygote.wait(pid) == 0, (tmp_path / "resumed.log").read_text()[-3000:]
    digest, order_ids = ledger_facts(tmp_path / "ledger.db")
    assert len(order_ids) == len(set(order_ids))
    assert digest == replay_reference.digest, f"killed at {delay_s:.2f}s, {written} events written"
