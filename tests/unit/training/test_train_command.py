"""`trader train`: loadable checkpoints with their manifests, the index, and its error exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from trader.cli.train_command import train
from trader.models import load
from trader.training import TRAINERS, resolve_models

from .builders import random_walk, series_from_closes, write_csv

app = typer.Typer()
app.command("train")(train)
# A second command keeps typer from collapsing the app into its single command.
app.command("noop")(lambda: None)


@pytest.fixture(scope="module")
def bars_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    series = series_from_closes(random_walk(700, seed=4))
    return write_csv(tmp_path_factory.mktemp("bars") / "eth_usdt_5m.csv", series)


@pytest.fixture(scope="module")
def trained(bars_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("checkpoints")
    args = ["train", "--data", str(bars_csv), "--out", str(out), "--quick", "--seed", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_writes_loadable_checkpoints_with_manifests(trained: tuple[Path, str]) -> None:
    out, _ = trained
    for kind in ("baseline_mlp", "cql"):
        loaded = load(out / f"{kind}.safetensors")
        assert loaded.kind == kind
        manifest = json.loads((out / f"{kind}.json").read_text())
        assert manifest["feature_set"] == "himari60"
        assert manifest["anchor_ms"] == 1_751_860_800_000
        assert manifest["normalization"]["zeroed_features"] == [58]
        assert len(manifest["normalization"]["mean"]) == 60
        assert len(manifest["sha256"]) == 64
        training = manifest["training"]
        for key in ("epochs", "duration_s", "seed", "torch_version", "data", "test_metrics"):
            assert key in training, key
        assert training["seed"] == 3
        metrics = training["test_metrics"]
        for key in (
            "accuracy",
            "macro_f1",
            "always_hold_accuracy",
            "class_shares",
            "sharpe",
            "total_return",
            "buy_and_hold_return",
            "trades",
        ):
            assert key in metrics, key
        split = training["data"]["split"]
        assert split["gap_bars"] == 5
        assert split["train"]["last"] < split["val"]["first"] < split["test"]["first"]
        assert training["data"]["first_bar"] == "2025-07-07T08:10:00Z"


def test_index_lists_every_checkpoint(trained: tuple[Path, str]) -> None:
    out, _ = trained
    index = json.loads((out / "manifest.json").read_text())
    assert sorted(entry["kind"] for entry in index["checkpoints"]) == ["baseline_mlp", "cql"]


def test_prints_the_results_table(trained: tuple[Path, str]) -> None:
    _, stdout = trained
    assert "always-HOLD" in stdout
    lines = stdout.splitlines()
    assert any(line.startswith("baseline_mlp") for line in lines)
    assert any(line.startswith("cql") for line in lines)
    assert any(line.startswith("test ") for line in lines)


def test_unknown_model_exits_2(bars_csv: Path, tmp_path: Path) -> None:
    args = ["train", "--data", str(bars_csv), "--models", "nosuch", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "nosuch" in result.stderr
    assert not any(tmp_path.iterdir())


def test_all_means_every_registered_trainer() -> None:
    assert resolve_models("all") == list(TRAINERS)
    assert resolve_models("cql, baseline_mlp,cql") == ["cql", "baseline_mlp"]


def test_unreadable_data_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bars.csv"
    bad.write_text("open,high\n1,2\n")
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "lacks required column" in result.stderr
