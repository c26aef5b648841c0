"""CGDT: a critic-guided decision transformer over (return, state, action) tokens (models.md §3)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from torch import nn


class CGDTConfig(BaseModel):
    """Architecture of CGDT and its critic; defaults are the user's model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dim: int = 60
    action_dim: int = 3
    hidden_dim: int = 256
    num_layers: int = 6
    num_heads: int = 8
    ffn_dim: int = 1024
    max_length: int = 64
    dropout: float = 0.1
    critic_hidden_dims: tuple[int, int] = (256, 128)

    @field_validator("state_dim", "action_dim", "hidden_dim", "num_layers", "num_heads")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("ffn_dim", "max_length")
    @classmethod
    def _positive_size(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @model_validator(mode="after")
    def _heads_divide(self) -> CGDTConfig:
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide hidden_dim={self.hidden_dim}")
        return self


def sinusoidal_table(length: int, width: int) -> torch.Tensor:
    """Return the (1, length, width) sin/cos position table of "Attention Is All You Need"."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(
        torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width)
    )
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table.unsqueeze(0)


class PositionalEncoding(nn.Module):
    """Holds the fixed table `pe`; it is stored in checkpoints, so loaded values are used."""

    def __init__(self, length: int, width: int) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_table(length, width))

    pe: torch.Tensor


class CGDTBlock(nn.Module):
    """Post-norm block: x = norm1(x + causal MHA(x)); x = norm2(x + FFN(x))."""

    def __init__(self, config: CGDTConfig) -> None:
        super().__init__()
        width = config.hidden_dim
        # nn.MultiheadAttention holds the parameters under the user's key names; the forward
        # below is the same computation through scaled_dot_product_attention (fused on CUDA).
        self.attention = nn.MultiheadAttention(
            width, config.num_heads, dropout=config.dropout, batch_first=True
        )
        self.norm1 = nn.LayerNorm(width)
        self.norm2 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(
            nn.Linear(width, config.ffn_dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ffn_dim, width),
            nn.Dropout(config.dropout),
        )
        self.dropout = nn.Dropout(config.dropout)
        self.num_heads = config.num_heads

    def _causal_attention(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        heads = self.num_heads
        attention = self.attention
        qkv = F.linear(x, attention.in_proj_weight, attention.in_proj_bias)
        q, k, v = qkv.view(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(
            q, k, v, dropout_p=attention.dropout if self.training else 0.0, is_causal=True
        )
        mixed = mixed.transpose(1, 2).reshape(batch, length, width)
        return attention.out_proj(mixed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to tokens (B, L, D)."""
        x = self.norm1(x + self.dropout(self._causal_attention(x)))
        return self.norm2(x + self.ffn(x))


class CGDT(nn.Module):
    """Decision transformer: logits (B, K, 3) read at the state tokens; decide on the last."""

    def __init__(self, config: CGDTConfig | None = None) -> None:
        super().__init__()
        self.config = config or CGDTConfig()
        width = self.config.hidden_dim
        self.state_encoder = nn.Linear(self.config.state_dim, width)
        self.action_encoder = nn.Embedding(self.config.action_dim, width)
        self.return_encoder = nn.Linear(1, width)
        self.timestep_encoder = nn.Embedding(self.config.max_length, width)
        self.pos_encoding = PositionalEncoding(3 * self.config.max_length, width)
        self.transformer_blocks = nn.ModuleList(
            CGDTBlock(self.config) for _ in range(self.config.num_layers)
        )
        self.action_predictor = nn.Sequential(
            nn.LayerNorm(width), nn.Linear(width, self.config.action_dim)
        )
        self.dropout = nn.Dropout(self.config.dropout)

    def forward(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        returns_to_go: torch.Tensor,
        timesteps: torch.Tensor,
    ) -> torch.Tensor:
        """Map states (B,K,60), actions (B,K) long, returns-to-go (B,K), timesteps (B,K) long
        to logits (B, K, 3).
        """
        batch, steps, _ = states.shape
        if steps > self.config.max_length:
            raise ValueError(f"window of {steps} steps exceeds max_length={self.config.max_length}")
        dtype = self.state_encoder.weight.dtype
        if returns_to_go.dim() == 2:
            returns_to_go = returns_to_go.unsqueeze(-1)
        time = self.timestep_encoder(timesteps)
        state_tokens = self.state_encoder(states.to(dtype)) + time
        action_tokens = self.action_encoder(actions) + time
        return_tokens = self.return_encoder(returns_to_go.to(dtype)) + time
        tokens = torch.stack((return_tokens, state_tokens, action_tokens), dim=2)
        x = tokens.reshape(batch, 3 * steps, self.config.hidden_dim)
        x = self.dropout(x + self.pos_encoding.pe[:, : 3 * steps])
        for block in self.transformer_blocks:
            x = block(x)
        return self.action_predictor(x[:, 1::3])


class CGDTCritic(nn.Module):
    """The training-time critic V(s) (`critic` in the user's file): 49,153 parameters."""

    def __init__(self, config: CGDTConfig | None = None) -> None:
        super().__init__()
        self.config = config or CGDTConfig()
        first, second = self.config.critic_hidden_dims
        self.network = nn.Sequential(
            nn.Linear(self.config.state_dim, first),
            nn.LayerNorm(first),
            nn.ReLU(),
            nn.Dropout(self.config.dropout),
            nn.Linear(first, second),
            nn.ReLU(),
            nn.Linear(second, 1),
        )

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map states (B, 60) to values (B, 1)."""
        return self.network(states.to(self.network[0].weight.dtype))
