"""Benchmark `himari60` on the recorded ETH file: CSV load, batch and streaming; one JSON line.

Usage: python bench/features.py [--csv PATH] [--stream-bars N] (N = 0 streams the whole file).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

# isort: off
import trader  # noqa: F401  # before numpy: pins OpenBLAS's kernels, as in the daemon
import numpy as np
# isort: on

from trader.features.bars_csv import load_bars_csv
from trader.features.himari60 import compute_batch
from trader.features.series import compute_series
from trader.features.stream import FeatureStream

DEFAULT_CSV = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "eth_usdt_5m.csv"


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """Return the fastest of `repeats` timed calls of `action`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--stream-bars", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    load_s = best_of(args.repeats, lambda: load_bars_csv(args.csv))
    series = load_bars_csv(args.csv)
    anchor = int(series.open_time_ms[0])
    columns = (series.open, series.high, series.low, series.close, series.volume)

    batch_s = best_of(args.repeats, lambda: compute_batch(*columns, series.open_time_ms, anchor))
    series_s = best_of(args.repeats, lambda: compute_series(series, anchor))
    gated_s = best_of(1, lambda: compute_series(series, anchor, force_gate=True))

    stream_bars = len(series) if args.stream_bars <= 0 else min(args.stream_bars, len(series))
    bars = series.head(stream_bars).to_bars()
    stream = FeatureStream(series.symbol, series.interval_s, anchor)
    vectors = 0
    start = time.perf_counter()
    for bar in bars:
        if stream.push(bar).vector is not None:
            vectors += 1
    stream_s = time.perf_counter() - start

    print(
        json.dumps(
            {
                "bench": "features.himari60",
                "bars": len(series),
                "rows": len(series) - 50,
                "load_csv_s": round(load_s, 4),
                "batch_s": round(batch_s, 4),
                "compute_series_s": round(series_s, 4),
                "compute_series_gated_s": round(gated_s, 4),
                "stream_bars": stream_bars,
                "stream_vectors": vectors,
                "stream_us_per_bar": round(stream_s / max(stream_bars, 1) * 1e6, 1),
                "numpy": np.__version__,
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
