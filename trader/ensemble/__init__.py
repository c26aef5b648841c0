"""The model ensemble: profiles, members, the combination rule."""

from trader.ensemble.combine import Combined, combine, softmax
from trader.ensemble.config import EnsembleConfig, MemberConfig, ProfileConfig
from trader.ensemble.ensemble import Ensemble, select_device
from trader.ensemble.members import MemberBatch

__all__ = [
    "Combined",
    "Ensemble",
    "EnsembleConfig",
    "MemberBatch",
    "MemberConfig",
    "ProfileConfig",
    "combine",
    "select_device",
    "softmax",
]
