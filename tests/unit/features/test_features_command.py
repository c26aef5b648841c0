"""`trader features`: the written CSV, both modes, the anchor, and its error exits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import typer
from feature_builders import REFERENCE_CSV, START_MS, eth_series, random_bars, require
from typer.testing import CliRunner

from trader.cli.features_command import features
from trader.features.bars_csv import BarSeries
from trader.features.series import compute_series

app = typer.Typer()
app.command("features")(features)
# A second command keeps typer from collapsing the app into its single command.
app.command("noop")(lambda: None)

REFERENCE_BARS = 3_050


def write_bars(path: Path, series: BarSeries) -> Path:
    lines = ["datetime,timestamp,open,high,low,close,volume"]
    for bar in series:
        lines.append(
            f"x,{bar.open_time_ms},{bar.open!r},{bar.high!r},{bar.low!r},{bar.close!r},{bar.volume!r}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def read_output(path: Path) -> tuple[list[str], np.ndarray]:
    header = path.read_text().splitlines()[0].split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


@pytest.fixture(scope="module")
def eth_head_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bars(
        tmp_path_factory.mktemp("bars") / "eth.csv", eth_series().head(REFERENCE_BARS)
    )


def test_batch_output_matches_the_reference(eth_head_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(app, ["features", str(eth_head_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    header, rows = read_output(out)
    assert header == ["timestamp", *(f"f{i}" for i in range(60))]
    reference = np.loadtxt(require(REFERENCE_CSV), delimiter=",", skiprows=1)
    assert np.array_equal(rows[:, 0], reference[:, 0])
    np.testing.assert_allclose(rows[:, 1:], reference[:, 1:61], rtol=1e-5, atol=1e-6)


def test_written_values_round_trip_the_float32_vectors(tmp_path: Path) -> None:
    series = BarSeries.from_bars(random_bars(120))
    csv = write_bars(tmp_path / "bars.csv", series)
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(
        app, ["features", str(csv), "--out", str(out), "--anchor", "2025-01-01T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    _, rows = read_output(out)
    table = compute_series(series, 1_735_689_600_000)
    assert rows[:, 1:].astype(np.float32).tobytes() == table.vectors.tobytes()


def test_streaming_mode_writes_the_same_file_and_stdout_output(tmp_path: Path) -> None:
    bars = random_bars(160)
    bars[70] = dataclasses.replace(bars[70], low=-1.0)
    csv = write_bars(tmp_path / "bars.csv", BarSeries.from_bars(bars))
    batch_out, stream_out = tmp_path / "batch.csv", tmp_path / "stream.csv"
    runner = CliRunner()
    assert runner.invoke(app, ["features", str(csv), "--out", str(batch_out)]).exit_code == 0
    result = runner.invoke(app, ["features", str(csv), "--streaming", "--out", str(stream_out)])
    assert result.exit_code == 0, result.output
    assert stream_out.read_text() == batch_out.read_text()
    assert len(batch_out.read_text().splitlines()) == 1 + 20 + (160 - 71 - 50)
    assert "NON_POSITIVE_PRICE" in result.stderr
    to_stdout = runner.invoke(app, ["features", str(csv), "--out", "-"])
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout == batch_out.read_text()


def test_default_anchor_is_the_first_bar(tmp_path: Path) -> None:
    series = BarSeries.from_bars(random_bars(60))
    csv = write_bars(tmp_path / "bars.csv", series)
    out = tmp_path / "features.csv"
    assert CliRunner().invoke(app, ["features", str(csv), "--out", str(out)]).exit_code == 0
    _, rows = read_output(out)
    expected = compute_series(series, START_MS).vectors
    assert rows[:, 1:].astype(np.float32).tobytes() == expected.tobytes()


def test_unknown_set_exits_2_with_a_clear_error(tmp_path: Path) -> None:
    csv = write_bars(tmp_path / "bars.csv", BarSeries.from_bars(random_bars(60)))
    out = tmp_path / "features.csv"
    result = CliRunner().invoke(app, ["features", str(csv), "--set", "nope", "--out", str(out)])
    assert result.exit_code == 2
    assert "unknown feature set 'nope'" in result.stderr
    assert not out.exists()


def test_bad_anchor_exits_2_and_bad_file_exits_1(tmp_path: Path) -> None:
    csv = write_bars(tmp_path / "bars.csv", BarSeries.from_bars(random_bars(60)))
    out = tmp_path / "features.csv"
    runner = CliRunner()
    bad_anchor = runner.invoke(app, ["features", str(csv), "--anchor", "soon", "--out", str(out)])
    assert bad_anchor.exit_code == 2
    assert "not an ISO 8601 time" in bad_anchor.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("timestamp,open,high,low,close\n1,2,3,1,2\n")
    missing = runner.invoke(app, ["features", str(broken), "--out", str(out)])
    assert missing.exit_code == 1
    assert "volume" in missing.stderr
