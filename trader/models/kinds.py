"""The five model kinds, named as checkpoints, manifests and the ensemble config name them."""

from enum import StrEnum


class ModelKind(StrEnum):
    """Which architecture a checkpoint holds."""

    BASELINE_MLP = "baseline_mlp"
    CQL = "cql"
    CGDT = "cgdt"
    FLAG_TRADER = "flag_trader"
    PPO_LSTM = "ppo_lstm"


FEATURE_SET = "himari60"
FEATURE_COUNT = 60
# Feature 58 counts years since this instant in the user's files: the first bar of their data
# file, 2025-07-07 04:00 UTC (features.md). Legacy checkpoints carry no anchor of their own.
LEGACY_ANCHOR_MS = 1_751_860_800_000
