"""Builders of the user's checkpoint layouts (himari_checkpoints.md) and reference forwards.

The layouts are written from the spec tables, and the reference forwards from models.md with
plain tensor ops in float64, so that they check `trader.models` rather than repeat it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

Shapes = list[tuple[str, tuple[int, ...]]]


# ---------------------------------------------------------------- layouts (names and shapes)


def baseline_shapes() -> Shapes:
    shapes: Shapes = []
    for linear, norm, (fan_out, fan_in) in ((0, 1, (128, 60)), (4, 5, (64, 128)), (8, 9, (32, 64))):
        shapes += [
            (f"features.{linear}.weight", (fan_out, fan_in)),
            (f"features.{linear}.bias", (fan_out,)),
            (f"features.{norm}.weight", (fan_out,)),
            (f"features.{norm}.bias", (fan_out,)),
            (f"features.{norm}.running_mean", (fan_out,)),
            (f"features.{norm}.running_var", (fan_out,)),
            (f"features.{norm}.num_batches_tracked", ()),
        ]
    return [*shapes, ("classifier.weight", (3, 32)), ("classifier.bias", (3,))]


def cql_shapes() -> Shapes:
    return [
        ("network.0.weight", (256, 65)),
        ("network.0.bias", (256,)),
        ("network.1.weight", (256,)),
        ("network.1.bias", (256,)),
        ("network.4.weight", (256, 256)),
        ("network.4.bias", (256,)),
        ("network.5.weight", (256,)),
        ("network.5.bias", (256,)),
        ("network.8.weight", (128, 256)),
        ("network.8.bias", (128,)),
        ("network.11.weight", (3, 128)),
        ("network.11.bias", (3,)),
    ]


def cgdt_shapes() -> Shapes:
    shapes: Shapes = [
        ("state_encoder.weight", (256, 60)),
        ("state_encoder.bias", (256,)),
        ("action_encoder.weight", (3, 256)),
        ("return_encoder.weight", (256, 1)),
        ("return_encoder.bias", (256,)),
        ("timestep_encoder.weight", (64, 256)),
        ("pos_encoding.pe", (1, 192, 256)),
    ]
    for n in range(6):
        b = f"transformer_blocks.{n}"
        shapes += [
            (f"{b}.attention.in_proj_weight", (768, 256)),
            (f"{b}.attention.in_proj_bias", (768,)),
            (f"{b}.attention.out_proj.weight", (256, 256)),
            (f"{b}.attention.out_proj.bias", (256,)),
            (f"{b}.norm1.weight", (256,)),
            (f"{b}.norm1.bias", (256,)),
            (f"{b}.norm2.weight", (256,)),
            (f"{b}.norm2.bias", (256,)),
            (f"{b}.ffn.0.weight", (1024, 256)),
            (f"{b}.ffn.0.bias", (1024,)),
            (f"{b}.ffn.3.weight", (256, 1024)),
            (f"{b}.ffn.3.bias", (256,)),
        ]
    return [
        *shapes,
        ("action_predictor.0.weight", (256,)),
        ("action_predictor.0.bias", (256,)),
        ("action_predictor.1.weight", (3, 256)),
        ("action_predictor.1.bias", (3,)),
    ]


def cgdt_critic_shapes() -> Shapes:
    return [
        ("network.0.weight", (256, 60)),
        ("network.0.bias", (256,)),
        ("network.1.weight", (256,)),
        ("network.1.bias", (256,)),
        ("network.4.weight", (128, 256)),
        ("network.4.bias", (128,)),
        ("network.6.weight", (1, 128)),
        ("network.6.bias", (1,)),
    ]


def _lora(prefix: str, fan_in: int, fan_out: int, rank: int) -> Shapes:
    return [
        (f"{prefix}.base.weight", (fan_out, fan_in)),
        (f"{prefix}.base.bias", (fan_out,)),
        (f"{prefix}.lora.lora_A", (fan_in, rank)),
        (f"{prefix}.lora.lora_B", (rank, fan_out)),
    ]


def flag_shapes(
    width: int = 768, layers: int = 12, ffn: int = 3072, rank: int = 16, max_length: int = 256
) -> Shapes:
    """The user's FLAG-TRADER layout; smaller sizes give the same names for cheap tests."""
    shapes: Shapes = [
        ("pos_embedding", (1, max_length, width)),
        ("state_embedding.weight", (width, 60)),
        ("state_embedding.bias", (width,)),
    ]
    for n in range(layers):
        b = f"transformer_blocks.{n}"
        for projection in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes += _lora(f"{b}.attention.{projection}", width, width, rank)
        shapes += [
            (f"{b}.norm1.weight", (width,)),
            (f"{b}.norm1.bias", (width,)),
            (f"{b}.norm2.weight", (width,)),
            (f"{b}.norm2.bias", (width,)),
        ]
        shapes += _lora(f"{b}.ffn.0", width, ffn, rank) + _lora(f"{b}.ffn.3", ffn, width, rank)
    return [
        *shapes,
        ("output_norm.weight", (width,)),
        ("output_norm.bias", (width,)),
        ("action_head.weight", (3, width)),
        ("action_head.bias", (3,)),
    ]


