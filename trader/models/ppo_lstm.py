"""PPO-LSTM actor-critic: one observation step plus recurrent state per symbol (models.md §5)."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, field_validator
from torch import nn

Hidden = tuple[torch.Tensor, torch.Tensor]


class PPOLSTMConfig(BaseModel):
    """Architecture of the PPO actor-critic; defaults are the user's model (289,668 parameters)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dim: int = 65
    action_dim: int = 3
    hidden_dim: int = 128
    lstm_layers: int = 2
    head_hidden_dim: int = 64
    dropout: float = 0.1

    @field_validator("state_dim", "action_dim", "hidden_dim", "lstm_layers", "head_hidden_dim")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value


class PPOActorCritic(nn.Module):
    """Linear → LayerNorm → Tanh, a 2-layer LSTM, then actor (3 logits) and critic (1 value)."""

    def __init__(self, config: PPOLSTMConfig | None = None) -> None:
        super().__init__()
        self.config = config or PPOLSTMConfig()
        width = self.config.hidden_dim
        self.feature_net = nn.Sequential(
            nn.Linear(self.config.state_dim, width), nn.LayerNorm(width), nn.Tanh()
        )
        self.lstm = nn.LSTM(
            width,
            width,
            num_layers=self.config.lstm_layers,
            batch_first=True,
            dropout=self.config.dropout if self.config.lstm_layers > 1 else 0.0,
        )
        head = self.config.head_hidden_dim
        self.actor = nn.Sequential(
            nn.Linear(width, head), nn.Tanh(), nn.Linear(head, self.config.action_dim)
        )
        self.critic = nn.Sequential(nn.Linear(width, head), nn.Tanh(), nn.Linear(head, 1))

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> Hidden:
        """Return zero (h, c), each (layers, B, hidden): the state before a symbol's first bar."""
        reference = self.feature_net[0].weight
        shape = (self.config.lstm_layers, batch_size, self.config.hidden_dim)
        device = reference.device if device is None else device
        return (
            torch.zeros(shape, device=device, dtype=reference.dtype),
            torch.zeros(shape, device=device, dtype=reference.dtype),
        )

    def forward(
        self, obs: torch.Tensor, hidden: Hidden | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, Hidden]:
        """Map obs (B, 65) and (h, c) to logits (B, 3), value (B, 1) and the new (h, c).

        obs (B, T, 65) runs T steps and returns logits (B, T, 3) and values (B, T, 1), as
        training over sequences needs.
        """
        single_step = obs.dim() == 2
        x = self.feature_net(obs.to(self.feature_net[0].weight.dtype))
        if single_step:
            x = x.unsqueeze(1)
        if hidden is None:
            hidden = self.initial_state(x.shape[0], x.device)
        out, new_hidden = self.lstm(x, hidden)
        if single_step:
            out = out[:, -1]
        return self.actor(out), self.critic(out), new_hidden
