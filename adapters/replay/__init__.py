"""Recorded feeds: bar CSVs and the JSON Lines recording format, the recorder, and `open_feed`."""

from adapters.replay.csv_feed import CsvFeed, load_csv_series
from adapters.replay.events import FileFeed, group_bars
from adapters.replay.open import feed_fingerprint, open_feed, parse_feed_spec
from adapters.replay.recording import (
    FORMAT,
    VERSION,
    RecordingFeed,
    RecordingHeader,
    RecordingWriter,
    read_records,
)
from adapters.replay.symbols import normalise_symbol, symbol_from_path

__all__ = [
    "FORMAT",
    "VERSION",
    "CsvFeed",
    "FileFeed",
    "RecordingFeed",
    "RecordingHeader",
    "RecordingWriter",
    "feed_fingerprint",
    "group_bars",
    "load_csv_series",
    "normalise_symbol",
    "open_feed",
    "parse_feed_spec",
    "read_records",
    "symbol_from_path",
]
