"""The recording format (`trader.recording` v1, JSON Lines): writer, reader, and a Feed over it.

Line 1 is a header; every later line is one record, either a raw message as the adapter
received it or a closed bar. See docs/replay.md for the fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from adapters.replay.events import FileFeed, group_bars
from trader.domain import Bar
from trader.errors import DataError

FORMAT = "trader.recording"
VERSION = 1
PRICE_KEYS = ("o", "h", "l", "c", "v")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _number(value: float) -> float | str:
    # JSON has no NaN or infinity; a bad bar must still round-trip to the quality gate as it was.
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise DataError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise DataError(f"{where}: expected a number, got {value!r}")


def bar_record(bar: Bar, recv_ms: int | None = None) -> dict[str, Any]:
    """Return the record of one closed bar."""
    record: dict[str, Any] = {
        "kind": "bar",
        "symbol": bar.symbol,
        "interval_s": bar.interval_s,
        "open_time_ms": bar.open_time_ms,
    }
    for key, value in zip(
        PRICE_KEYS, (bar.open, bar.high, bar.low, bar.close, bar.volume), strict=True
    ):
        record[key] = _number(value)
    if recv_ms is not None:
        record["recv_ms"] = recv_ms
    return record


def bar_from_record(record: Mapping[str, Any], where: str) -> Bar:
    """Return the Bar of a `bar` record; a missing or mistyped field is a DataError."""
    try:
        symbol, interval_s, open_ms = record["symbol"], record["interval_s"], record["open_time_ms"]
        prices = [_float(record[key], f"{where} field {key}") for key in PRICE_KEYS]
    except KeyError as exc:
        raise DataError(f"{where}: bar record lacks {exc.args[0]!r}") from exc
    if not isinstance(symbol, str) or not symbol:
        raise DataError(f"{where}: symbol must be a non-empty string, got {symbol!r}")
    for name, value in (("interval_s", interval_s), ("open_time_ms", open_ms)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise DataError(f"{where}: {name} must be an integer, got {value!r}")
    return Bar(symbol, interval_s, open_ms, *prices)


@dataclass(frozen=True, slots=True)
class RecordingHeader:
    """The first line of a recording."""

    version: int
    source: str
    symbols: tuple[str, ...]
    interval_s: int | None
    created_ms: int | None


class RecordingWriter:
    """Append records to a recording file, one JSON line each; the header is written first."""

    def __init__(
        self,
        path: Path,
        *,
        source: str,
        symbols: tuple[str, ...] | list[str],
        interval_s: int,
        created_ms: int,
    ) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle: IO[bytes] = path.open("wb")
        except OSError as exc:
            raise DataError(f"cannot write recording {path}: {exc.strerror}") from exc
        self.bars = 0
        self.raw = 0
        self._write(
            {
                "kind": "header",
                "format": FORMAT,
                "version": VERSION,
                "source": source,
                "symbols": list(symbols),
                "interval_s": interval_s,
                "created_ms": created_ms,
            }
        )

    def _write(self, record: Mapping[str, Any]) -> None:
        try:
            self._handle.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        except (OSError, TypeError) as exc:
            raise DataError(f"cannot write recording {self.path}: {exc}") from exc

    def write_raw(self, recv_ms: int, source: str, payload: Any) -> None:
        """Record one message as the adapter received it, with its receive time (UTC ms)."""
        self._write({"kind": "raw", "recv_ms": recv_ms, "source": source, "payload": payload})
        self.raw += 1

    def write_bar(self, bar: Bar, recv_ms: int | None = None) -> None:
        """Record one closed bar (and when the feed delivered it)."""
        self._write(bar_record(bar, recv_ms))
        self.bars += 1

    def flush(self) -> None:
        """Push buffered lines to the file."""
        self._handle.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if not self._handle.closed:
            self._handle.flush()
            self._handle.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_header(line: bytes, path: Path) -> RecordingHeader:
    """Parse and check a recording's first line."""
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DataError(f"{path}:1: not a JSON line: {exc}") from exc
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise DataError(f"{path}:1: a recording starts with a header record")
    if header.get("format") != FORMAT:
        raise DataError(f"{path}:1: format {header.get('format')!r} is not {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise DataError(f"{path}:1: recording version {version!r}; this reader knows 1..{VERSION}")
    symbols = header.get("symbols") or []
    interval_s = header.get("interval_s")
    return RecordingHeader(
        version=version,
        source=str(header.get("source", "")),
        symbols=tuple(str(symbol) for symbol in symbols),
        interval_s=interval_s if isinstance(interval_s, int) else None,
        created_ms=header.get("created_ms"),
    )


def read_records(path: Path) -> tuple[RecordingHeader, Iterator[dict[str, Any]]]:
    """Return a recording's header and an iterator over its records (unknown kinds included)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read recording {path}: {exc.strerror}") from exc
    first = handle.readline()
    if not first.strip():
        handle.close()
        raise DataError(f"{path}: empty recording (no header line)")
    try:
        header = read_header(first, path)
    except DataError:
        handle.close()
        raise

    def records() -> Iterator[dict[str, Any]]:
        with handle:
            for number, line in enumerate(handle, start=2):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise DataError(f"{path}:{number}: not a JSON line: {exc}") from exc
                if not isinstance(record, dict):
                    raise DataError(f"{path}:{number}: a record must be a JSON object")
                record["_line"] = number
                yield record

    return header, records()


class RecordingFeed(FileFeed):
    """The closed bars of a recording as a Feed (raw records are kept for inspection only)."""

    def __init__(self, path: Path, interval_s: int | None = None) -> None:
        header, records = read_records(path)
        bars: list[Bar] = []
        self.raw_records = 0
        self.unknown_records = 0
        for record in records:
            kind = record.get("kind")
            if kind == "bar":
                bars.append(bar_from_record(record, f"{path}:{record['_line']}"))
            elif kind == "raw":
                self.raw_records += 1
            else:  # a later minor addition; readers skip what they do not know
                self.unknown_records += 1
        self.header = header
        symbols = list(header.symbols)
        for bar in bars:
            if bar.symbol not in symbols:
                symbols.append(bar.symbol)
        if not symbols:
            raise DataError(f"recording {path} holds no bars")
        interval = interval_s or header.interval_s or (bars[0].interval_s if bars else None)
        if interval is None:
            raise DataError(f"recording {path} names no bar interval")
        if interval_s is not None and header.interval_s not in (None, interval_s):
            raise DataError(
                f"recording {path} holds {header.interval_s} s bars but the run expects "
                f"{interval_s} s (features.interval_s)"
            )
        super().__init__(symbols, interval, group_bars(bars), source="recording")
