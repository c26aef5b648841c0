"""Rule stale_data: no order from an old last bar or a window with a gap or bad bar."""

from risk_builders import BTC, ETH, NOON_MS, make_config, make_intent, make_snapshot, make_state

from risk import DenialCode
from risk.rules import stale_data
from trader.domain import Side

CONFIG = make_config()
STATE = make_state()


def snapshot_with_last_open(open_ms: int, clean: bool = True):
    return make_snapshot(last_bar_open_ms={ETH: open_ms}, window_clean={ETH: clean})


def test_a_bar_exactly_two_intervals_old_passes() -> None:
    snapshot = snapshot_with_last_open(NOON_MS - 600_000)
    assert stale_data.check(make_intent(), snapshot, STATE, CONFIG) is None


def test_a_bar_older_than_two_intervals_is_stale() -> None:
    snapshot = snapshot_with_last_open(NOON_MS - 600_001)
    denial = stale_data.check(make_intent(), snapshot, STATE, CONFIG)
    assert denial.code is DenialCode.STALE_DATA
    assert denial.text == (
        f"STALE_DATA: symbol=ETH/USDT, last_bar_open_ms={NOON_MS - 600_001},"
        " age_s=600.001, limit_s=600"
    )


def test_stale_data_blocks_sells_too() -> None:
    snapshot = snapshot_with_last_open(NOON_MS - 900_000)
    sell = make_intent(side=Side.SELL)
    denial = stale_data.check(sell, snapshot, STATE, CONFIG)
    assert denial.text.startswith("STALE_DATA: symbol=ETH/USDT")
    assert denial.detail("age_s") == "900"


def test_a_window_with_a_gap_is_denied() -> None:
    snapshot = snapshot_with_last_open(NOON_MS - 300_000, clean=False)
    denial = stale_data.check(make_intent(), snapshot, STATE, CONFIG)
    assert denial.code is DenialCode.WINDOW_GAP
    assert denial.text == "WINDOW_GAP: symbol=ETH/USDT, window=gap_or_bad_bar"


def test_a_symbol_missing_from_the_snapshot_fails_closed() -> None:
    snapshot = make_snapshot(last_bar_open_ms={BTC: NOON_MS}, window_clean={BTC: True})
    denial = stale_data.check(make_intent(), snapshot, STATE, CONFIG)
    assert denial.text == "STALE_DATA: symbol=ETH/USDT, last_bar_open_ms=none, limit_s=600"
    snapshot = make_snapshot(last_bar_open_ms={ETH: NOON_MS}, window_clean={BTC: True})
    denial = stale_data.check(make_intent(), snapshot, STATE, CONFIG)
    assert denial.text == "WINDOW_GAP: symbol=ETH/USDT, window=unknown"


def test_the_limit_follows_the_config() -> None:
    config = make_config(stale_after_intervals=3)
    snapshot = snapshot_with_last_open(NOON_MS - 900_000)
    assert stale_data.check(make_intent(), snapshot, STATE, config) is None
