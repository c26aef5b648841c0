"""The seeded synthetic market: a regime-switching random walk with jumps, extremes and volume.

Bars are generated in blocks whose random draws are keyed by (seed, stream, block), with one
stream per symbol, one for the market-wide factor and one for the regime chain: the same seed
gives the same bars in any access order, and adding a symbol leaves the others unchanged.
"""

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from adapters.simulated.config import SECONDS_PER_YEAR, SymbolSpec, SyntheticMarketConfig
from trader.domain import Bar, BarEvent

BLOCK_BARS = 1024
_CACHED_BLOCKS = 8
_REGIME_STREAM = 1
_COMMON_STREAM = 2
_SYMBOL_STREAM = 3


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Consecutive bars of one symbol as numpy arrays (index i is bar `start + i`)."""

    symbol: str
    interval_s: int
    open_time_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    regime: np.ndarray
    jump: np.ndarray

    def __len__(self) -> int:
        return len(self.open_time_ms)

    def bar(self, i: int) -> Bar:
        """Return the i-th bar of these arrays as a domain Bar."""
        return Bar(
            symbol=self.symbol,
            interval_s=self.interval_s,
            open_time_ms=int(self.open_time_ms[i]),
            open=float(self.open[i]),
            high=float(self.high[i]),
            low=float(self.low[i]),
            close=float(self.close[i]),
            volume=float(self.volume[i]),
        )

    def to_bars(self) -> list[Bar]:
        """Return every bar as a domain Bar, in time order."""
        return [self.bar(i) for i in range(len(self))]


@dataclass(frozen=True, slots=True)
class _State:
    regime: int
    log_price: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _Block:
    regime: np.ndarray  # (BLOCK_BARS,)
    open: np.ndarray  # (symbols, BLOCK_BARS), and likewise below
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    jump: np.ndarray


class SyntheticMarket:
    """An endless, deterministic series of bars for the configured symbols, by index."""

    def __init__(self, config: SyntheticMarketConfig) -> None:
        self.config = config
        self.specs: dict[str, SymbolSpec] = {spec.symbol: spec for spec in config.symbols}
        self.symbols: tuple[str, ...] = tuple(self.specs)
        self.interval_s = config.interval_s
        self.start_ms = config.start_ms
        self.regime_names: tuple[str, ...] = tuple(regime.name for regime in config.regimes)
        self._dt = config.interval_s / SECONDS_PER_YEAR
        self._sigma_base = np.array(
            [spec.annual_volatility * math.sqrt(self._dt) for spec in config.symbols]
        )
        self._vol_mult = np.array([r.volatility_multiplier for r in config.regimes])
        self._volume_mult = np.array([r.volume_multiplier for r in config.regimes])
        self._drift = np.array([r.annual_drift * self._dt for r in config.regimes])
        default_p = config.regime_switch_probability
        self._switch_p = [
            default_p if r.switch_probability is None else r.switch_probability
            for r in config.regimes
        ]
        self._next_regime = [self._destinations(i) for i in range(len(config.regimes))]
        self._symbol_keys = [_stream_key(spec.symbol) for spec in config.symbols]
        start_logs = tuple(math.log(spec.start_price) for spec in config.symbols)
        self._states: list[_State] = [
            _State(self.regime_names.index(config.initial_regime), start_logs)
        ]
        self._blocks: OrderedDict[int, _Block] = OrderedDict()

    def open_time_ms(self, index: int) -> int:
        """Return the open time of bar `index` in UTC milliseconds."""
        return self.start_ms + index * self.interval_s * 1000

    def index_at(self, time_ms: int) -> int:
        """Return the index of the first bar opening at or after `time_ms` (0 before the start)."""
        interval_ms = self.interval_s * 1000
        return max(0, -((self.start_ms - time_ms) // interval_ms))

    def bars_at(self, index: int) -> tuple[Bar, ...]:
        """Return bar `index` of every symbol, in configuration order."""
        _check_index(index)
        block = self._block(index // BLOCK_BARS)
        i = index % BLOCK_BARS
        open_time = self.open_time_ms(index)
        return tuple(
            Bar(
                symbol=symbol,
                interval_s=self.interval_s,
                open_time_ms=open_time,
                open=float(block.open[k, i]),
                high=float(block.high[k, i]),
                low=float(block.low[k, i]),
                close=float(block.close[k, i]),
                volume=float(block.volume[k, i]),
            )
            for k, symbol in enumerate(self.symbols)
        )

    def event_at(self, index: int) -> BarEvent:
        """Return the BarEvent of bar `index`: every symbol's bar, stamped with its close time."""
        bars = self.bars_at(index)
        return BarEvent(close_time_ms=bars[0].close_time_ms, bars=bars)

    def regime_at(self, index: int) -> str:
        """Return the name of the market regime during bar `index`."""
        _check_index(index)
        return self.regime_names[int(self._block(index // BLOCK_BARS).regime[index % BLOCK_BARS])]

    def iter_events(self, start: int = 0, stop: int | None = None) -> Iterator[BarEvent]:
        """Yield the events of bars start, start+1, … up to (not including) `stop`, or forever."""
        index = start
        while stop is None or index < stop:
            yield self.event_at(index)
            index += 1

    def generate(self, n: int, start: int = 0) -> dict[str, BarArrays]:
        """Return bars start … start+n-1 of every symbol as arrays, keyed by symbol."""
        _check_index(start)
        if n < 0:
            raise ValueError(f"n must be zero or positive, got {n}")
        parts: list[tuple[_Block, int, int]] = []
        index = start
        while index < start + n:
            block_index, offset = divmod(index, BLOCK_BARS)
            take = min(BLOCK_BARS - offset, start + n - index)
            parts.append((self._block(block_index), offset, offset + take))
            index += take
        interval_ms = self.interval_s * 1000
        times = self.start_ms + np.arange(start, start + n, dtype=np.int64) * interval_ms
        regime = _join([p.regime[a:b] for p, a, b in parts], np.int64)
        result: dict[str, BarArrays] = {}
        for k, symbol in enumerate(self.symbols):
            result[symbol] = BarArrays(
                symbol=symbol,
                interval_s=self.interval_s,
                open_time_ms=times,
                open=_join([p.open[k, a:b] for p, a, b in parts], np.float64),
                high=_join([p.high[k, a:b] for p, a, b in parts], np.float64),
                low=_join([p.low[k, a:b] for p, a, b in parts], np.float64),
                close=_join([p.close[k, a:b] for p, a, b in parts], np.float64),
                volume=_join([p.volume[k, a:b] for p, a, b in parts], np.float64),
                regime=regime,
                jump=_join([p.jump[k, a:b] for p, a, b in parts], np.bool_),
            )
        return result

    def _block(self, block_index: int) -> _Block:
        cached = self._blocks.get(block_index)
        if cached is not None:
            self._blocks.move_to_end(block_index)
            return cached
        # Each block's start state depends on every block before it; generate forward from the
        # last known state (cheap: blocks are vectorised) and keep only the states, not the bars.
        while len(self._states) <= block_index:
            known = len(self._states) - 1
            block, end_state = self._simulate(known, self._states[known])
            self._states.append(end_state)
            self._remember(known, block)
        block, end_state = self._simulate(block_index, self._states[block_index])
        if len(self._states) == block_index + 1:
            self._states.append(end_state)
        self._remember(block_index, block)
        return block

    def _remember(self, block_index: int, block: _Block) -> None:
        self._blocks[block_index] = block
        self._blocks.move_to_end(block_index)
        while len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)

    def _simulate(self, block_index: int, state: _State) -> tuple[_Block, _State]:
        config = self.config
        regime = self._regime_path(block_index, state.regime)
        common = np.random.default_rng([config.seed, _COMMON_STREAM, block_index]).standard_normal(
            BLOCK_BARS
        )
        rho = config.market_correlation
        shape = (len(self.symbols), BLOCK_BARS)
        arrays = {name: np.empty(shape) for name in ("open", "high", "low", "close", "volume")}
        jumps = np.empty(shape, dtype=np.bool_)
        end_logs: list[float] = []
        vol_mult = self._vol_mult[regime]
        drift = self._drift[regime]
        volume_mult = self._volume_mult[regime]
        for k, spec in enumerate(config.symbols):
            rng = np.random.default_rng(
                [config.seed, _SYMBOL_STREAM, self._symbol_keys[k], block_index]
            )
            idio = rng.standard_normal(BLOCK_BARS)
            jump_u = rng.random(BLOCK_BARS)
            jump_z = rng.standard_normal(BLOCK_BARS)
            volume_z = rng.standard_normal(BLOCK_BARS)
            # 1 - U lies in (0, 1], so its log is finite.
            u_high = 1.0 - rng.random(BLOCK_BARS)
            u_low = 1.0 - rng.random(BLOCK_BARS)

            sigma = self._sigma_base[k] * vol_mult
            shock = math.sqrt(rho) * common + math.sqrt(1.0 - rho) * idio
            jump = jump_u < config.jump_probability
            returns = drift + sigma * shock + np.where(jump, config.jump_scale * jump_z, 0.0)
            log_close = state.log_price[k] + np.cumsum(returns)
            log_open = np.concatenate(([state.log_price[k]], log_close[:-1]))
            # Extremes of a Brownian bridge from 0 to the bar's return with the bar's diffusion
            # variance, sampled exactly by inverting P(max > m) = exp(-2 m (m - r) / s^2).
            spread_high = np.sqrt(returns**2 - 2.0 * sigma**2 * np.log(u_high))
            spread_low = np.sqrt(returns**2 - 2.0 * sigma**2 * np.log(u_low))
            open_ = np.exp(log_open)
            close = np.exp(log_close)
            high = np.exp(log_open + (returns + spread_high) / 2)
            low = np.exp(log_open + (returns - spread_low) / 2)
            # Guard float rounding so high/low always enclose open and close.
            high = np.maximum(high, np.maximum(open_, close))
            low = np.minimum(low, np.minimum(open_, close))

            surprise = np.abs(returns) / self._sigma_base[k]
            activity = 1.0 + config.volume_return_sensitivity * surprise
            noise = np.exp(config.volume_noise * volume_z - config.volume_noise**2 / 2)
            volume = spec.base_volume * volume_mult * activity * noise

            arrays["open"][k] = _round_to(open_, spec.tick_size)
            arrays["high"][k] = _round_to(high, spec.tick_size)
            arrays["low"][k] = _round_to(low, spec.tick_size)
            arrays["close"][k] = _round_to(close, spec.tick_size)
            arrays["volume"][k] = _round_to(volume, spec.step_size)
            jumps[k] = jump
            end_logs.append(float(log_close[-1]))
        block = _Block(regime=regime, jump=jumps, **arrays)
        return block, _State(int(regime[-1]), tuple(end_logs))

    def _regime_path(self, block_index: int, current: int) -> np.ndarray:
        rng = np.random.default_rng([self.config.seed, _REGIME_STREAM, block_index])
        switch_u = rng.random(BLOCK_BARS)
        pick_u = rng.random(BLOCK_BARS)
        path = np.empty(BLOCK_BARS, dtype=np.int64)
        for i in range(BLOCK_BARS):
            destinations, cumulative = self._next_regime[current]
            if destinations and switch_u[i] < self._switch_p[current]:
                current = destinations[int(np.searchsorted(cumulative, pick_u[i], side="right"))]
            path[i] = current
        return path

    def _destinations(self, current: int) -> tuple[list[int], np.ndarray]:
        others = [i for i in range(len(self.config.regimes)) if i != current]
        weights = np.array([self.config.regimes[i].weight for i in others], dtype=np.float64)
        cumulative = np.cumsum(weights) / weights.sum() if others else np.array([])
        if others:
            cumulative[-1] = 1.0 + 1e-12  # so a draw just below 1 never falls off the end
        return others, cumulative


def _stream_key(symbol: str) -> int:
    """Return a stable 64-bit key for a symbol (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")


def _round_to(values: np.ndarray, step: Decimal) -> np.ndarray:
    """Round to the nearest multiple of step, never below one step; short reprs ("3000.01")."""
    step_f = float(step)
    exponent = step.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    rounded = np.round(np.round(values / step_f) * step_f, decimals)
    return np.maximum(rounded, step_f)


def _join(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)


def _check_index(index: int) -> None:
    if index < 0:
        raise ValueError(f"bar index must be zero or positive, got {index}")
