"""BaselineMLP: one himari60 vector → action logits (models.md §1, 18,691 parameters)."""

from __future__ import annotations

import torch
from torch import nn

from trader.models.configs import BaselineMLPConfig

__all__ = ["BaselineMLP", "BaselineMLPConfig"]


class BaselineMLP(nn.Module):
    """Linear → BatchNorm → ReLU → Dropout per hidden layer, then a linear classifier."""

    def __init__(self, config: BaselineMLPConfig | None = None) -> None:
        super().__init__()
        self.config = config or BaselineMLPConfig()
        layers: list[nn.Module] = []
        width = self.config.input_dim
        for hidden in self.config.hidden_dims:
            layers += [
                nn.Linear(width, hidden),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
                nn.Dropout(self.config.dropout),
            ]
            width = hidden
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, self.config.num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map features (B, 60) to logits (B, 3)."""
        return self.classifier(self.features(features.to(self.classifier.weight.dtype)))
