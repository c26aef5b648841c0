"""Small pieces every trainer loop shares: seeding, threads, mini-batches, best-epoch keeping."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import structlog
import torch
from torch import nn

log = structlog.get_logger(__name__)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy and torch; return a numpy generator for shuffling."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with `count` intra-op torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resolve_device(requested: str | None, default: str = "cpu") -> torch.device:
    """Return the requested device; "auto" picks CUDA when present, None the trainer default."""
    if requested is None:
        requested = default
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


def minibatches(
    count: int, batch_size: int, rng: np.random.Generator, *, drop_last: bool = True
) -> Iterator[np.ndarray]:
    """Yield shuffled index batches over 0..count−1 (a last short batch is dropped by default).

    BatchNorm needs more than one row per batch, so a tail of one row is always dropped.
    """
    order = rng.permutation(count)
    stop = count - count % batch_size if drop_last and count >= batch_size else count
    for start in range(0, stop, batch_size):
        batch = order[start : start + batch_size]
        if len(batch) > 1:
            yield batch


@torch.inference_mode()
def predict_batches(
    forward: Callable[[torch.Tensor], torch.Tensor],
    inputs: np.ndarray,
    *,
    batch_size: int = 8192,
    device: torch.device | None = None,
) -> np.ndarray:
    """Run `forward` over `inputs` in batches; return the float32 outputs stacked."""
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = torch.from_numpy(np.ascontiguousarray(inputs[start : start + batch_size]))
        outputs.append(forward(chunk.to(device) if device else chunk).float().cpu().numpy())
    if not outputs:
        return np.empty((0, 0), dtype=np.float32)
    return np.concatenate(outputs)


class BestKeeper:
    """Keep a copy of a module's weights at its best validation score; count epochs since."""

    def __init__(self, *, higher_is_better: bool, patience: int) -> None:
        self.higher_is_better = higher_is_better
        self.patience = patience
        self.best_score: float | None = None
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] | None = None
        self.stale_epochs = 0

    def update(self, epoch: int, score: float, module: nn.Module) -> bool:
        """Record an epoch's score; return True when the module improved on the best so far."""
        better = self.best_score is None or (
            score > self.best_score if self.higher_is_better else score < self.best_score
        )
        if better:
            self.best_score = score
            self.best_epoch = epoch
            self.best_state = copy.deepcopy(module.state_dict())
            self.stale_epochs = 0
        else:
            self.stale_epochs += 1
        return better

    def end_epoch(
        self,
        kind: str,
        epoch: int,
        score: float,
        module: nn.Module,
        record: dict[str, Any],
        started: float,
    ) -> bool:
        """Record an epoch's score and log its line (`started`: its perf_counter at the start);
        return True when `patience` epochs passed without improvement (training stops)."""
        improved = self.update(epoch, score, module)
        log.info(
            "training_epoch.finished",
            model=kind,
            **record,
            best=improved,
            seconds=round(time.perf_counter() - started, 2),
        )
        if self.should_stop:
            log.info("training.stopped_early", model=kind, best_epoch=self.best_epoch)
        return self.should_stop

    @property
    def should_stop(self) -> bool:
        """Tell whether `patience` epochs passed without improvement."""
        return self.stale_epochs >= self.patience

    def restore(self, module: nn.Module) -> None:
        """Load the best weights back into the module."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)
