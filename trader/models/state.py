"""Strict state-dict checks and parameter counts shared by saving and loading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from trader.errors import CheckpointError

_LIST_LIMIT = 8


class ParameterCount(NamedTuple):
    """Total and trainable (requires_grad) parameter counts of a module."""

    total: int
    trainable: int


def count_parameters(module: nn.Module) -> ParameterCount:
    """Count a module's parameters, and those that require gradients."""
    total = 0
    trainable = 0
    for parameter in module.parameters():
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return ParameterCount(total, trainable)


def _shape(tensor: torch.Tensor) -> str:
    return "x".join(str(size) for size in tensor.shape) or "scalar"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    if len(items) > _LIST_LIMIT:
        shown += f", … and {len(items) - _LIST_LIMIT} more"
    return f"[{shown}]"


def _all_finite(tensor: torch.Tensor) -> bool:
    # A float32 sum is ~30x cheaper than isfinite().all() on 88 M weights; only when the sum
    # is not finite (a NaN/inf, or an overflow of huge finite values) is the exact test run.
    if bool(torch.isfinite(tensor.sum())):
        return True
    return bool(torch.isfinite(tensor).all())


def check_state_dict(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, Any], *, where: str
) -> dict[str, torch.Tensor]:
    """Return `given` as float32/int64 tensors, or raise listing every key or shape mismatch.

    `expected` is the state dict of the architecture (usually built on the meta device). Floating
    tensors of any float dtype are accepted and converted to float32; integer buffers (BatchNorm's
    `num_batches_tracked`) must be integers. Non-finite weights are refused: they would turn
    every decision into NaN.
    """
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    wrong: list[str] = []
    nonfinite: list[str] = []
    checked: dict[str, torch.Tensor] = {}
    for name, reference in expected.items():
        if name not in given:
            continue
        value = given[name]
        if not isinstance(value, torch.Tensor):
            wrong.append(
                f"{name}: expected a {_shape(reference)} tensor, got {type(value).__name__}"
            )
            continue
        if tuple(value.shape) != tuple(reference.shape):
            wrong.append(f"{name}: expected {_shape(reference)}, got {_shape(value)}")
            continue
        if reference.dtype.is_floating_point:
            if not value.dtype.is_floating_point:
                wrong.append(f"{name}: expected a float tensor, got {value.dtype}")
                continue
            value = value.detach().to(device="cpu", dtype=torch.float32)
            if not _all_finite(value):
                nonfinite.append(name)
                continue
        else:
            if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
                wrong.append(f"{name}: expected an integer tensor, got {value.dtype}")
                continue
            value = value.detach().to(device="cpu", dtype=reference.dtype)
        checked[name] = value
    problems = []
    if missing:
        problems.append(f"missing keys {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listed(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes or types {_listed(wrong)}")
    if nonfinite:
        problems.append(f"non-finite values in {_listed(nonfinite)}")
    if problems:
        raise CheckpointError(f"{where}: state dict does not match: " + "; ".join(problems))
    return checked
