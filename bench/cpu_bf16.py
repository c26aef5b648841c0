"""Compare the window members (FLAG-TRADER, CGDT) in bfloat16 and float32 on the CPU.

    .venv/bin/python bench/cpu_bf16.py ../shared/data/eth_usdt_5m.csv [--windows 300]
        [--threads 2] [--checkpoints checkpoints]

Loads each shipped window member twice (`cpu_dtype` float32 and bfloat16), runs both on the
same full windows of real bars (the last `--windows` clean windows of the file, in batches of
32), and prints one JSON object per member: how often the argmax agrees, the largest and mean
absolute probability difference, and the p50 ms of one single-symbol call in each dtype.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# isort: off
import trader  # noqa: F401  # before numpy: pins OpenBLAS's kernels, as in the daemon
import numpy as np

# isort: on
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trader.ensemble import Ensemble, EnsembleConfig  # noqa: E402
from trader.ensemble.members import MemberBatch  # noqa: E402
from trader.features.bars_csv import load_bars_csv  # noqa: E402
from trader.features.series import compute_series  # noqa: E402
from trader.logging_setup import configure_logging  # noqa: E402
from trader.models.kinds import LEGACY_ANCHOR_MS  # noqa: E402

MEMBERS = ("flag_trader", "cgdt")


def load_member(kind: str, checkpoints: Path, dtype: str, threads: int) -> object:
    """Return the shipped member of `kind` built for the CPU in `dtype`."""
    profile = {"fallback": "", "members": [
        {"name": kind, "checkpoint": str(checkpoints / f"{kind}.safetensors"), "weight": 1.0}
    ]}  # fmt: skip
    config = EnsembleConfig(
        device="cpu", torch_threads=threads, cpu_dtype=dtype, profiles={"only": profile}
    )
    ensemble = Ensemble.from_config(config, "only")
    return ensemble.all_members()[kind]


def windows(feed: Path, count: int, length: int) -> np.ndarray:
    """Return the last `count` runs of `length` consecutive clean vectors, (count, length, 60)."""
    table = compute_series(load_bars_csv(feed), LEGACY_ANCHOR_MS)
    vectors = table.vectors.astype(np.float32)
    starts = range(len(vectors) - length - count + 1, len(vectors) - length + 1)
    return np.stack([vectors[start : start + length] for start in starts])


def batch(stack: np.ndarray) -> MemberBatch:
    rows = len(stack)
    return MemberBatch(
        symbols=[f"S{row}" for row in range(rows)],
        features=stack[:, -1],
        portfolio=np.zeros((rows, 5), np.float32),
        histories=list(stack),
        previous_actions=[np.ones(stack.shape[1], np.int64) for _ in range(rows)],
        bar_open_times_ms=[0] * rows,
    )


def p50_ms(member: object, one: MemberBatch, repeats: int = 20) -> float:
    member.predict(one)  # type: ignore[attr-defined]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        member.predict(one)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
    return round(float(np.median(times)), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feed", type=Path)
    parser.add_argument("--windows", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoints", type=Path, default=REPO / "checkpoints")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")
    torch.set_num_threads(args.threads)
    report = {"threads": args.threads, "windows": args.windows, "members": {}}
    for kind in MEMBERS:
        exact = load_member(kind, args.checkpoints, "float32", args.threads)
        fast = load_member(kind, args.checkpoints, "bfloat16", args.threads)
        length = exact.window  # type: ignore[attr-defined]
        stack = windows(args.feed, args.windows, length)
        ours, theirs = [], []
        for start in range(0, len(stack), 32):
            part = batch(stack[start : start + 32])
            ours.append(exact.predict(part))  # type: ignore[attr-defined]
            theirs.append(fast.predict(part))  # type: ignore[attr-defined]
        p32, p16 = np.concatenate(ours), np.concatenate(theirs)
        difference = np.abs(p32 - p16)
        one = batch(stack[-1:])
        report["members"][kind] = {
            "window": length,
            "argmax_agreement": round(float(np.mean(p32.argmax(1) == p16.argmax(1))), 4),
            "max_abs_probability_difference": round(float(difference.max()), 5),
            "mean_abs_probability_difference": round(float(difference.mean()), 6),
            "float32_p50_ms": p50_ms(exact, one),
            "bfloat16_p50_ms": p50_ms(fast, one),
        }
    print(json.dumps(report))  # a bench prints its figures
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
