"""CQL Q-networks and the inference policy min(Q1, Q2) (models.md §2, 116,995 per Q-network)."""

from __future__ import annotations

import torch
from torch import nn

from trader.models.configs import CQLConfig

__all__ = ["CQLConfig", "CQLPolicy", "CQLQNetwork"]


class CQLQNetwork(nn.Module):
    """Q(s, ·): Linear → LayerNorm → ReLU → Dropout, the last hidden layer without LayerNorm."""

    def __init__(self, config: CQLConfig | None = None) -> None:
        super().__init__()
        self.config = config or CQLConfig()
        layers: list[nn.Module] = []
        width = self.config.state_dim
        last = len(self.config.hidden_dims) - 1
        for index, hidden in enumerate(self.config.hidden_dims):
            layers.append(nn.Linear(width, hidden))
            if index < last:
                layers.append(nn.LayerNorm(hidden))
            layers += [nn.ReLU(), nn.Dropout(self.config.dropout)]
            width = hidden
        layers.append(nn.Linear(width, self.config.action_dim))
        self.network = nn.Sequential(*layers)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map states (B, 65) to Q-values (B, 3)."""
        return self.network(states.to(self.network[0].weight.dtype))


class CQLPolicy(nn.Module):
    """The two Q-networks used at inference; the output is their element-wise minimum."""

    def __init__(self, config: CQLConfig | None = None) -> None:
        super().__init__()
        self.config = config or CQLConfig()
        self.q1 = CQLQNetwork(self.config)
        self.q2 = CQLQNetwork(self.config)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map states (B, 65) to min(Q1, Q2) (B, 3): Q-values, not logits."""
        return torch.minimum(self.q1(states), self.q2(states))
