"""BaselineMLP: one himari60 vector → action logits (models.md §1, 18,691 parameters)."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, field_validator
from torch import nn


class BaselineMLPConfig(BaseModel):
    """Architecture of BaselineMLP; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_dim: int = 60
    hidden_dims: tuple[int, ...] = (128, 64, 32)
    num_classes: int = 3
    dropout: float = 0.3

    @field_validator("input_dim", "num_classes")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("hidden_dims")
    @classmethod
    def _hidden(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError(f"needs at least one positive width, got {value}")
        return value


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
