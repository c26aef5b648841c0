"""Inference forwards for the two post-norm transformers that compute only the decision.

Both models decide at one position (FLAG-TRADER: the last bar; CGDT: the last state token).
Every block but the last needs all positions, but the last block only needs that one query:
its keys and values come from every position, its attention output, FFN and norms from one
row. The weights are read once from the loaded module into a compact form: LoRA merged, the
q/k/v projections fused into one matrix, on the target device and dtype (bf16 on CUDA).
Attention runs through `F.scaled_dot_product_attention` (fused kernels on CUDA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class BlockWeights:
    """One post-norm block: x = norm1(x + Attn(x)); x = norm2(x + FFN(x))."""

    qkv_weight: torch.Tensor  # (3D, D): rows q, then k, then v
    qkv_bias: torch.Tensor
    out_weight: torch.Tensor
    out_bias: torch.Tensor
    norm1: tuple[torch.Tensor, torch.Tensor, float]
    ffn_in: tuple[torch.Tensor, torch.Tensor]
    ffn_out: tuple[torch.Tensor, torch.Tensor]
    norm2: tuple[torch.Tensor, torch.Tensor, float]
    heads: int


def linear_parts(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (weight, bias) of an nn.Linear or of a LoRA linear with its update merged."""
    merged = getattr(module, "merged", None)
    if callable(merged):
        module = merged()
    if not isinstance(module, nn.Linear) or module.bias is None:
        raise TypeError(f"expected a Linear with bias, got {type(module).__name__}")
    return module.weight.detach(), module.bias.detach()


def norm_parts(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Return (weight, bias, eps) of a LayerNorm."""
    if not isinstance(module, nn.LayerNorm):
        raise TypeError(f"expected a LayerNorm, got {type(module).__name__}")
    return module.weight.detach(), module.bias.detach(), float(module.eps)


def block_weights(
    qkv: tuple[torch.Tensor, torch.Tensor],
    out: tuple[torch.Tensor, torch.Tensor],
    block: nn.Module,
    heads: int,
) -> BlockWeights:
    """Collect a block's weights given its fused q/k/v and output projections."""
    return BlockWeights(
        qkv_weight=qkv[0],
        qkv_bias=qkv[1],
        out_weight=out[0],
        out_bias=out[1],
        norm1=norm_parts(block.norm1),
        ffn_in=linear_parts(block.ffn[0]),
        ffn_out=linear_parts(block.ffn[3]),
        norm2=norm_parts(block.norm2),
        heads=heads,
    )


def move_block(block: BlockWeights, device: torch.device, dtype: torch.dtype) -> BlockWeights:
    """Return the block's tensors on `device` in `dtype` (contiguous)."""

    def move(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(device=device, dtype=dtype).contiguous()

    return BlockWeights(
        qkv_weight=move(block.qkv_weight),
        qkv_bias=move(block.qkv_bias),
        out_weight=move(block.out_weight),
        out_bias=move(block.out_bias),
        norm1=(move(block.norm1[0]), move(block.norm1[1]), block.norm1[2]),
        ffn_in=(move(block.ffn_in[0]), move(block.ffn_in[1])),
        ffn_out=(move(block.ffn_out[0]), move(block.ffn_out[1])),
        norm2=(move(block.norm2[0]), move(block.norm2[1]), block.norm2[2]),
        heads=block.heads,
    )


def _norm(x: torch.Tensor, parts: tuple[torch.Tensor, torch.Tensor, float]) -> torch.Tensor:
    weight, bias, eps = parts
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def _feed_forward(x: torch.Tensor, block: BlockWeights) -> torch.Tensor:
    hidden = F.gelu(F.linear(x, *block.ffn_in))
    return _norm(x + F.linear(hidden, *block.ffn_out), block.norm2)


def full_block(x: torch.Tensor, block: BlockWeights, causal: bool) -> torch.Tensor:
    """Apply a block to every position of x (B, L, D)."""
    batch, length, width = x.shape
    heads = block.heads
    qkv = F.linear(x, block.qkv_weight, block.qkv_bias)
    q, k, v = qkv.view(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
    mixed = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    mixed = mixed.transpose(1, 2).reshape(batch, length, width)
    x = _norm(x + F.linear(mixed, block.out_weight, block.out_bias), block.norm1)
    return _feed_forward(x, block)


def last_block(x: torch.Tensor, block: BlockWeights) -> torch.Tensor:
    """Apply a block to the last position only (B, 1, D); it attends to every position.

    Exact for the causal and the unmasked model alike: the last query may see every key.
    """
    batch, length, width = x.shape
    heads = block.heads
    head = width // heads
    kv = F.linear(x, block.qkv_weight[width:], block.qkv_bias[width:])
    k, v = kv.view(batch, length, 2, heads, head).permute(2, 0, 3, 1, 4)
    last = x[:, -1:]
    q = F.linear(last, block.qkv_weight[:width], block.qkv_bias[:width])
    q = q.view(batch, 1, heads, head).transpose(1, 2)
    mixed = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, 1, width)
    last = _norm(last + F.linear(mixed, block.out_weight, block.out_bias), block.norm1)
    return _feed_forward(last, block)


def run_blocks(x: torch.Tensor, blocks: Sequence[BlockWeights], causal: bool) -> torch.Tensor:
    """Run all blocks and return the last position's output (B, D)."""
    for block in blocks[:-1]:
        x = full_block(x, block, causal)
    return last_block(x, blocks[-1])[:, 0]
