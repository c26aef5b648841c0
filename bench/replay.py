"""Time a whole replay of a recorded feed: features, ensemble, risk, fills and the ledger.

    .venv/bin/python bench/replay.py ../shared/data/eth_usdt_5m.csv [--profile low-latency]

Prints one JSON line: bars, seconds (assemble → ledger digest), bars_per_s, the seconds of
each phase, the process's wall time from interpreter start (imports included) and CPU time
(and its children's: the ledger writer process), the machine's load, and the run's counts.
Uses a fresh SQLite ledger in a temporary folder and no Redis unless --redis-url.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402  # the clock above must start before any import
import asyncio  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _process_age_s() -> float:
    """Return seconds since this process started (interpreter start-up included)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - PROCESS_START


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feed", help="bar CSV, recording, or SYMBOL=PATH list")
    parser.add_argument("--profile", default=None, help="ensemble profile (default: config's)")
    parser.add_argument("--config", type=Path, default=None, help="TOML over the defaults")
    parser.add_argument("--redis-url", default="", help="publish on this Redis (default: off)")
    parser.add_argument("--speed", default="max", help="'max' (batch path) or events per second")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")
    parser.add_argument(
        "--test-checkpoints",
        action="store_true",
        help="use the tests' momentum MLP + flat CQL checkpoints (when none are shipped)",
    )
    args = parser.parse_args()
    imported = time.perf_counter()

    from trader.cli.replay_command import parse_speed
    from trader.logging_setup import configure_logging
    from trader.replay.session import replay, replay_settings

    configure_logging(json=True, level=args.log_level)

    with tempfile.TemporaryDirectory(prefix="bench-replay-") as folder:
        extra: dict = {}
        if args.test_checkpoints:
            from tests.support.checkpoints import low_latency_profile, write_low_latency_checkpoints

            paths = write_low_latency_checkpoints(Path(folder) / "checkpoints")
            extra = {"ensemble": {"profiles": {"low-latency": low_latency_profile(paths)}}}
        settings = replay_settings(
            args.config,
            args.feed,
            profile=args.profile,
            db=f"sqlite:///{folder}/ledger.db",
            redis_url=args.redis_url,
            extra=extra,
        )
        started = time.perf_counter()
        result = asyncio.run(replay(settings, speed=parse_speed(args.speed), handle_signals=False))
        finished = time.perf_counter()
    figures = {
        "bars": result.totals.events,
        "seconds": round(result.seconds, 3),
        "bars_per_s": round(result.totals.events / result.seconds, 1) if result.seconds else None,
        "profile": settings.run.profile,
        "path": result.path,
        "batched_inference": result.batched_inference,
        "writer_process": result.writer_process,
        "signals": result.totals.signals,
        "orders": result.totals.orders,
        "fills": result.totals.fills,
        "digest": result.digest,
        "phases_seconds": result.timings,
        "replay_and_digest_seconds": round(finished - started, 3),
        "imports_seconds": round(imported - PROCESS_START, 3),
        "process_wall_seconds": round(_process_age_s(), 3),
        "process_cpu_seconds": round(sum(os.times()[:2]), 3),
        "children_cpu_seconds": round(sum(os.times()[2:4]), 3),  # the ledger writer process
        "load_average_1m": os.getloadavg()[0],
        "main_thread_cpu_seconds": round(time.thread_time(), 3),
    }
    import orjson

    sys.stdout.write(orjson.dumps(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
