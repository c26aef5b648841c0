"""CQL: one Q-network's count, min(Q1, Q2) from the user's layout, target networks checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trader.errors import CheckpointError
from trader.models import CQLPolicy, CQLQNetwork, count_parameters, load

from .builders import q_reference, save_cql


def test_parameter_count_is_per_q_network() -> None:
    assert count_parameters(CQLQNetwork()) == (116_995, 116_995)
    assert count_parameters(CQLPolicy()).total == 2 * 116_995


def test_legacy_file_gives_min_of_the_two_q_networks(tmp_path: Path) -> None:
    payload = save_cql(tmp_path / "cql_best.pt")
    loaded = load(tmp_path / "cql_best.pt")
    x = torch.randn(6, 65, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        q = loaded.module(x)

    expected = torch.minimum(
        q_reference(payload["q_network1"], x), q_reference(payload["q_network2"], x)
    )
    assert loaded.kind == "cql"
    assert q.shape == (6, 3)
    torch.testing.assert_close(q.double(), expected, rtol=1e-5, atol=1e-5)
    # The minimum really mixes both networks on this input (not one network everywhere).
    q1 = q_reference(payload["q_network1"], x)
    assert 0 < int((q1 == expected).sum()) < q1.numel()
    assert loaded.source_config["alpha"] == 2.0


def test_file_without_target_networks_is_accepted(tmp_path: Path) -> None:
    save_cql(tmp_path / "cql.pt", with_targets=False)

    assert load(tmp_path / "cql.pt").kind == "cql"


def test_damaged_target_network_is_refused(tmp_path: Path) -> None:
    payload = save_cql(tmp_path / "cql.pt")
    payload["q_target2"]["network.4.weight"] = torch.zeros(256, 255)
    torch.save(payload, tmp_path / "cql.pt")

    with pytest.raises(
        CheckpointError, match=r"q_target2.*network\.4\.weight: expected 256x256, got 256x255"
    ):
        load(tmp_path / "cql.pt")
