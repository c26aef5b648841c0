"""The daemon with its Prometheus endpoint on: a scrape mid-run shows what the ledger holds."""

import asyncio
import socket
import sqlite3
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.daemon import daemon_config
from trader.cli.run_command import run_daemon

BARS = 110


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a scrape keyed by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(scraped: dict, name: str) -> float:
    return sum(value for (sample, _labels), value in scraped.items() if sample == name)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def run_and_scrape(config, url: str) -> tuple[object, str]:
    daemon = asyncio.create_task(run_daemon(config))
    text = ""
    while not daemon.done():
        try:
            text = await asyncio.to_thread(scrape, url)
        except OSError:
            text = ""  # not listening yet
        scraped = samples(text) if text else {}
        if total(scraped, "trader_fills_total") >= 3:
            break
        await asyncio.sleep(0.05)
    return await daemon, text


def test_a_scrape_mid_run_shows_orders_fills_equity_and_latency(tmp_path: Path) -> None:
    port = free_port()
    config = daemon_config(
        tmp_path,
        bars=BARS,
        market={"speed": 30_000, "warmup_bars": 60},  # 10 ms a bar after the warm-up
        metrics={"enabled": True, "port": port},
    )
    totals, text = asyncio.run(run_and_scrape(config, f"http://127.0.0.1:{port}/metrics"))
    assert text, "the endpoint never answered during the run"
    scraped = samples(text)
    assert total(scraped, "trader_orders_total") >= 3
    assert total(scraped, "trader_fills_total") >= 3
    assert {labels for (name, labels) in scraped if name == "trader_fills_total"} <= {
        (("side", side), ("symbol", symbol))
        for side in ("BUY", "SELL")
        for symbol in ("ETH/USDT", "BTC/USDT")
    }
    assert scraped[("trader_equity", ())] > 0
    assert scraped[("trader_peak_equity", ())] >= scraped[("trader_equity", ())]
    assert scraped[("trader_risk_state", (("trader_risk_state", "ACTIVE"),))] == 1
    members = {
        dict(labels)["member"]
        for (name, labels) in scraped
        if name == "trader_inference_latency_seconds_count"
    }
    assert members == {"cql", "baseline_mlp"}
    ages = [v for (name, _), v in scraped.items() if name == "trader_market_data_age_seconds"]
    assert len(ages) == 2 and all(age >= 0 for age in ages)
    assert scraped[("trader_heartbeat_timestamp_seconds", ())] > 0
    # After the run the endpoint is closed again.
    assert totals.events == BARS  # type: ignore[attr-defined]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    # The counters agree with the ledger at the end of the scrape's bar.
    connection = sqlite3.connect(tmp_path / "ledger.db")
    orders = connection.execute("SELECT count(*) FROM orders").fetchone()[0]
    connection.close()
    assert total(scraped, "trader_orders_total") <= orders


def test_metrics_stay_off_by_default(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, bars=60)
    assert config.metrics.enabled is False
    port = config.metrics.port
    totals = asyncio.run(run_daemon(config))
    assert totals.events == 60
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