def ppo_shapes() -> Shapes:
    shapes: Shapes = [
        ("feature_net.0.weight", (128, 65)),
        ("feature_net.0.bias", (128,)),
        ("feature_net.1.weight", (128,)),
        ("feature_net.1.bias", (128,)),
    ]
    for layer in (0, 1):
        shapes += [
            (f"lstm.weight_ih_l{layer}", (512, 128)),
            (f"lstm.weight_hh_l{layer}", (512, 128)),
            (f"lstm.bias_ih_l{layer}", (512,)),
            (f"lstm.bias_hh_l{layer}", (512,)),
        ]
    return [
        *shapes,
        ("actor.0.weight", (64, 128)),
        ("actor.0.bias", (64,)),
        ("actor.2.weight", (3, 64)),
        ("actor.2.bias", (3,)),
        ("critic.0.weight", (64, 128)),
        ("critic.0.bias", (64,)),
        ("critic.2.weight", (1, 64)),
        ("critic.2.bias", (1,)),
    ]


def random_state(shapes: Shapes, seed: int, norm_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Seeded random tensors of the given layout, scaled so activations stay near unit size."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, Any] = {}
    for name, shape in shapes:
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(1234, dtype=torch.int64)
            continue
        noise = torch.randn(shape, generator=generator)
        is_norm = any(name.startswith(prefix) for prefix in norm_names) or ".norm" in name
        if name.endswith("running_var"):
            state[name] = torch.rand(shape, generator=generator) + 0.5
        elif name.endswith("running_mean"):
            state[name] = 0.1 * noise
        elif is_norm and name.endswith("weight"):
            state[name] = 1.0 + 0.1 * noise
        elif name.endswith("lora_A"):
            state[name] = noise / math.sqrt(shape[0])
        elif name.endswith("lora_B"):
            state[name] = 0.2 * noise / math.sqrt(shape[0])
        elif len(shape) == 2 and "encoder.weight" not in name:
            state[name] = noise / math.sqrt(shape[1])
        else:
            state[name] = 0.1 * noise
    return state


# ------------------------------------------------------------------------- legacy files


def save_baseline(path: Path, seed: int = 1) -> dict[str, Any]:
    state = random_state(baseline_shapes(), seed, ("features.1", "features.5", "features.9"))
    torch.save(
        {
            "model_state_dict": state,
            "model_config": {"input_dim": 60, "num_classes": 3, "architecture": "BaselineMLP"},
        },
        path,
    )
    return state


def save_cql(path: Path, seed: int = 2, with_targets: bool = True) -> dict[str, Any]:
    norms = ("network.1", "network.5")
    payload: dict[str, Any] = {
        "q_network1": random_state(cql_shapes(), seed, norms),
        "q_network2": random_state(cql_shapes(), seed + 1, norms),
    }
    if with_targets:
        payload["q_target1"] = random_state(cql_shapes(), seed + 2, norms)
        payload["q_target2"] = random_state(cql_shapes(), seed + 3, norms)
    payload["config"] = {
        "state_dim": 65,
        "action_dim": 3,
        "alpha": 2.0,
        "gamma": 0.99,
        "tau": 0.005,
    }
    torch.save(payload, path)
    return payload


def save_cgdt(path: Path, seed: int = 3) -> dict[str, Any]:
    payload = {
        "dt": random_state(cgdt_shapes(), seed, ("action_predictor.0",)),
        "critic": random_state(cgdt_critic_shapes(), seed + 1, ("network.1",)),
        "config": {"state_dim": 60, "action_dim": 3, "max_length": 64, "critic_weight": 0.1},
    }
    torch.save(payload, path)
    return payload


def save_ppo(path: Path, seed: int = 5) -> dict[str, Any]:
    state = random_state(ppo_shapes(), seed, ("feature_net.1",))
    # The optimizer entry is Adam's state_dict: plain tensors, numbers, tuples and dicts.
    params = [torch.nn.Parameter(state[name].clone()) for name, _ in ppo_shapes()]
    optimizer = torch.optim.Adam(params, lr=3e-4)
    sum(p.sum() for p in params).backward()
    optimizer.step()
    payload = {
        "ac_network": state,
        "optimizer": optimizer.state_dict(),
        "config": {
            "state_dim": 65,
            "action_dim": 3,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "clip_epsilon": 0.2,
            "value_coef": 0.5,
            "entropy_coef": 0.01,
        },
    }
    torch.save(payload, path)
    return payload


def flag_state(seed: int = 4, **sizes: int) -> dict[str, Any]:
    return random_state(flag_shapes(**sizes), seed, ("output_norm",))


# --------------------------------------------------------------- reference forwards (float64)


def _d(state: dict[str, Any], name: str) -> torch.Tensor:
    return state[name].double()


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * weight + bias


def gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def linear(state: dict[str, Any], prefix: str, x: torch.Tensor) -> torch.Tensor:
    return x @ _d(state, f"{prefix}.weight").T + _d(state, f"{prefix}.bias")


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, causal: bool
) -> torch.Tensor:
    """Multi-head attention written out: per head softmax(QKᵀ/√d [+ mask]) V, concatenated."""
    _batch, length, width = q.shape
    size = width // heads
    outputs = []
    for h in range(heads):
        part = slice(h * size, (h + 1) * size)
        scores = q[..., part] @ k[..., part].transpose(1, 2) / math.sqrt(size)
        if causal:
            future = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        weights = torch.exp(scores - scores.max(-1, keepdim=True).values)
        weights = weights / weights.sum(-1, keepdim=True)
        outputs.append(weights @ v[..., part])
    return torch.cat(outputs, dim=-1)


