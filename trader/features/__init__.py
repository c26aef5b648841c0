"""Feature sets for the model path, bar loading, and the bar-quality gate in front of them."""

from trader.features.bars_csv import BarSeries, load_bars_csv
from trader.features.config import DEFAULT_ANCHOR_MS, FEATURE_SETS, FeaturesConfig, parse_time_ms
from trader.features.himari60 import (
    FEATURE_COUNT,
    FEATURE_NAMES,
    WINDOW,
    compute_batch,
    compute_window,
)
from trader.features.quality import BarIssue, BarIssueCode, BarQualityGate, BarVerdict
from trader.features.series import FeatureTable, compute_series
from trader.features.stream import FeatureStream, FeatureStreamSet, StreamResult

__all__ = [
    "DEFAULT_ANCHOR_MS",
    "FEATURE_COUNT",
    "FEATURE_NAMES",
    "FEATURE_SETS",
    "WINDOW",
    "BarIssue",
    "BarIssueCode",
    "BarQualityGate",
    "BarSeries",
    "BarVerdict",
    "FeatureStream",
    "FeatureStreamSet",
    "FeatureTable",
    "FeaturesConfig",
    "StreamResult",
    "compute_batch",
    "compute_series",
    "compute_window",
    "load_bars_csv",
    "parse_time_ms",
]
