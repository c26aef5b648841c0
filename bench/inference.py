"""Benchmark ensemble inference: every member and profile at 1 and 64 symbols; one JSON object.

Members come from `checkpoints/<kind>.safetensors` when shipped, else are built with seeded
random weights of the real sizes (the JSON says which). Windows are full (256 bars of history
per symbol). Profile figures are whole `Ensemble.decide` calls (history, members, combination,
signals) with budgets off; `model_*` is the sum of the members' own call times.

Usage: python bench/inference.py [--threads N] [--device cpu|cuda] [--batches 1,64]
       [--cpu-dtype float32|bfloat16]
       [--max-seconds S] [--repeats N] [--kinds flag_trader,cgdt,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# isort: off
import trader  # noqa: F401  # before numpy: pins OpenBLAS's kernels, as in the daemon
import numpy as np

# isort: on
import torch

from trader.domain import Action
from trader.ensemble import Ensemble, EnsembleConfig, MemberBatch, ProfileMember
from trader.ensemble.ensemble import select_device
from trader.ensemble.factory import default_member_factory
from trader.logging_setup import configure_logging
from trader.models import (
    CGDT,
    BaselineMLP,
    CQLPolicy,
    FlagTrader,
    FlagTraderConfig,
    PPOActorCritic,
    load,
)

REPO = Path(__file__).resolve().parents[1]
KINDS = ("baseline_mlp", "cql", "cgdt", "flag_trader", "ppo_lstm")
PROFILES = {
    "production": (("flag_trader", 0.50), ("cgdt", 0.35), ("cql", 0.15)),
    "low-latency": (("cql", 0.60), ("baseline_mlp", 0.40)),
}
BAR_MS = 300_000


def device_name(device: torch.device) -> str:
    """Return the GPU name, or the CPU model from /proc/cpuinfo."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def seeded_module(kind: str, seed: int) -> torch.nn.Module:
    """Build a module of the real size with seeded random weights."""
    torch.manual_seed(seed)
    if kind == "baseline_mlp":
        return BaselineMLP()
    if kind == "cql":
        return CQLPolicy()
    if kind == "cgdt":
        return CGDT()
    if kind == "ppo_lstm":
        return PPOActorCritic()
    model = FlagTrader.from_seed(FlagTraderConfig(base_seed=seed))
    with torch.no_grad():
        for module in model.modules():
            lora = getattr(module, "lora", None)
            if lora is not None:
                lora.lora_B.normal_(0.0, 0.02)  # a trained-looking (non-zero) update
    return model


def obtain(kind: str, directory: Path, seeded: bool) -> tuple[Any, str]:
    """Return (loaded model, source description) for a kind."""
    path = directory / f"{kind}.safetensors"
    if path.exists() and not seeded:
        loaded = load(path)
        return loaded, f"checkpoint {path.name} sha256={loaded.sha256[:12]}"
    module = seeded_module(kind, seed=KINDS.index(kind)).eval()
    stand_in = SimpleNamespace(
        kind=kind, module=module, sha256=f"seeded-{kind}", normalization=None, manifest=None
    )
    why = "--seeded" if seeded else "no shipped checkpoint"
    return stand_in, f"seeded random weights, the user's sizes ({why})"


Timing = tuple[list[float], list[float]]


