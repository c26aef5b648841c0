"""Train PPO-LSTM for real: recurrent PPO (clipped surrogate, value loss, entropy, GAE).

Rollouts run on `VenueEnv` (the simulated venue's fills, slippage and fees) over random
episodes of the training part; the policy with the best greedy return on the validation part
is kept and run greedily over the test part. The user's PPO never called its update step.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch.distributions import Categorical

from trader.errors import DataError
from trader.models import PPOActorCritic, PPOLSTMConfig
from trader.models.ppo_lstm import Hidden
from trader.training.dataset import BUY, HOLD, SELL
from trader.training.loop import BestKeeper, resolve_device, seed_everything, torch_threads
from trader.training.metrics import accuracy
from trader.training.ppo_env import PPOEnvConfig, VenueEnv
from trader.training.prepared import PreparedData
from trader.training.trainer import TrainedModel, TrainOptions
from trader.training.windows import run_starts, training_starts

log = structlog.get_logger(__name__)


class PPOTrainingConfig(BaseModel):
    """Hyper-parameters of recurrent PPO; `epochs` are rounds of updates between validations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: PPOLSTMConfig = PPOLSTMConfig()
    env: PPOEnvConfig = PPOEnvConfig()
    epochs: int = Field(default=6, ge=1)
    quick_epochs: int = Field(default=1, ge=1)
    updates_per_epoch: int = Field(default=20, ge=1)
    envs: int = Field(default=8, ge=1)
    rollout_steps: int = Field(default=128, ge=2)
    episode_steps: int = Field(default=1024, ge=2)
    ppo_epochs: int = Field(default=4, ge=1)
    minibatches: int = Field(default=2, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    # A decision's effect plays out over a holding period of tens of bars; 0.99 (about 8 h of
    # 5-minute bars) made advantages too noisy to learn from in a few hundred updates.
    gamma: float = Field(default=0.9, ge=0.0, le=1.0)
    gae_lambda: float = Field(default=0.9, ge=0.0, le=1.0)
    clip_epsilon: float = Field(default=0.2, gt=0.0)
    value_coef: float = Field(default=0.5, ge=0.0)
    entropy_coef: float = Field(default=0.01, ge=0.0)
    grad_clip: float = Field(default=0.5, gt=0.0)
    patience: int = Field(default=4, ge=1)
    val_lanes: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _shapes(self) -> PPOTrainingConfig:
        if self.episode_steps % self.rollout_steps:
            raise ValueError(
                f"episode_steps ({self.episode_steps}) must be a multiple of rollout_steps "
                f"({self.rollout_steps}) so episodes end on rollout boundaries"
            )
        if self.envs % self.minibatches:
            raise ValueError(f"minibatches ({self.minibatches}) must divide envs ({self.envs})")
        if self.model.state_dim != 65:
            raise ValueError(f"model.state_dim must be 65 (60 + 5), got {self.model.state_dim}")
        return self


@dataclass
class Rollout:
    """One rollout of every env: (N, T) arrays and the hidden state at its first step."""

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    hidden: Hidden
    last_value: torch.Tensor


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (advantages, returns) of (N, T) rollouts by generalised advantage estimation.

    `dones[:, t]` = 1 when step t ended the episode (nothing is bootstrapped past it);
    `last_value` (N,) is V of the state after the last step.
    """
    steps = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(steps)):
        alive = 1.0 - dones[:, t]
        delta = rewards[:, t] + gamma * next_value * alive - values[:, t]
        running = delta + gamma * lam * alive * running
        advantages[:, t] = running
        next_value = values[:, t]
    return advantages, advantages + values


def ppo_losses(
    model: PPOActorCritic,
    rollout: Rollout,
    index: torch.Tensor,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    config: PPOTrainingConfig,
) -> dict[str, torch.Tensor]:
    """Return the clipped surrogate, value and entropy terms for envs `index` of a rollout."""
    hidden = (rollout.hidden[0][:, index], rollout.hidden[1][:, index])
    logits, values, _ = model(rollout.obs[index], hidden)
    dist = Categorical(logits=logits.float())
    log_probs = dist.log_prob(rollout.actions[index])
    ratio = torch.exp(log_probs - rollout.log_probs[index])
    adv = advantages[index]
    clipped = torch.clamp(ratio, 1.0 - config.clip_epsilon, 1.0 + config.clip_epsilon)
    policy = -torch.minimum(ratio * adv, clipped * adv).mean()
    value = torch.mean((values.squeeze(-1).float() - returns[index]) ** 2)
    entropy = dist.entropy().mean()
    total = policy + config.value_coef * value - config.entropy_coef * entropy
    with torch.no_grad():
        approx_kl = torch.mean(rollout.log_probs[index] - log_probs)
        clip_fraction = torch.mean((torch.abs(ratio - 1.0) > config.clip_epsilon).float())
    return {
        "loss": total,
        "policy_loss": policy,
        "value_loss": value,
        "entropy": entropy,
        "approx_kl": approx_kl,
        "clip_fraction": clip_fraction,
    }


class _Collector:
    """Steps N envs in lockstep; episodes start together and last `episode_steps` bars."""

    def __init__(
        self,
        data: PreparedData,
        config: PPOTrainingConfig,
        rng: np.random.Generator,
        device: torch.device,
    ) -> None:
        self.config = config
        self.rng = rng
        self.device = device
        self.starts = training_starts(data.dataset, data.split.train, config.episode_steps)
        if len(self.starts) == 0:
            raise DataError(
                f"the training part ({len(data.split.train)} rows) holds no episode of "
                f"{config.episode_steps} consecutive bars"
            )
        self.envs = [VenueEnv(data.dataset, data.inputs, config.env) for _ in range(config.envs)]
        self.episode_rewards: list[float] = []
        self._new_episodes(None)

    def _new_episodes(self, model: PPOActorCritic | None) -> None:
        chosen = self.rng.choice(self.starts, size=len(self.envs), replace=True)
        steps = self.config.episode_steps
        pairs = zip(self.envs, chosen, strict=True)
        self.obs = np.stack([env.reset(int(start), steps) for env, start in pairs])
        self.step_in_episode = 0
        self.reward_sums = np.zeros(len(self.envs))
        reference = model or PPOActorCritic(self.config.model)
        self.hidden = reference.initial_state(len(self.envs), self.device)

    @torch.no_grad()
    def collect(self, model: PPOActorCritic) -> Rollout:
        """Run `rollout_steps` steps of every env with the current policy."""
        n, steps = len(self.envs), self.config.rollout_steps
        obs = np.zeros((n, steps, self.obs.shape[1]), dtype=np.float32)
        actions = np.zeros((n, steps), dtype=np.int64)
        log_probs = np.zeros((n, steps), dtype=np.float32)
        values = np.zeros((n, steps), dtype=np.float32)
        rewards = np.zeros((n, steps), dtype=np.float32)
        dones = np.zeros((n, steps), dtype=np.float32)
        start_hidden = (self.hidden[0].clone(), self.hidden[1].clone())
        hidden = self.hidden
        for t in range(steps):
            obs[:, t] = self.obs
            tensor = torch.from_numpy(self.obs).to(self.device)
            logits, value, hidden = model(tensor, hidden)
            dist = Categorical(logits=logits.float())
            action = dist.sample()
            actions[:, t] = action.cpu().numpy()
            log_probs[:, t] = dist.log_prob(action).cpu().numpy()
            values[:, t] = value.squeeze(-1).float().cpu().numpy()
            for k, env in enumerate(self.envs):
                self.obs[k], rewards[k, t], done = env.step(int(actions[k, t]))
                dones[k, t] = float(done)
        self.reward_sums += rewards.sum(axis=1)
        self.step_in_episode += steps
        if self.step_in_episode >= self.config.episode_steps:
            self.episode_rewards.extend(self.reward_sums.tolist())
            last_value = torch.zeros(n, device=self.device)
            self._new_episodes(model)
        else:
            _, value, _ = model(torch.from_numpy(self.obs).to(self.device), hidden)
            last_value = value.squeeze(-1).float()
            self.hidden = hidden

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(values).to(self.device)

        return Rollout(
            obs=tensor(obs),
            actions=tensor(actions),
            log_probs=tensor(log_probs),
            values=tensor(values),
            rewards=tensor(rewards),
            dones=tensor(dones),
            hidden=start_hidden,
            last_value=last_value,
        )


def ppo_update(
    model: PPOActorCritic,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    config: PPOTrainingConfig,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Run the PPO epochs on one rollout; return the mean of each loss term."""
    advantages, returns = gae(
        rollout.rewards,
        rollout.values,
        rollout.dones,
        rollout.last_value,
        config.gamma,
        config.gae_lambda,
    )
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    sums: dict[str, float] = {}
    count = 0
    for _ in range(config.ppo_epochs):
        order = rng.permutation(config.envs)
        for part in np.array_split(order, config.minibatches):
            index = torch.from_numpy(part).to(rollout.obs.device)
            terms = ppo_losses(model, rollout, index, advantages, returns, config)
            optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            count += 1
    return {name: value / count for name, value in sums.items()}


@torch.no_grad()
def greedy_run(
    model: PPOActorCritic,
    data: PreparedData,
    rows: np.ndarray,
    env_config: PPOEnvConfig,
    device: torch.device,
    lanes: int = 1,
) -> dict[str, Any]:
    """Trade `rows` greedily (argmax) on fresh venue accounts and return actions and figures.

    Each run of consecutive bars is cut into `lanes` pieces traded side by side, each on its
    own account from flat with the recurrent state at zero (1 lane = one continuous account,
    as at run time; more lanes batch the LSTM for a quicker validation).
    """
    rows = np.asarray(rows, dtype=np.int64)
    first = run_starts(data.dataset)[rows]
    cut = np.flatnonzero((np.diff(rows) != 1) | (first[1:] != first[:-1])) + 1
    pieces = [
        piece
        for block in np.split(rows, cut)
        for piece in np.array_split(block, min(lanes, len(block)))
    ]
    envs = [VenueEnv(data.dataset, data.inputs, env_config) for _ in pieces]
    obs = np.stack([env.reset(int(p[0]), len(p)) for env, p in zip(envs, pieces, strict=True)])
    longest = max(len(piece) for piece in pieces)
    actions = [np.empty(len(piece), dtype=np.int64) for piece in pieces]
    hidden: Hidden | None = None
    for t in range(longest):
        logits, _, hidden = model(torch.from_numpy(obs).to(device), hidden)
        chosen = logits.argmax(dim=-1).cpu().numpy()
        for k, env in enumerate(envs):
            if t < len(pieces[k]):
                actions[k][t] = chosen[k]
                obs[k], _, _ = env.step(int(chosen[k]))
    value = float(np.prod([env.value / env.initial_cash for env in envs]))
    return {
        "actions": np.concatenate(actions),
        "total_return": value - 1.0,
        "fees_paid": float(sum(env.fees for env in envs)),
        "fills": int(sum(env.trades for env in envs)),
        "accounts": len(envs),
    }


_UNFILTERED = ("BoundLoggerFilteringAtNotset", "BoundLoggerFilteringAtDebug")


@contextmanager
def quiet_venue_logs() -> Iterator[None]:
    """Drop debug lines (one per order and fill) while rollouts trade hundreds of thousands.

    Only for the duration of training, and only when logging is not already filtered.
    """
    import logging

    current = structlog.get_config()["wrapper_class"]
    # structlog's default wrapper lets every level through ("…FilteringAtNotset"); a stdlib or
    # an already-filtering wrapper is left alone.
    if getattr(current, "__name__", "") not in _UNFILTERED:
        yield
        return
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield
    finally:
        structlog.configure(wrapper_class=current)


def train_ppo_lstm(
    data: PreparedData,
    options: TrainOptions,
    config: PPOTrainingConfig | None = None,
) -> TrainedModel:
    """Train the actor-critic with PPO on the venue env; keep the best validation return."""
    config = config or PPOTrainingConfig()
    epochs = options.epochs or (config.quick_epochs if options.quick else config.epochs)
    device = resolve_device(options.device)
    rng = seed_everything(options.seed)
    with torch_threads(options.threads), quiet_venue_logs():
        model = PPOActorCritic(config.model).to(device)
        # Dropout stays off: PPO's ratio must compare the same function that acted.
        model.eval()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        collector = _Collector(data, config, rng, device)
        keeper = BestKeeper(higher_is_better=True, patience=config.patience)
        history: list[dict[str, float]] = []
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            terms: dict[str, float] = {}
            for _ in range(config.updates_per_epoch):
                rollout = collector.collect(model)
                for name, value in ppo_update(model, optimizer, rollout, config, rng).items():
                    terms[name] = terms.get(name, 0.0) + value / config.updates_per_epoch
            val = greedy_run(model, data, data.split.val, config.env, device, config.val_lanes)
            labels = data.dataset.labels[data.split.val]
            recent = collector.episode_rewards[-config.envs :]
            record = {
                "epoch": epoch,
                **terms,
                "train_episode_log_return_pct": float(np.mean(recent)) if recent else 0.0,
                "val_return": val["total_return"],
                "val_fills": val["fills"],
                "val_accuracy": accuracy(labels, val["actions"]),
                "val_hold_share": float(np.mean(val["actions"] == HOLD)),
            }
            history.append(record)
            if keeper.end_epoch("ppo_lstm", epoch, val["total_return"], model, record, started):
                break
        keeper.restore(model)
        test = greedy_run(model, data, data.split.test, config.env, device)
    updates = len(history) * config.updates_per_epoch
    return TrainedModel(
        kind="ppo_lstm",
        module=copy.deepcopy(model).cpu().eval(),
        config=config.model,
        test_actions=test["actions"],
        epochs=len(history),
        best_epoch=keeper.best_epoch,
        history=history,
        hyperparameters=config.model_dump(mode="json", exclude={"model", "env"})
        | {
            "env": config.env.model_dump(mode="json"),
            "selection": "highest greedy venue return on the validation part (val_lanes "
            "accounts side by side)",
            "optimizer": "Adam",
            "reward": "100 * log(V[t+1] / V[t]), V = cash + position * close, fills, slippage "
            "and fees by the simulated venue",
        },
        notes={
            "device": str(device),
            "updates": updates,
            "transitions": updates * config.envs * config.rollout_steps,
            "test_venue_return": test["total_return"],
            "test_venue_fees_paid": test["fees_paid"],
            "test_venue_fills": test["fills"],
            "test_action_shares": {
                name: float(np.mean(test["actions"] == code))
                for name, code in (("SELL", SELL), ("HOLD", HOLD), ("BUY", BUY))
            },
            "portfolio_features": [
                "position / (initial cash / price)",
                "cash / initial cash",
                "unrealised PnL / initial cash",
                "price / first price of the run",
                "portfolio value / initial cash",
            ],
            "run_time_state": "(h, c) per symbol, zero at a symbol's first bar",
        },
    )
