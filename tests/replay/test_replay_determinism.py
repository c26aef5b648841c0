"""Replays are deterministic: the same feed and config give the same ledger digest, however run."""

import re
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.replay.support import eth_csv, replay_extra, rows, run, settings_for
from trader.cli.backtest_command import backtest
from trader.cli.replay_command import replay

DIGEST_LINE = re.compile(r"^ledger-digest [0-9a-f]{64}$")


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("replay")(replay)
    app.command("backtest")(backtest)
    return app


def config_file(folder: Path) -> Path:
    """Write the replay test settings as a TOML file for the command line."""
    extra = replay_extra(folder)
    members = extra["ensemble"]["profiles"]["low-latency"]["members"]
    lines = ["[bus]", 'redis_url = ""', "[risk]", "min_confidence = 0.0"]
    for member in members:
        lines += [
            "[[ensemble.profiles.low-latency.members]]",
            f'name = "{member["name"]}"',
            f'checkpoint = "{member["checkpoint"]}"',
            f"weight = {member['weight']}",
        ]
    path = folder / "replay.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_same_feed_twice_into_fresh_ledgers_gives_the_same_digest(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 600)
    first = run(settings_for(tmp_path, feed, "first.db"))
    second = run(settings_for(tmp_path, feed, "second.db"))
    assert first.digest == second.digest and first.run_id == second.run_id
    assert first.events == 600 and first.totals.orders > 0
    # The run is named by the file's content: a copy elsewhere is the same run.
    (tmp_path / "copy").mkdir()
    copied = shutil.copy(feed, tmp_path / "copy" / feed.name)
    assert run(settings_for(tmp_path, copied, "third.db")).digest == first.digest


def test_a_second_replay_into_the_same_ledger_resumes_and_changes_nothing(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 300)
    first = run(settings_for(tmp_path, feed))
    again = run(settings_for(tmp_path, feed))
    assert again.resumed and again.events == 0
    assert again.digest == first.digest
    assert rows(tmp_path / "ledger.db", "SELECT count(*) FROM events") == [(300,)]


def test_an_interrupted_replay_resumed_by_the_batch_path_equals_one_run(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 400)
    whole = run(settings_for(tmp_path, feed, "whole.db", run={"run_id": "replay-test"}))
    cut = settings_for(
        tmp_path, feed, "cut.db", run={"run_id": "replay-test", "stop_after_bars": 170}
    )
    first_part = run(cut, speed=1e9)  # the streaming path, stopped after 170 events
    assert first_part.events == 170
    rest = run(settings_for(tmp_path, feed, "cut.db", run={"run_id": "replay-test"}))
    assert rest.resumed and rest.events == 230
    assert rest.digest == whole.digest


def test_the_command_prints_one_digest_line(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 200)
    config = config_file(tmp_path)
    runner = CliRunner()
    outputs = []
    for name in ("a.db", "b.db"):
        result = runner.invoke(
            cli(),
            ["replay", str(feed), "--config", str(config), "--db", f"sqlite:///{tmp_path / name}"],
        )
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and DIGEST_LINE.match(lines[0])
        outputs.append(lines[0])
    assert outputs[0] == outputs[1]
    expected = run(settings_for(tmp_path, feed, "c.db")).digest
    assert outputs[0] == f"ledger-digest {expected}"


def test_the_command_paces_with_speed_and_gives_the_same_digest(tmp_path: Path) -> None:
    feed = eth_csv(tmp_path, 80)
    config = config_file(tmp_path)
    runner = CliRunner()
    digests = []
    for name, speed in (("a.db", "max"), ("b.db", "400")):
        result = runner.invoke(
            cli(),
            [
                "replay", str(feed), "--config", str(config), "--speed", speed,
                "--db", f"sqlite:///{tmp_path / name}",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        digests.append(result.stdout.strip())
    assert digests[0] == digests[1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--speed", "fast"], "--speed must be 'max' or a number"),
        (["--speed", "-3"], "--speed must be positive"),
        (["--profile", "nope"], "unknown ensemble profile"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path: Path, arguments: list[str], message: str) -> None:
    feed = eth_csv(tmp_path, 60)
    config = config_file(tmp_path)
    result = CliRunner().invoke(
        cli(),
        [
            "replay",
            str(feed),
            "--config",
            str(config),
            "--db",
            f"sqlite:///{tmp_path / 'x.db'}",
            *arguments,
        ],
    )
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert result.stdout == ""


def test_a_missing_feed_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["replay", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "feed file not found" in result.stderr
