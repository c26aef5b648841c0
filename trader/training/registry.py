"""Model name → trainer; `trader train --models` picks from here (`all` = every entry)."""

from __future__ import annotations

from trader.errors import ConfigError
from trader.training.baseline_mlp import train_baseline_mlp
from trader.training.cgdt import train_cgdt
from trader.training.cql import train_cql
from trader.training.flag_trader import train_flag_trader
from trader.training.ppo_lstm import train_ppo_lstm
from trader.training.trainer import TrainFunction

# Keys are model kinds (trader.models.ModelKind values) and the checkpoint file stems.
TRAINERS: dict[str, TrainFunction] = {
    "baseline_mlp": train_baseline_mlp,
    "cql": train_cql,
    "cgdt": train_cgdt,
    "flag_trader": train_flag_trader,
    "ppo_lstm": train_ppo_lstm,
}


def resolve_models(spec: str) -> list[str]:
    """Parse `"a,b"` or `"all"` into trainer names in the given order, without repeats.

    Raises ConfigError naming the unknown names and the known ones.
    """
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"no model named in {spec!r}; known: all, {', '.join(TRAINERS)}")
    if "all" in names:
        return list(TRAINERS)
    unknown = [name for name in names if name not in TRAINERS]
    if unknown:
        raise ConfigError(
            f"unknown model(s) {', '.join(unknown)}; known: all, {', '.join(TRAINERS)}"
        )
    return list(dict.fromkeys(names))
