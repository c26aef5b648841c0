"""Replays of recorded feeds through the daemon's engine (streaming or batch) and backtests."""

from trader.replay.session import ReplayResult, replay, replay_overrides, replay_settings

__all__ = ["ReplayResult", "replay", "replay_overrides", "replay_settings"]
