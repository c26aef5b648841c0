"""What every trainer receives: labelled rows, their chronological split and the normalisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trader.training.config import BacktestConfig, DatasetConfig
from trader.training.dataset import LabeledDataset, load_dataset
from trader.training.normalization import Normalization, fit_normalization
from trader.training.split import DatasetSplit, iso_utc, split_dataset


@dataclass(frozen=True, eq=False)
class PreparedData:
    """A dataset split in time with normalisation fitted on its training part.

    `inputs` holds every row's normalised features (float32, zeroed features at 0): exactly
    what the ensemble feeds a model at run time.
    """

    dataset: LabeledDataset
    split: DatasetSplit
    normalization: Normalization
    inputs: np.ndarray
    config: DatasetConfig = field(default_factory=DatasetConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)

    def describe(self) -> dict[str, Any]:
        """Return the data block of a manifest: sources, range, labels and split dates."""
        data = self.dataset
        return {
            "sources": [Path(source).name for source in data.sources],
            "symbols": list(data.symbols),
            "anchors_ms": list(data.anchors_ms),
            "files": [
                {
                    "source": Path(source).name,
                    "symbol": series.symbol,
                    "bars": len(series),
                    "first_bar": iso_utc(int(series.open_time_ms.min())),
                    "last_bar": iso_utc(int(series.open_time_ms.max())),
                }
                for source, series in zip(data.sources, data.series, strict=True)
            ],
            "rows": len(data),
            "first_bar": iso_utc(int(data.open_time_ms.min())),
            "last_bar": iso_utc(int(data.open_time_ms.max())),
            "label": {
                "horizon_bars": data.horizon_bars,
                "threshold": data.label_threshold,
                "rule": "r = c[i+h]/c[i] - 1; BUY if r > threshold, SELL if r < -threshold",
            },
            "split": {
                "fractions": [
                    self.config.train_fraction,
                    self.config.val_fraction,
                    self.config.test_fraction,
                ],
                "gap_bars": self.split.gap_bars,
                **self.split.dates(data),
            },
            "zeroed_features": list(self.normalization.zeroed_features),
        }


def prepare(
    dataset: LabeledDataset,
    config: DatasetConfig | None = None,
    backtest: BacktestConfig | None = None,
) -> PreparedData:
    """Split a dataset chronologically and fit normalisation on the training rows only."""
    config = config or DatasetConfig()
    split = split_dataset(dataset, config)
    normalization = fit_normalization(dataset.features[split.train], config.zeroed_features)
    return PreparedData(
        dataset=dataset,
        split=split,
        normalization=normalization,
        inputs=normalization.apply(dataset.features),
        config=config,
        backtest=backtest or BacktestConfig(),
    )


def prepare_files(
    paths: Sequence[Path | str],
    config: DatasetConfig | None = None,
    backtest: BacktestConfig | None = None,
    *,
    anchor_ms: int | None = None,
) -> PreparedData:
    """Load bar CSVs and prepare them (see `load_dataset` and `prepare`)."""
    config = config or DatasetConfig()
    return prepare(load_dataset(paths, config, anchor_ms=anchor_ms), config, backtest)
