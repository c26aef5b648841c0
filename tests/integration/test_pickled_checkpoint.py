"""A checkpoint carrying a pickled object is refused by the daemon without running it.

Each hostile file would create a marker file if it were unpickled; the daemon must fail to
start with a CheckpointError that says why, and the marker must not exist.
"""

import asyncio
import builtins
import pickle
import sqlite3
from pathlib import Path

import pytest
import torch

from tests.support.checkpoints import low_latency_profile, write_low_latency_checkpoints
from tests.support.daemon import daemon_config
from trader.cli.run_command import run_daemon
from trader.errors import CheckpointError
from trader.models import BaselineMLP, BaselineMLPConfig


class CreatesMarker:
    """Unpickling this opens (so creates) the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return builtins.open, (str(self.marker), "w")


def torch_zip_payload(path: Path, marker: Path) -> None:
    state = BaselineMLP(BaselineMLPConfig()).state_dict()
    torch.save({"model_state_dict": state, "extra": CreatesMarker(marker)}, path)


def legacy_pickle_payload(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"model_state_dict": {}, "extra": CreatesMarker(marker)}))


@pytest.mark.parametrize("write", [torch_zip_payload, legacy_pickle_payload])
def test_the_daemon_refuses_a_checkpoint_with_a_pickled_object(write, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    hostile = tmp_path / "baseline_mlp.pt"
    write(hostile, marker)
    paths = write_low_latency_checkpoints(tmp_path / "checkpoints")
    profile = low_latency_profile({**paths, "baseline_mlp": hostile})
    config = daemon_config(tmp_path, bars=60, ensemble={"profiles": {"low-latency": profile}})
    with pytest.raises(CheckpointError, match=r"refused|not allowed|weights_only") as caught:
        asyncio.run(run_daemon(config))
    assert str(hostile) in str(caught.value)
    assert not marker.exists()
    # Nothing ran at all: the ledger holds no run.
    ledger = tmp_path / "ledger.db"
    if ledger.exists():
        with sqlite3.connect(ledger) as connection:
            assert connection.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
