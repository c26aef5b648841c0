"""The model ensemble: profiles, members, the combination rule, fallbacks and per-symbol state."""

from trader.ensemble.combine import Combined, combine, softmax
from trader.ensemble.config import EnsembleConfig, MemberConfig, ProfileConfig
from trader.ensemble.ensemble import Ensemble, select_device
from trader.ensemble.evaluation import ProfileMember
from trader.ensemble.factory import default_member_factory
from trader.ensemble.members import Member, MemberBatch

__all__ = [
    "Combined",
    "Ensemble",
    "EnsembleConfig",
    "Member",
    "MemberBatch",
    "MemberConfig",
    "ProfileConfig",
    "ProfileMember",
    "combine",
    "default_member_factory",
    "select_device",
    "softmax",
]
