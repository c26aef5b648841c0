"""`open_feed`: a CSV, several CSVs or a recording, wherever the daemon accepts a feed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from adapters.replay.csv_feed import CsvFeed
from adapters.replay.events import FileFeed
from adapters.replay.recording import RecordingFeed
from adapters.replay.symbols import normalise_symbol, symbol_from_path
from trader.errors import DataError

RECORDING_SUFFIXES = (".jsonl", ".ndjson", ".rec")


def parse_feed_spec(spec: str | Path) -> list[tuple[Path, str | None]]:
    """Split a feed spec into (path, symbol or None) parts.

    A spec is a path, `SYMBOL=PATH`, a directory (its `*.csv` files) or several of these joined
    by commas: `ETH/USDT=eth.csv,BTC/USDT=btc.csv`.
    """
    text = str(spec).strip()
    if not text:
        raise DataError("empty feed path")
    if Path(text).exists():
        parts = [text]
    else:
        parts = [part.strip() for part in text.split(",") if part.strip()]
    result: list[tuple[Path, str | None]] = []
    for part in parts:
        symbol: str | None = None
        if not Path(part).exists() and "=" in part:
            name, _, part = part.partition("=")
            symbol = normalise_symbol(name)
        path = Path(part).expanduser()
        if path.is_dir():
            files = sorted(path.glob("*.csv"))
            if not files:
                raise DataError(f"feed directory {path} holds no .csv files")
            result.extend((file, None) for file in files)
        elif path.is_file():
            result.append((path, symbol))
        else:
            raise DataError(f"feed file not found: {path}")
    return result


def is_recording(path: Path) -> bool:
    """Return whether a file is a recording (by suffix, else by a JSON first line)."""
    if path.suffix.lower() in RECORDING_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(64).lstrip().startswith(b"{")
    except OSError as exc:
        raise DataError(f"cannot read feed file {path}: {exc.strerror}") from exc


def open_feed(path: str | Path, interval_s: int | None = None) -> FileFeed:
    """Open a recorded feed: one or more bar CSVs, or one recording; `interval_s` is checked."""
    parts = parse_feed_spec(path)
    recordings = [file for file, _symbol in parts if is_recording(file)]
    if recordings:
        if len(parts) != 1:
            raise DataError("a recording is replayed on its own, not combined with other files")
        return RecordingFeed(recordings[0], interval_s)
    return CsvFeed.from_paths(parts, interval_s)


def feed_fingerprint(spec: str | Path) -> str:
    """Return a sha256 over the feed's files (content and symbol), not over where they lie.

    A replay's run id is derived from it, so the same bars replayed from another folder or
    machine make the same run, the same ids and the same ledger digest.
    """
    digest = hashlib.sha256()
    for path, symbol in parse_feed_spec(spec):
        digest.update(f"{symbol or ''}|{path.suffix.lower()}|".encode())
        if not symbol and not is_recording(path):
            digest.update(symbol_from_path(path).encode())
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise DataError(f"cannot read feed file {path}: {exc.strerror}") from exc
        digest.update(b"\n")
    return digest.hexdigest()
