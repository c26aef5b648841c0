"""The contract between the training runner and each model's trainer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel
from torch import nn

from trader.training.prepared import PreparedData


@dataclass(frozen=True)
class TrainOptions:
    """Run-wide choices: `epochs`/`device` None means the trainer's own default.

    One torch thread by default: on the shared 2-core machine two OpenMP threads ran these
    small models 5–10× slower whenever the other core was busy (see docs/training.md).
    """

    seed: int = 7
    epochs: int | None = None
    quick: bool = False
    threads: int = 1
    device: str | None = None


@dataclass
class TrainedModel:
    """A trained inference module and its predictions on the test part.

    `test_actions` are action codes (0 SELL, 1 HOLD, 2 BUY) for `test_rows`, which default to
    the whole test part (`data.split.test`). `module` and `config` go to `save_checkpoint`.
    """

    kind: str
    module: nn.Module
    config: BaseModel
    test_actions: np.ndarray
    epochs: int
    best_epoch: int
    history: list[dict[str, float]]
    hyperparameters: dict[str, Any]
    test_rows: np.ndarray | None = None
    auxiliary: dict[str, nn.Module] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


TrainFunction = Callable[[PreparedData, TrainOptions], TrainedModel]
