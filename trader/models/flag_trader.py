"""FLAG-TRADER: a 12-block post-norm transformer with LoRA on a frozen random base (models.md §4).

87,955,971 parameters, 2,938,371 of them trainable. The user's model had no attention mask
(only its last position is a decision that does not look ahead); `causal=True` masks the
future so every position can be trained honestly.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from torch import nn

from trader.errors import CheckpointError, ConfigError
from trader.models.lora import LoRALinear
from trader.models.seeded_base import base_checksum, build_seeded_base


class FlagTraderConfig(BaseModel):
    """Architecture of FLAG-TRADER; defaults are the user's first-run model (12 heads, no mask)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dim: int = 60
    action_dim: int = 3
    hidden_dim: int = 768
    num_layers: int = 12
    num_heads: int = 12
    ffn_dim: int = 3072
    max_length: int = 256
    lora_rank: int = 16
    lora_alpha: float = 16.0
    dropout: float = 0.1
    causal: bool = False
    base_seed: int | None = None
    base_sha256: str | None = None

    @field_validator(
        "state_dim", "action_dim", "hidden_dim", "num_layers", "num_heads", "ffn_dim",
        "max_length", "lora_rank",
    )  # fmt: skip
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("base_seed")
    @classmethod
    def _seed_range(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value < 2**63:
            raise ValueError(f"must be in [0, 2**63), got {value}")
        return value

    @field_validator("base_sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and (
            len(value) != 64 or any(c not in "0123456789abcdef" for c in value)
        ):
            raise ValueError(f"must be 64 lowercase hex digits, got {value!r}")
        return value

    @model_validator(mode="after")
    def _heads_divide(self) -> FlagTraderConfig:
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide hidden_dim={self.hidden_dim}")
        return self


class FlagAttention(nn.Module):
    """Multi-head self-attention with LoRA projections; scale 1/√head_dim, optional causal mask."""

    def __init__(self, config: FlagTraderConfig) -> None:
        super().__init__()
        width, rank, alpha = config.hidden_dim, config.lora_rank, config.lora_alpha
        self.q_proj = LoRALinear(width, width, rank, alpha)
        self.k_proj = LoRALinear(width, width, rank, alpha)
        self.v_proj = LoRALinear(width, width, rank, alpha)
        self.out_proj = LoRALinear(width, width, rank, alpha)
        self.num_heads = config.num_heads
        self.causal = config.causal
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend over tokens (B, T, D)."""
        batch, length, width = x.shape
        shape = (batch, length, self.num_heads, width // self.num_heads)
        q = self.q_proj(x).view(shape).transpose(1, 2)
        k = self.k_proj(x).view(shape).transpose(1, 2)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        mixed = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=self.causal
        )
        return self.out_proj(mixed.transpose(1, 2).reshape(batch, length, width))


class FlagBlock(nn.Module):
    """Post-norm block: x = norm1(x + Attn(x)); x = norm2(x + FFN(x))."""

    def __init__(self, config: FlagTraderConfig) -> None:
        super().__init__()
        width, rank, alpha = config.hidden_dim, config.lora_rank, config.lora_alpha
        self.attention = FlagAttention(config)
        self.norm1 = nn.LayerNorm(width)
        self.norm2 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(
            LoRALinear(width, config.ffn_dim, rank, alpha),
            nn.GELU(),
            nn.Dropout(config.dropout),
            LoRALinear(config.ffn_dim, width, rank, alpha),
            nn.Dropout(config.dropout),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to tokens (B, T, D)."""
        x = self.norm1(x + self.dropout(self.attention(x)))
        return self.norm2(x + self.ffn(x))


class FlagTrader(nn.Module):
    """States (B, T ≤ 256, 60) → logits (B, T, 3); the decision is the last position."""

    def __init__(self, config: FlagTraderConfig | None = None) -> None:
        super().__init__()
        self.config = config or FlagTraderConfig()
        width = self.config.hidden_dim
        # Registered first: the user's state dict starts with it.
        self.pos_embedding = nn.Parameter(torch.zeros(1, self.config.max_length, width))
        self.state_embedding = nn.Linear(self.config.state_dim, width)
        self.transformer_blocks = nn.ModuleList(
            FlagBlock(self.config) for _ in range(self.config.num_layers)
        )
        self.output_norm = nn.LayerNorm(width)
        self.action_head = nn.Linear(width, self.config.action_dim)
        self.dropout = nn.Dropout(self.config.dropout)
        self.lora_merged = False
        self.reset_trainable_parameters()

    @classmethod
    def from_seed(cls, config: FlagTraderConfig) -> FlagTrader:
        """Build a fresh model whose frozen base is regenerated from `config.base_seed`.

        The returned model's config carries `base_sha256`; trainable parameters are initialised
        from torch's global generator (seed it for reproducible training).
        """
        if config.base_seed is None:
            raise ConfigError("FlagTrader.from_seed needs config.base_seed, got None")
        base = build_seeded_base(config.base_seed, config)
        checksum = base_checksum(base)
        if config.base_sha256 is not None and config.base_sha256 != checksum:
            raise CheckpointError(
                f"seeded FLAG-TRADER base: expected sha256 {config.base_sha256}, "
                f"regenerated {checksum} from seed {config.base_seed}"
            )
        config = config.model_copy(update={"base_sha256": checksum})
        with torch.device("meta"):
            model = cls(config)
        model.to_empty(device="cpu")
        model.reset_trainable_parameters()
        result = model.load_state_dict(base, strict=False, assign=True)
        if result.unexpected_keys:
            raise CheckpointError(f"seeded base has unknown keys {result.unexpected_keys}")
        return model

    def reset_trainable_parameters(self) -> None:
        """Initialise everything but the frozen base (LoRA B starts at zero)."""
        if not self.pos_embedding.is_meta:  # normal_ on meta would import torch._dynamo
            nn.init.normal_(self.pos_embedding, std=0.02)
        self.state_embedding.reset_parameters()
        self.action_head.reset_parameters()
        for module in self.modules():
            if isinstance(module, nn.LayerNorm):
                module.reset_parameters()
            elif isinstance(module, LoRALinear):
                module.lora.reset_parameters()

    def base_state(self) -> dict[str, torch.Tensor]:
        """Return the frozen base tensors by state-dict name (not copied)."""
        return {
            name: tensor
            for name, tensor in self.state_dict(keep_vars=True).items()
            if ".base." in name
        }

    def merge_lora(self, inplace: bool = False) -> FlagTrader:
        """Return an inference model with every LoRA update folded into a plain Linear.

        Exact up to rounding; the merged model has no LoRA parameters, so its state dict no
        longer matches the checkpoint layout (keep the unmerged model for saving/training).
        """
        model = self if inplace else copy.deepcopy(self)
        if model.lora_merged:
            return model
        for parent in list(model.modules()):
            for child_name, child in list(parent.named_children()):
                if isinstance(child, LoRALinear):
                    setattr(parent, child_name, child.merged())
        model.lora_merged = True
        return model

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """Map states (B, T, 60) to logits (B, T, 3)."""
        _, length, _ = states.shape
        if length > self.config.max_length:
            raise ValueError(f"window of {length} bars exceeds max_length={self.config.max_length}")
        x = self.state_embedding(states.to(self.state_embedding.weight.dtype))
        x = self.dropout(x + self.pos_embedding[:, :length])
        for block in self.transformer_blocks:
            x = block(x)
        return self.action_head(self.output_norm(x))
