"""LoRA linear layers: a frozen base `nn.Linear` plus a trainable low-rank update."""

from __future__ import annotations

import math

import torch
from torch import nn


class LoRAAdapter(nn.Module):
    """The update `x @ lora_A @ lora_B`: lora_A (in, rank), lora_B (rank, out)."""

    def __init__(self, in_features: int, out_features: int, rank: int) -> None:
        super().__init__()
        self.lora_A = nn.Parameter(torch.empty(in_features, rank))
        self.lora_B = nn.Parameter(torch.empty(rank, out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Start as a no-op update: A uniform like a Linear of fan-in `in`, B zero."""
        bound = 1.0 / math.sqrt(self.lora_A.shape[0])
        nn.init.uniform_(self.lora_A, -bound, bound)
        nn.init.zeros_(self.lora_B)


class LoRALinear(nn.Module):
    """`base(x) + (x @ A @ B) * alpha / rank`, with `base` frozen (requires_grad False)."""

    def __init__(self, in_features: int, out_features: int, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = nn.Linear(in_features, out_features)
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)
        self.lora = LoRAAdapter(in_features, out_features, rank)
        self.scaling = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the frozen base and the low-rank update."""
        update = (x @ self.lora.lora_A) @ self.lora.lora_B
        return self.base(x) + update * self.scaling

    def merged(self) -> nn.Linear:
        """Return a plain Linear with `W + (A·B)ᵀ · scaling`: the same map up to rounding."""
        weight = self.base.weight.detach()
        delta = (self.lora.lora_A.detach().float() @ self.lora.lora_B.detach().float()).t()
        merged = nn.Linear(
            weight.shape[1], weight.shape[0], device=weight.device, dtype=weight.dtype
        )
        with torch.no_grad():
            merged.weight.copy_((weight.float() + delta * self.scaling).to(weight.dtype))
            merged.bias.copy_(self.base.bias.detach())
        merged.requires_grad_(False)
        return merged
