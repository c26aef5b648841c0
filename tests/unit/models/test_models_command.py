"""`trader models check`: reports for good files, refusals with reasons and exit code 1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import typer
from typer.testing import CliRunner

from trader.cli.models_command import describe, models_check
from trader.models import LoadedModel, PPOActorCritic, save_checkpoint

from .builders import save_baseline, save_cgdt, save_cql, save_ppo


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(models_check)
    return app


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_reports_each_user_layout_and_our_format(tmp_path: Path) -> None:
    save_baseline(tmp_path / "baseline_best.pt")
    save_cql(tmp_path / "cql_best.pt")
    save_cgdt(tmp_path / "cgdt_best.pt")
    save_ppo(tmp_path / "ppo_best.pt")
    ours = save_checkpoint(
        tmp_path / "ppo_lstm", "ppo_lstm", PPOActorCritic(), {}, {"anchor_ms": 0}
    )
    files = [
        "baseline_best.pt",
        "cql_best.pt",
        "cgdt_best.pt",
        "ppo_best.pt",
        "ppo_lstm.safetensors",
    ]

    result = CliRunner().invoke(_app(), [str(tmp_path / name) for name in files])

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "kind: baseline_mlp" in out and "18,691 total, 18,691 trainable" in out
    assert "kind: cql" in out and "233,990 total" in out and "2 × 116,995" in out
    assert (
        "kind: cgdt" in out and "4,773,123 total" in out and "critic (training only): 49,153" in out
    )
    assert "kind: ppo_lstm" in out and "289,668 total, 289,668 trainable" in out
    assert out.count("feature set: himari60") == 5
    assert "format: safetensors + manifest" in out
    for name in files:
        assert f"sha256: {_sha(tmp_path / name)}" in out
    assert _sha(ours) in out
    assert "checkpoint.loaded" not in out  # logs go to stderr, the report to stdout


def test_check_refuses_unsafe_and_corrupt_files_and_exits_1(tmp_path: Path) -> None:
    save_baseline(tmp_path / "good.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])

    result = CliRunner().invoke(
        _app(), [str(tmp_path / n) for n in ("good.pt", "module.pt", "cut.pt", "missing.pt")]
    )

    assert result.exit_code == 1
    out = result.stdout
    assert f"{tmp_path / 'good.pt'}: OK" in out
    assert f"{tmp_path / 'module.pt'}: REFUSED" in out and "needs unpickling" in out
    assert f"{tmp_path / 'cut.pt'}: REFUSED" in out and "corrupt or truncated" in out
    assert f"{tmp_path / 'missing.pt'}: REFUSED" in out
    assert "3 of 4 checkpoint(s) refused" in result.stderr


def test_flag_trader_report_counts_the_frozen_base_as_not_trainable(
    flag_loaded: LoadedModel,
) -> None:
    lines = describe(flag_loaded)

    assert "  kind: flag_trader" in lines
    assert "  parameters: 87,955,971 total, 2,938,371 trainable" in lines
    assert "  attention: 12 heads, causal=False, lora rank 16, frozen base stored" in lines
