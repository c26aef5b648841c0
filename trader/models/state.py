"""Strict state-dict checks and parameter counts shared by saving and loading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from trader.models.tensor_check import TensorSpec, check_tensors


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


class TorchTensorOps:
    """`TensorOps` for torch tensors (any device; results on the CPU)."""

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, torch.Tensor)

    def shape(self, value: torch.Tensor) -> tuple[int, ...]:
        return tuple(value.shape)

    def dtype_name(self, value: torch.Tensor) -> str:
        return str(value.dtype)

    def is_floating(self, value: torch.Tensor) -> bool:
        return value.dtype.is_floating_point

    def is_integer(self, value: torch.Tensor) -> bool:
        dtype = value.dtype
        return not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool)

    def to_float32(self, value: torch.Tensor) -> torch.Tensor:
        return value.detach().to(device="cpu", dtype=torch.float32)

    def to_integer(self, value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return value.detach().to(device="cpu", dtype=dtype)

    def all_finite(self, value: torch.Tensor) -> bool:
        # A float32 sum is ~30x cheaper than isfinite().all() on 88 M weights; only when the sum
        # is not finite (a NaN/inf, or an overflow of huge finite values) is the exact test run.
        if bool(torch.isfinite(value.sum())):
            return True
        return bool(torch.isfinite(value).all())


TORCH_OPS = TorchTensorOps()


def check_state_dict(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, Any], *, where: str
) -> dict[str, torch.Tensor]:
    """Return `given` as float32/int64 tensors, or raise listing every key or shape mismatch.

    `expected` is the state dict of the architecture (usually built on the meta device); the
    rules are `trader.models.tensor_check.check_tensors`'s.
    """
    specs = {
        name: TensorSpec(tuple(reference.shape), reference.dtype.is_floating_point, reference.dtype)
        for name, reference in expected.items()
    }
    return check_tensors(specs, given, TORCH_OPS, where=where)
