"""Offline discrete CQL with real fee-inclusive rewards and real next states (docs/training.md).

Each action is a trade idea held for the label horizon h: BUY earns R − 2·fee, SELL −R − 2·fee,
HOLD 0, where R = c[i+h]/c[i] − 1 is the real return; the next state is the bar h later. All
three actions are in the data for every state: our orders do not move the market, so the
reward of each is known.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import structlog
import torch
from pydantic import BaseModel, ConfigDict, Field

from trader.models import CQLConfig, CQLPolicy, CQLQNetwork
from trader.training.dataset import HOLD
from trader.training.loop import (
    BestKeeper,
    minibatches,
    predict_batches,
    resolve_device,
    seed_everything,
    torch_threads,
)
from trader.training.metrics import accuracy
from trader.training.prepared import PreparedData
from trader.training.trainer import TrainedModel, TrainOptions

log = structlog.get_logger(__name__)

PORTFOLIO_SLOTS = 5


class CQLTrainingConfig(BaseModel):
    """Hyper-parameters of the CQL trainer (alpha and tau as the user's; gamma see the docs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: CQLConfig = CQLConfig()
    epochs: int = Field(default=20, ge=1)
    quick_epochs: int = Field(default=2, ge=1)
    batch_size: int = Field(default=512, ge=2)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    alpha: float = Field(default=2.0, ge=0.0)
    # The action does not change the next state (position is not observed, orders do not move
    # the market), so the bootstrapped term is the same for all three actions: it cannot change
    # which is best, only add variance. A small gamma keeps Q close to the real trade value.
    gamma: float = Field(default=0.5, ge=0.0, lt=1.0)
    tau: float = Field(default=0.005, gt=0.0, le=1.0)
    # Rewards in percent: Q-values of order 0.1–1 train well and read as "% per trade".
    reward_scale: float = Field(default=100.0, gt=0.0)
    patience: int = Field(default=5, ge=1)
    grad_clip: float = Field(default=10.0, gt=0.0)


def commitment_rewards(forward_return: np.ndarray, fee_rate: float) -> np.ndarray:
    """Return (N, 3) rewards [SELL, HOLD, BUY] = [−R − 2·fee, 0, R − 2·fee] of real returns R.

    BUY from flat pays the entry and, later, the exit fee; SELL from long pays the exit and a
    later re-entry and avoids R. With fee 0.1 % the best action is exactly the label.
    """
    r = np.asarray(forward_return, dtype=np.float64)
    cost = 2.0 * fee_rate
    return np.stack([-r - cost, np.zeros_like(r), r - cost], axis=1)


def cql_states(inputs: np.ndarray) -> np.ndarray:
    """Return the 65-vector states: normalised features then 5 zero portfolio slots."""
    slots = np.zeros((len(inputs), PORTFOLIO_SLOTS), dtype=np.float32)
    return np.concatenate([np.asarray(inputs, dtype=np.float32), slots], axis=1)


def _soft_update(target: torch.nn.Module, source: torch.nn.Module, tau: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.lerp_(s, tau)


def _transitions(data: PreparedData, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (rows with a next state h bars later, their next rows)."""
    following = data.dataset.row_after(rows, data.dataset.horizon_bars)
    keep = following >= 0
    return rows[keep], following[keep]


def train_cql(
    data: PreparedData,
    options: TrainOptions,
    config: CQLTrainingConfig | None = None,
) -> TrainedModel:
    """Train two Q-networks with target copies; keep the epoch of best validation reward."""
    config = config or CQLTrainingConfig()
    epochs = options.epochs or (config.quick_epochs if options.quick else config.epochs)
    device = resolve_device(options.device)
    rng = seed_everything(options.seed)
    fee = data.backtest.fee_rate
    states_all = cql_states(data.inputs)
    rewards_all = commitment_rewards(data.dataset.forward_return, fee) * config.reward_scale
    rows, next_rows = _transitions(data, data.split.train)
    with torch_threads(options.threads):
        states = torch.from_numpy(states_all[rows]).to(device)
        next_states = torch.from_numpy(states_all[next_rows]).to(device)
        rewards = torch.from_numpy(rewards_all[rows].astype(np.float32)).to(device)
        policy = CQLPolicy(config.model).to(device)
        targets = [copy.deepcopy(policy.q1).eval(), copy.deepcopy(policy.q2).eval()]
        for target in targets:
            target.requires_grad_(False)
        optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
        keeper = BestKeeper(higher_is_better=True, patience=config.patience)
        val_rows = data.split.val
        val_states = states_all[val_rows]
        val_rewards = rewards_all[val_rows]
        val_labels = data.dataset.labels[val_rows]
        history: list[dict[str, float]] = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            policy.train()
            sums = {"td_loss": 0.0, "cql_penalty": 0.0}
            steps = 0
            for batch in minibatches(len(rows), config.batch_size, rng):
                index = torch.from_numpy(batch).to(device)
                td, penalty = _losses(policy, targets, states, next_states, rewards, index, config)
                loss = td + config.alpha * penalty
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
                optimizer.step()
                _soft_update(targets[0], policy.q1, config.tau)
                _soft_update(targets[1], policy.q2, config.tau)
                sums["td_loss"] += td.item()
                sums["cql_penalty"] += penalty.item()
                steps += 1
            policy.eval()
            q_val = predict_batches(policy, val_states, device=device)
            chosen = q_val.argmax(axis=1)
            val_reward = float(val_rewards[np.arange(len(chosen)), chosen].mean())
            record = {
                "epoch": epoch,
                "td_loss": sums["td_loss"] / max(steps, 1),
                "cql_penalty": sums["cql_penalty"] / max(steps, 1),
                "val_reward_pct": val_reward * 100.0 / config.reward_scale,
                "val_accuracy": accuracy(val_labels, chosen),
                "val_hold_share": float(np.mean(chosen == HOLD)),
            }
            history.append(record)
            if keeper.end_epoch("cql", epoch, val_reward, policy, record, started):
                break
        keeper.restore(policy)
        policy.eval()
        q_test = predict_batches(policy, states_all[data.split.test], device=device)
    spread = q_test.max(axis=1) - q_test.min(axis=1)
    return TrainedModel(
        kind="cql",
        module=policy.cpu(),
        config=config.model,
        test_actions=q_test.argmax(axis=1).astype(np.int64),
        epochs=len(history),
        best_epoch=keeper.best_epoch,
        history=history,
        hyperparameters=config.model_dump(mode="json", exclude={"model"})
        | {
            "selection": "highest mean validation reward of the greedy policy",
            "optimizer": "Adam",
            "fee_rate": fee,
            "reward": "per action over h bars: [SELL, HOLD, BUY] = [-R-2fee, 0, R-2fee], "
            "R = c[i+h]/c[i]-1, times reward_scale; next state = bar i+h",
            "dataset_actions": "all three per state (counterfactual rewards known)",
        },
        notes={
            "q_units": "percent of equity per trade when reward_scale is 100",
            "test_q_spread_median": float(np.median(spread)),
            "test_q_spread_p90": float(np.quantile(spread, 0.9)),
            "train_transitions": len(rows),
        },
    )


def _losses(
    policy: CQLPolicy,
    targets: list[CQLQNetwork],
    states: torch.Tensor,
    next_states: torch.Tensor,
    rewards: torch.Tensor,
    index: torch.Tensor,
    config: CQLTrainingConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (TD loss over all three actions of both nets, mean CQL penalty of both nets)."""
    s, s_next, r = states[index], next_states[index], rewards[index]
    with torch.no_grad():
        next_q = torch.minimum(targets[0](s_next), targets[1](s_next))
        y = r + config.gamma * next_q.max(dim=1, keepdim=True).values
    td = torch.zeros((), device=s.device)
    penalty = torch.zeros((), device=s.device)
    for network in (policy.q1, policy.q2):
        q = network(s)
        td = td + torch.mean((q - y) ** 2)
        # Every action is in the data for every state, so E_data[Q(s, a)] is the mean over a:
        # the penalty logsumexp Q − mean Q shrinks Q-value gaps that noise alone would open.
        penalty = penalty + torch.mean(torch.logsumexp(q, dim=1) - q.mean(dim=1))
    return td, penalty / 2.0
