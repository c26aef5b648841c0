"""FLAG-TRADER's frozen base regenerated from a seed, and the checksum that pins it.

The base weights of the user's FLAG-TRADER were PyTorch's default random init, so our own
checkpoints store `base_seed` + `base_sha256` instead of 85 M frozen numbers (about 340 MB).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from trader.models.flag_trader import FlagTraderConfig

_PROJECTIONS = ("attention.q_proj", "attention.k_proj", "attention.v_proj", "attention.out_proj")


def base_layers(config: FlagTraderConfig) -> Iterator[tuple[str, int, int]]:
    """Yield (prefix, in_features, out_features) of every frozen base Linear, in model order."""
    width = config.hidden_dim
    for index in range(config.num_layers):
        block = f"transformer_blocks.{index}"
        for projection in _PROJECTIONS:
            yield f"{block}.{projection}.base", width, width
        yield f"{block}.ffn.0.base", width, config.ffn_dim
        yield f"{block}.ffn.3.base", config.ffn_dim, width


def base_parameter_names(config: FlagTraderConfig) -> list[str]:
    """Return the state-dict names of the frozen base weights and biases."""
    names = []
    for prefix, _, _ in base_layers(config):
        names += [f"{prefix}.weight", f"{prefix}.bias"]
    return names


def build_seeded_base(seed: int, config: FlagTraderConfig) -> dict[str, torch.Tensor]:
    """Regenerate the frozen base deterministically on the CPU (float32).

    Each Linear is drawn like PyTorch's default init, U(-1/√fan_in, 1/√fan_in) for weight then
    bias, layer after layer in model order, from one `torch.Generator` seeded with `seed`.
    Generation is always on the CPU so the numbers do not depend on the device.
    """
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for prefix, fan_in, fan_out in base_layers(config):
        bound = 1.0 / math.sqrt(fan_in)
        weight = torch.empty(fan_out, fan_in, dtype=torch.float32)
        weight.uniform_(-bound, bound, generator=generator)
        bias = torch.empty(fan_out, dtype=torch.float32)
        bias.uniform_(-bound, bound, generator=generator)
        tensors[f"{prefix}.weight"] = weight
        tensors[f"{prefix}.bias"] = bias
    return tensors


def base_checksum(tensors: Mapping[str, torch.Tensor]) -> str:
    """Return the sha256 of base tensors: per name in ascending order, name, shape, float32 bytes.

    Each entry contributes `name + "\\n" + "AxB" + "\\n"` in UTF-8 followed by the tensor's
    float32 values in little-endian C order.
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to(device="cpu", dtype=torch.float32).contiguous()
        shape = "x".join(str(size) for size in tensor.shape)
        digest.update(f"{name}\n{shape}\n".encode())
        digest.update(tensor.numpy().data)
    return digest.hexdigest()