def baseline_reference(state: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    h = x.double()
    for linear_index, norm in ((0, 1), (4, 5), (8, 9)):
        h = linear(state, f"features.{linear_index}", h)
        p = f"features.{norm}"
        h = (h - _d(state, f"{p}.running_mean")) / torch.sqrt(_d(state, f"{p}.running_var") + 1e-5)
        h = torch.relu(h * _d(state, f"{p}.weight") + _d(state, f"{p}.bias"))
    return linear(state, "classifier", h)


def q_reference(state: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    h = x.double()
    for index, norm in ((0, 1), (4, 5)):
        h = linear(state, f"network.{index}", h)
        h = torch.relu(
            layer_norm(h, _d(state, f"network.{norm}.weight"), _d(state, f"network.{norm}.bias"))
        )
    h = torch.relu(linear(state, "network.8", h))
    return linear(state, "network.11", h)


def cgdt_reference(
    state: dict[str, Any],
    states: torch.Tensor,
    actions: torch.Tensor,
    returns_to_go: torch.Tensor,
    timesteps: torch.Tensor,
    heads: int = 8,
) -> torch.Tensor:
    time = _d(state, "timestep_encoder.weight")[timesteps]
    s = linear(state, "state_encoder", states.double()) + time
    a = _d(state, "action_encoder.weight")[actions] + time
    r = returns_to_go.double().unsqueeze(-1) * _d(state, "return_encoder.weight")[:, 0]
    r = r + _d(state, "return_encoder.bias") + time
    steps = states.shape[1]
    tokens = []
    for t in range(steps):
        tokens += [r[:, t], s[:, t], a[:, t]]
    x = torch.stack(tokens, dim=1) + _d(state, "pos_encoding.pe")[:, : 3 * steps]
    width = x.shape[-1]
    for n in range(6):
        b = f"transformer_blocks.{n}"
        w_in, b_in = (
            _d(state, f"{b}.attention.in_proj_weight"),
            _d(state, f"{b}.attention.in_proj_bias"),
        )
        q = x @ w_in[:width].T + b_in[:width]
        k = x @ w_in[width : 2 * width].T + b_in[width : 2 * width]
        v = x @ w_in[2 * width :].T + b_in[2 * width :]
        mixed = linear(state, f"{b}.attention.out_proj", attention(q, k, v, heads, causal=True))
        x = layer_norm(x + mixed, _d(state, f"{b}.norm1.weight"), _d(state, f"{b}.norm1.bias"))
        ffn = linear(state, f"{b}.ffn.3", gelu(linear(state, f"{b}.ffn.0", x)))
        x = layer_norm(x + ffn, _d(state, f"{b}.norm2.weight"), _d(state, f"{b}.norm2.bias"))
    state_positions = [3 * t + 1 for t in range(steps)]
    x = x[:, state_positions]
    x = layer_norm(x, _d(state, "action_predictor.0.weight"), _d(state, "action_predictor.0.bias"))
    return linear(state, "action_predictor.1", x)


def critic_reference(state: dict[str, Any], x: torch.Tensor) -> torch.Tensor:
    h = linear(state, "network.0", x.double())
    h = torch.relu(layer_norm(h, _d(state, "network.1.weight"), _d(state, "network.1.bias")))
    h = torch.relu(linear(state, "network.4", h))
    return linear(state, "network.6", h)


def flag_reference(
    state: dict[str, Any],
    states: torch.Tensor,
    heads: int = 12,
    causal: bool = False,
    scaling: float = 16.0 / 16,
) -> torch.Tensor:
    def lora(prefix: str, x: torch.Tensor) -> torch.Tensor:
        update = x @ _d(state, f"{prefix}.lora.lora_A") @ _d(state, f"{prefix}.lora.lora_B")
        return linear(state, f"{prefix}.base", x) + update * scaling

    layers = len({name.split(".")[1] for name in state if name.startswith("transformer_blocks.")})
    length = states.shape[1]
    x = linear(state, "state_embedding", states.double()) + _d(state, "pos_embedding")[:, :length]
    for n in range(layers):
        b = f"transformer_blocks.{n}"
        q, k, v = (lora(f"{b}.attention.{p}_proj", x) for p in ("q", "k", "v"))
        mixed = lora(f"{b}.attention.out_proj", attention(q, k, v, heads, causal))
        x = layer_norm(x + mixed, _d(state, f"{b}.norm1.weight"), _d(state, f"{b}.norm1.bias"))
        ffn = lora(f"{b}.ffn.3", gelu(lora(f"{b}.ffn.0", x)))
        x = layer_norm(x + ffn, _d(state, f"{b}.norm2.weight"), _d(state, f"{b}.norm2.bias"))
    x = layer_norm(x, _d(state, "output_norm.weight"), _d(state, "output_norm.bias"))
    return linear(state, "action_head", x)


def ppo_reference(
    state: dict[str, Any], obs: torch.Tensor, h: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step: obs (B, 65), h and c (2, B, 128) → logits, value, new h, new c."""
    x = linear(state, "feature_net.0", obs.double())
    x = torch.tanh(
        layer_norm(x, _d(state, "feature_net.1.weight"), _d(state, "feature_net.1.bias"))
    )
    new_h, new_c = [], []
    for layer in (0, 1):
        gates = (
            x @ _d(state, f"lstm.weight_ih_l{layer}").T
            + _d(state, f"lstm.bias_ih_l{layer}")
            + h[layer].double() @ _d(state, f"lstm.weight_hh_l{layer}").T
            + _d(state, f"lstm.bias_hh_l{layer}")
        )
        i, f, g, o = gates.chunk(4, dim=-1)
        cell = torch.sigmoid(f) * c[layer].double() + torch.sigmoid(i) * torch.tanh(g)
        hidden = torch.sigmoid(o) * torch.tanh(cell)
        new_h.append(hidden)
        new_c.append(cell)
        x = hidden
    logits = linear(state, "actor.2", torch.tanh(linear(state, "actor.0", x)))
    value = linear(state, "critic.2", torch.tanh(linear(state, "critic.0", x)))
    return logits, value, torch.stack(new_h), torch.stack(new_c)