def timed(action: Callable[[], object], repeats: int, max_seconds: float) -> Timing:
    """Return (wall ms, process CPU ms) per call: one warm-up, then until `repeats` or
    `max_seconds` (at least 2 calls). CPU time is all threads' time; on a busy machine it
    shows the work where wall time also shows the waiting.
    """
    action()
    wall: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    while len(wall) < repeats and (len(wall) < 2 or time.perf_counter() - started < max_seconds):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - begin) * 1000.0)
        cpu.append((time.process_time() - begin_cpu) * 1000.0)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile rounded to 4 decimals."""
    return round(float(np.percentile(np.asarray(values), q)), 4)


def summary(timing: Timing) -> dict[str, Any]:
    """Return wall p50/p99 (ms), CPU p50 (ms) and the sample count."""
    wall, cpu = timing
    return {
        "p50_ms": percentile(wall, 50),
        "p99_ms": percentile(wall, 99),
        "cpu_p50_ms": percentile(cpu, 50),
        "n": len(wall),
    }


def member_batch(rows: int, history: int, seed: int) -> MemberBatch:
    """Return a batch of `rows` symbols with full seeded histories."""
    rng = np.random.default_rng(seed)
    histories = [rng.normal(0, 1, (history, 60)).astype(np.float32) for _ in range(rows)]
    return MemberBatch(
        symbols=[f"S{i}/USDT" for i in range(rows)],
        features=np.stack([h[-1] for h in histories]),
        portfolio=np.zeros((rows, 5), dtype=np.float32),
        histories=histories,
        previous_actions=[rng.integers(0, 3, history).astype(np.int64) for _ in range(rows)],
        bar_open_times_ms=[BAR_MS * history] * rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=EnsembleConfig().torch_threads)
    parser.add_argument(
        "--cpu-dtype",
        default=EnsembleConfig().cpu_dtype,
        help="float32 or bfloat16 for FLAG-TRADER and CGDT on the CPU",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--checkpoints", type=Path, default=REPO / "checkpoints")
    parser.add_argument(
        "--seeded", action="store_true", help="use seeded weights of the user's sizes for all"
    )
    parser.add_argument("--reference", action="store_true", help="also time the eager module")
    parser.add_argument(
        "--flag-windows", default="", help="extra FLAG-TRADER windows to time, e.g. 64,128"
    )
    args = parser.parse_args()

    configure_logging(level="WARNING")  # logs to stderr, the JSON alone on stdout
    torch.set_num_threads(args.threads)
    config = EnsembleConfig(
        device=args.device, torch_threads=args.threads, cpu_dtype=args.cpu_dtype
    )
    device = select_device(config.device)
    batches = [int(b) for b in args.batches.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    history = config.history_length

    members: dict[str, Any] = {}
    sources: dict[str, str] = {}
    modules: dict[str, Any] = {}
    for kind in kinds:
        loaded, sources[kind] = obtain(kind, args.checkpoints, args.seeded)
        modules[kind] = loaded.module
        members[kind] = default_member_factory(kind, loaded, device, config)
        members[kind].prepare()
        if kind == "flag_trader":
            for window in [int(w) for w in args.flag_windows.split(",") if w]:
                windowed = config.model_copy(update={"flag_trader_window": window})
                name = f"flag_trader@{window}"
                members[name] = default_member_factory(kind, loaded, device, windowed)
                members[name].prepare()

    report: dict[str, Any] = {
        "device": f"{device.type}: {device_name(device)}",
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dtype": config.cuda_dtype if device.type == "cuda" else config.cpu_dtype,
        "cuda_graphs": device.type == "cuda" and config.cuda_graphs,
        "windows": {
            name: member.window for name, member in members.items() if hasattr(member, "window")
        },
        "history_length": history,
        "sources": sources,
        "members": {},
        "profiles": {},
    }
    for kind, member in members.items():
        report["members"][kind] = {}
        for rows in batches:
            data = member_batch(rows, history, seed=rows)
            times = timed(lambda m=member, d=data: m.predict(d), args.repeats, args.max_seconds)
            report["members"][kind][f"batch_{rows}"] = summary(times)

    if args.reference and "flag_trader" in modules:
        module = modules["flag_trader"].to(device)
        window = members["flag_trader"].window
        states = torch.from_numpy(member_batch(1, window, 0).histories[0])[None].to(device)

        def eager() -> None:
            with torch.inference_mode():
                module(states)[:, -1].float().cpu()

        report["reference"] = {
            "flag_trader_module_eager_batch_1": summary(timed(eager, 20, args.max_seconds))
        }

    for profile, spec in PROFILES.items():
        if not all(kind in members for kind, _weight in spec):
            continue
        entries = [ProfileMember(members[kind], weight) for kind, weight in spec]
        ensemble = Ensemble(profile, {profile: entries}, _single(config, profile, spec), device)
        report["profiles"][profile] = {}
        for rows in batches:
            data = member_batch(rows, history, seed=rows)
            for row, symbol in enumerate(data.symbols):
                ensemble.warm(
                    symbol,
                    data.histories[row][:-1],
                    [Action.HOLD] * (history - 1),
                    [BAR_MS * i for i in range(history - 1)],
                )
            timing, model_ms = time_profile(ensemble, data, history, args)
            stats = summary(timing)
            stats["model_p50_ms"] = percentile(model_ms[1:], 50)
            stats["model_p99_ms"] = percentile(model_ms[1:], 99)
            report["profiles"][profile][f"batch_{rows}"] = stats
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


def time_profile(
    ensemble: Ensemble, data: MemberBatch, history: int, args: argparse.Namespace
) -> tuple[Timing, list[float]]:
    """Time `decide` on fresh bars; return call times and the members' summed call times."""
    model_ms: list[float] = []
    step = iter(range(history - 1, 10**9))  # the warmed history ends at bar history − 2

    def decide() -> None:
        index = next(step)
        signals = ensemble.decide("bench", data, [BAR_MS * index] * len(data.symbols), 0)
        model_ms.append(sum(m.latency_ms for m in signals[0].members))

    return timed(decide, args.repeats, args.max_seconds), model_ms


def _single(config: EnsembleConfig, name: str, spec: Any) -> EnsembleConfig:
    """Return the config holding just this profile (no fallback: budgets are not measured)."""
    members = [{"name": k, "checkpoint": f"{k}.safetensors", "weight": w} for k, w in spec]
    return config.model_copy(
        update={
            "profiles": EnsembleConfig.model_validate(
                {"profiles": {name: {"members": members}}}
            ).profiles
        }
    )


if __name__ == "__main__":
    main()
