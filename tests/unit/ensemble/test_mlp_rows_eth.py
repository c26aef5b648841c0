"""The shipped MLPs on the ETH file: a live decision's outputs equal the replay's batch outputs.

A live decision infers one symbol (one row); the fast replay infers
8,192 rows a call. Every row of the file must come out bit for bit the same both ways (else the
two paths' ledgers differ). The batch is also run in reverse order, so every row changes its
place in its block; live calls are sampled (all 51,802 rows were checked once: 0 differ).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.unit.features.feature_builders import ETH_CSV, require
from trader.ensemble.members import MemberBatch
from trader.ensemble.mlp_member import MlpMember
from trader.features.bars_csv import load_bars_csv
from trader.features.series import compute_series
from trader.models import load_arrays

REPO = Path(__file__).resolve().parents[3]
BATCH_ROWS = 8192


@pytest.fixture(scope="module")
def eth_vectors() -> np.ndarray:
    manifest = REPO / "checkpoints" / "cql.json"
    if not manifest.exists():
        pytest.skip("no shipped checkpoints")
    anchor_ms = json.loads(manifest.read_text())["anchor_ms"]
    table = compute_series(load_bars_csv(require(ETH_CSV), "ETH/USDT"), anchor_ms)
    return np.asarray(table.vectors, dtype=np.float32)


@pytest.mark.parametrize("kind", ["baseline_mlp", "cql"])
def test_live_and_batch_outputs_are_equal_on_the_eth_file(
    kind: str, eth_vectors: np.ndarray
) -> None:
    member = MlpMember(kind, load_arrays(REPO / "checkpoints" / f"{kind}.safetensors"), 1.0)
    rows = len(eth_vectors)
    zeros = np.zeros((rows, 5), np.float32)

    def batched(order: np.ndarray) -> np.ndarray:
        result = np.empty((rows, 3))
        for start in range(0, rows, BATCH_ROWS):
            part = order[start : start + BATCH_ROWS]
            batch = MemberBatch([f"r{i}" for i in part], eth_vectors[part], zeros[part])
            result[part] = member.predict(batch)
        return result

    forward = batched(np.arange(rows))
    np.testing.assert_array_equal(batched(np.arange(rows)[::-1]), forward)
    for row in range(0, rows, 97):
        one = MemberBatch(["ETH/USDT"], eth_vectors[row : row + 1], zeros[row : row + 1])
        np.testing.assert_array_equal(member.predict(one)[0], forward[row])
