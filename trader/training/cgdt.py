"""Train CGDT honestly: causal action tokens, returns-to-go from real net returns, a real critic.

Every token a position sees is known at its bar's close (docs/training.md, "CGDT"):
- action tokens are a causal behaviour policy's actions: b_t = the label of the bar h earlier
  (known at t: it only needs c[t]/c[t−h]), a share replaced by random actions;
- rewards r_t are the net returns over bar t→t+1 of the long/flat position those actions hold,
  fees included (the backtest's rule); the target G is a quantile of the real K-bar return of
  that trajectory over the training windows (stored in the manifest as `target_return`);
- returns-to-go: "constant" (default) feeds R_j = G at every step, exactly what the ensemble's
  CGDT member feeds; "realised" feeds the run-time recursion R_j = G − Σ_{i<j} r_i (needs the
  closes at run time). A hindsight return-to-go would hand the model the future.
The model predicts the label at every position; the critic learns the real opportunity
max(|R_h| − 2·fee, 0) of each state and weights the loss towards states with room to trade.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import structlog
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from trader.errors import DataError
from trader.models import CGDT, CGDTConfig, CGDTCritic
from trader.training.backtest import net_returns
from trader.training.dataset import BUY, HOLD, SELL, LabeledDataset, make_labels
from trader.training.loop import BestKeeper, resolve_device, seed_everything, torch_threads
from trader.training.metrics import accuracy, macro_f1
from trader.training.prepared import PreparedData
from trader.training.trainer import TrainedModel, TrainOptions
from trader.training.windows import (
    autocast,
    decision_windows,
    gather_windows,
    predict_windows,
    run_starts,
    training_starts,
)

log = structlog.get_logger(__name__)

# 4.8 M float32 parameters of the user's size are 19 MB, over the 16 MB a shipped file may be;
# this width also trains in minutes on a CPU. The window is what the ensemble must feed.
SHIPPED_MODEL = CGDTConfig(hidden_dim=128, num_layers=3, num_heads=4, ffn_dim=512, max_length=32)


class CGDTTrainingConfig(BaseModel):
    """Hyper-parameters of the CGDT trainer; `model.max_length` is the window K."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: CGDTConfig = SHIPPED_MODEL
    epochs: int = Field(default=6, ge=1)
    quick_epochs: int = Field(default=1, ge=1)
    steps_per_epoch: int = Field(default=20, ge=1)
    batch_size: int = Field(default=64, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    grad_clip: float = Field(default=1.0, gt=0.0)
    patience: int = Field(default=3, ge=1)
    critic_weight: float = Field(default=0.1, ge=0.0)
    critic_guidance: float = Field(default=0.5, ge=0.0, le=1.0)
    behaviour_noise: float = Field(default=0.1, ge=0.0, le=1.0)
    target_quantile: float = Field(default=0.9, gt=0.0, lt=1.0)
    returns_to_go_mode: Literal["constant", "realised"] = "constant"
    own_action_lanes: int = Field(default=16, ge=1)
    reward_scale: float = Field(default=100.0, gt=0.0)
    eval_stride: int = Field(default=8, ge=1)
    val_windows: int = Field(default=256, ge=1)
    eval_batch_size: int = Field(default=256, ge=1)

    @classmethod
    def for_device(cls, device: torch.device) -> CGDTTrainingConfig:
        """Return the default schedule for a device: minutes on a CPU, more steps on CUDA."""
        if device.type == "cuda":
            return cls(
                epochs=20, steps_per_epoch=50, batch_size=256, eval_stride=1, val_windows=4096
            )
        return cls()


def behaviour_actions(
    dataset: LabeledDataset, noise: float = 0.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Return each row's behaviour action: the label of the row h bars earlier (HOLD if none).

    That label is c[t]/c[t−h] − 1 against the threshold: known at bar t's close. A share
    `noise` of the actions is replaced by uniform random ones so the model does not lean on
    the tokens (at run time they are the system's own actions).
    """
    rows = np.arange(len(dataset), dtype=np.int64)
    earlier = dataset.row_after(rows, -dataset.horizon_bars)
    actions = np.where(earlier >= 0, dataset.labels[np.maximum(earlier, 0)], HOLD)
    if noise > 0.0:
        rng = rng or np.random.default_rng(0)
        flip = rng.random(len(actions)) < noise
        actions = np.where(flip, rng.integers(SELL, BUY + 1, len(actions)), actions)
    return actions.astype(np.int64)


def behaviour_action_from_closes(
    closes: np.ndarray, horizon_bars: int = 5, threshold: float = 0.002
) -> int:
    """Return the behaviour action at the last of `closes`: the label of the bar h earlier."""
    if len(closes) <= horizon_bars:
        return HOLD
    change = np.array([closes[-1] / closes[-1 - horizon_bars] - 1.0])
    return int(make_labels(change, threshold)[0])


def trajectory_rewards(dataset: LabeledDataset, actions: np.ndarray, fee_rate: float) -> np.ndarray:
    """Return per row the net return over the next bar of the position `actions` hold.

    Long after BUY, flat after SELL, unchanged on HOLD, fee on every change (the backtest's
    rule); the book starts flat at the first bar of each run of consecutive bars.
    """
    rewards = np.zeros(len(dataset), dtype=np.float64)
    first = run_starts(dataset)
    for start in np.unique(first):
        run = np.flatnonzero(first == start)
        rewards[run], _ = net_returns(dataset.next_return[run], actions[run], fee_rate)
    return rewards


def returns_to_go(target: float, rewards: np.ndarray) -> np.ndarray:
    """Return R_j = target − Σ_{i<j} r_i along the last axis (the run-time recursion)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    done = np.cumsum(rewards, axis=-1) - rewards
    return (target - done).astype(np.float32)


def opportunity(forward_return: np.ndarray, fee_rate: float) -> np.ndarray:
    """Return max(|R| − 2·fee, 0): what the best trade over the label horizon earns, net."""
    return np.maximum(np.abs(np.asarray(forward_return)) - 2.0 * fee_rate, 0.0)


def target_return(rewards: np.ndarray, starts: np.ndarray, length: int, quantile: float) -> float:
    """Return the `quantile` of the behaviour's summed reward over the training windows."""
    sums = gather_windows(rewards, starts, length).sum(axis=1)
    return float(np.quantile(sums, quantile))


class _Tensors:
    """The per-row arrays of one training run, and window batches built from them."""

    def __init__(
        self,
        data: PreparedData,
        config: CGDTTrainingConfig,
        actions: np.ndarray,
        rewards: np.ndarray,
        target: float,
        device: torch.device,
    ) -> None:
        self.inputs = data.inputs
        self.labels = data.dataset.labels
        self.actions = actions
        self.rewards = rewards * config.reward_scale
        fee = data.backtest.fee_rate
        self.opportunity = opportunity(data.dataset.forward_return, fee) * config.reward_scale
        self.target = target
        self.constant = config.returns_to_go_mode == "constant"
        self.device = device

    def returns(self, starts: np.ndarray, length: int) -> np.ndarray:
        """Return the returns-to-go tokens (B, length) of windows beginning at `starts`."""
        if self.constant:
            return np.full((len(starts), length), self.target, dtype=np.float32)
        return returns_to_go(self.target, gather_windows(self.rewards, starts, length))

    def window(self, starts: np.ndarray, length: int) -> dict[str, torch.Tensor]:
        """Return the model inputs and targets of windows beginning at `starts`."""
        steps = torch.arange(length, device=self.device).expand(len(starts), length)

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(values)).to(self.device)

        return {
            "states": tensor(gather_windows(self.inputs, starts, length)),
            "actions": tensor(gather_windows(self.actions, starts, length)),
            "returns_to_go": tensor(self.returns(starts, length)),
            "timesteps": steps,
            "labels": tensor(gather_windows(self.labels, starts, length)),
            "opportunity": tensor(
                gather_windows(self.opportunity, starts, length).astype(np.float32)
            ),
        }


def cgdt_losses(
    model: CGDT, critic: CGDTCritic, batch: dict[str, torch.Tensor], config: CGDTTrainingConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (total, weighted cross-entropy at every position, critic MSE)."""
    logits = model(batch["states"], batch["actions"], batch["returns_to_go"], batch["timesteps"])
    values = critic(batch["states"].reshape(-1, batch["states"].shape[-1]))
    values = values.float().view(batch["labels"].shape)
    critic_loss = F.mse_loss(values, batch["opportunity"])
    ce = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), reduction="none"
    )
    # Critic guidance: states the critic expects to move beyond the fees weigh more; the
    # weights are detached so the policy loss cannot bend the critic.
    estimate = values.detach().clamp(min=0.0).reshape(-1)
    relative = estimate / estimate.mean().clamp(min=1e-6)
    weights = (1.0 - config.critic_guidance) + config.critic_guidance * relative.clamp(max=4.0)
    policy_loss = (ce * weights).sum() / weights.sum()
    return policy_loss + config.critic_weight * critic_loss, policy_loss, critic_loss


def train_cgdt(
    data: PreparedData,
    options: TrainOptions,
    config: CGDTTrainingConfig | None = None,
) -> TrainedModel:
    """Train CGDT and its critic on training windows; keep the epoch of lowest validation loss."""
    device = resolve_device(options.device)
    config = config or CGDTTrainingConfig.for_device(device)
    epochs = options.epochs or (config.quick_epochs if options.quick else config.epochs)
    rng = seed_everything(options.seed)
    length = config.model.max_length
    split = data.split
    fee = data.backtest.fee_rate
    actions = behaviour_actions(data.dataset, config.behaviour_noise, rng)
    rewards = trajectory_rewards(data.dataset, actions, fee)
    starts = training_starts(data.dataset, split.train, length)
    if len(starts) == 0:
        raise DataError(
            f"the training part ({len(split.train)} rows) holds no window of {length} "
            "consecutive bars"
        )
    target = target_return(rewards, starts, length, config.target_quantile) * config.reward_scale
    with torch_threads(options.threads):
        tensors = _Tensors(data, config, actions, rewards, target, device)
        model = CGDT(config.model).to(device)
        critic = CGDTCritic(config.model).to(device)
        parameters = [*model.parameters(), *critic.parameters()]
        optimizer = torch.optim.AdamW(
            parameters, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        val_windows = decision_windows(
            data.dataset, split.val, length, min(config.eval_stride, length)
        ).spread(config.val_windows)
        val_rows = val_windows.scored_rows()
        keeper = BestKeeper(higher_is_better=False, patience=config.patience)

        def forward(batch_starts: np.ndarray, size: int) -> torch.Tensor:
            batch = tensors.window(batch_starts, size)
            with autocast(device):
                return model(
                    batch["states"], batch["actions"], batch["returns_to_go"], batch["timesteps"]
                )

        history: list[dict[str, float]] = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            model.train()
            critic.train()
            sums = np.zeros(3)
            for _ in range(config.steps_per_epoch):
                chosen = rng.choice(starts, size=min(config.batch_size, len(starts)), replace=False)
                batch = tensors.window(chosen, length)
                with autocast(device):
                    losses = cgdt_losses(model, critic, batch, config)
                optimizer.zero_grad(set_to_none=True)
                losses[0].backward()
                torch.nn.utils.clip_grad_norm_(parameters, config.grad_clip)
                optimizer.step()
                sums += [loss.item() for loss in losses]
            model.eval()
            critic.eval()
            val_logits = predict_windows(val_windows, val_rows, forward, config.eval_batch_size)
            record = _score(epoch, sums / config.steps_per_epoch, val_logits, data, val_rows)
            history.append(record)
            if keeper.end_epoch(
                "cgdt", epoch, record["val_loss"], _Pair(model, critic), record, started
            ):
                break
        keeper.restore(_Pair(model, critic))
        model.eval()
        critic.eval()
        stride = min(config.eval_stride, length)
        test_windows = decision_windows(data.dataset, split.test, length, stride)
        test_logits = predict_windows(test_windows, split.test, forward, config.eval_batch_size)
        own = own_action_decisions(model, tensors, data, split.test, config.own_action_lanes)
    notes = _notes(data, config, target, actions, rewards, device, stride, len(starts))
    labels = data.dataset.labels[split.test]
    notes["test_with_own_past_decisions"] = {
        "accuracy": accuracy(labels, own),
        "macro_f1": macro_f1(labels, own),
        "lanes": config.own_action_lanes,
        "meaning": "action tokens = CGDT's own earlier decisions (as the ensemble feeds the "
        "system's), test part cut into lanes that start from the behaviour tokens",
    }
    return TrainedModel(
        kind="cgdt",
        module=model.cpu(),
        config=config.model,
        test_actions=test_logits.argmax(axis=1).astype(np.int64),
        epochs=len(history),
        best_epoch=keeper.best_epoch,
        history=history,
        hyperparameters=config.model_dump(mode="json", exclude={"model"})
        | {
            "selection": "lowest validation cross-entropy at decision positions",
            "optimizer": "AdamW (transformer and critic together)",
            "fee_rate": fee,
        },
        auxiliary={"critic": critic.cpu()},
        notes=notes,
    )


@torch.inference_mode()
def own_action_decisions(
    model: CGDT, tensors: _Tensors, data: PreparedData, rows: np.ndarray, lanes: int
) -> np.ndarray:
    """Decide `rows` in time order, feeding the model its own earlier decisions as actions.

    The rows are cut into `lanes` pieces run side by side (one batch per step); bars before
    a piece keep their behaviour actions.
    """
    rows = np.asarray(rows, dtype=np.int64)
    length = model.config.max_length
    first = run_starts(data.dataset)
    tokens = tensors.actions.copy()
    cut = np.flatnonzero((np.diff(rows) != 1) | (first[rows[1:]] != first[rows[:-1]])) + 1
    pieces = [p for block in np.split(rows, cut) for p in np.array_split(block, lanes) if len(p)]
    device = tensors.device
    for t in range(max(len(piece) for piece in pieces)):
        current = np.array([piece[t] for piece in pieces if t < len(piece)], dtype=np.int64)
        starts = np.maximum(current - (length - 1), first[current])
        for size in np.unique(current - starts + 1):
            group = current[current - starts + 1 == size]
            begin = group - (size - 1)
            batch = tensors.window(begin, int(size))
            own = torch.from_numpy(gather_windows(tokens, begin, int(size))).to(device)
            with autocast(device):
                logits = model(batch["states"], own, batch["returns_to_go"], batch["timesteps"])
            tokens[group] = logits[:, -1].float().argmax(dim=-1).cpu().numpy()
    return tokens[rows]


class _Pair(torch.nn.Module):
    """Model and critic as one module, so the best epoch keeps both."""

    def __init__(self, model: CGDT, critic: CGDTCritic) -> None:
        super().__init__()
        self.model = model
        self.critic = critic


def _score(
    epoch: int,
    train: np.ndarray,
    logits: np.ndarray,
    data: PreparedData,
    rows: np.ndarray,
) -> dict[str, float]:
    labels = data.dataset.labels[rows]
    val_loss = float(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels)))
    predicted = logits.argmax(axis=1)
    return {
        "epoch": epoch,
        "train_loss": float(train[0]),
        "train_policy_loss": float(train[1]),
        "train_critic_loss": float(train[2]),
        "val_loss": val_loss,
        "val_accuracy": accuracy(labels, predicted),
        "val_macro_f1": macro_f1(labels, predicted),
        "val_rows": len(rows),
    }


def _notes(
    data: PreparedData,
    config: CGDTTrainingConfig,
    target: float,
    actions: np.ndarray,
    rewards: np.ndarray,
    device: torch.device,
    stride: int,
    windows: int,
) -> dict[str, Any]:
    train = data.split.train
    return {
        "device": str(device),
        "window": config.model.max_length,
        "train_windows": windows,
        "target_return": target,
        "target_return_units": f"percent of equity (reward_scale {config.reward_scale})",
        "target_quantile": config.target_quantile,
        "returns_to_go_mode": config.returns_to_go_mode,
        "returns_to_go": (
            "R_j = target_return at every step (what the ensemble's CGDT member feeds)"
            if config.returns_to_go_mode == "constant"
            else "R_0 = target_return at the window's first bar; R_j = R_0 - sum of r_i for "
            "i < j, r_i = net return over bar i->i+1 of the long/flat position after action i "
            "(fee on each change), times reward_scale"
        ),
        "target_return_source": f"the {config.target_quantile:.0%} quantile over training "
        "windows of the behaviour's summed real net returns (fees included), times reward_scale",
        "previous_actions": "training: the label of the bar horizon_bars earlier (known at "
        f"the bar's close), {config.behaviour_noise:.0%} replaced at random; run time: the "
        "system's own past actions (or behaviour_action_from_closes)",
        "behaviour_train_return_pct": float(np.sum(rewards[train]) * 100.0),
        "behaviour_action_shares": {
            name: float(np.mean(actions[train] == code))
            for name, code in (("SELL", SELL), ("HOLD", HOLD), ("BUY", BUY))
        },
        "eval": f"test rows read at positions with >= {config.model.max_length - stride} bars "
        f"of history (windows every {stride} rows)",
        "critic": "CGDTCritic(state) -> max(|R_h| - 2 fee, 0) * reward_scale, MSE weight "
        f"{config.critic_weight}; CE weights (1-g) + g*V/mean(V), g={config.critic_guidance}",
    }
