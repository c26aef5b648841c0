"""Hypothesis: malformed bar CSVs are a DataError or a series whose bad rows the gate rejects.

Headers in any order and case, missing or extra columns, rows with missing or extra fields,
empty cells, words, NaN and inf, numbers beyond float range, fractional timestamps, a BOM and
CRLF line ends. The loader either returns a consistent BarSeries or raises DataError (never
another exception); a returned series goes through the replay CSV feed and the quality gate,
which rejects the bad rows and counts every rejection.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.replay.csv_feed import CsvFeed
from trader.errors import DataError
from trader.features.bars_csv import load_bars_csv
from trader.features.quality import BarIssueCode
from trader.features.stream import FeatureStreamSet

COLUMNS = ("datetime", "timestamp", "open", "high", "low", "close", "volume")
T0 = 1_751_860_800_000
INTERVAL_MS = 300_000

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

good_price = st.floats(min_value=100.0, max_value=200.0).map(lambda value: f"{value:.2f}")
# Cells that parse as numbers but make a bad bar (the gate's business)...
bad_number = st.sampled_from(
    ["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "0", "-5", "1e308", "5e-324", "-0"]
)
# ...and cells that do not parse at all (the loader's business).
unparseable = st.one_of(
    st.sampled_from(
        ["", " ", "abc", "0x1F", '"3"', "None", "null", "∞", "１２３", "12.5.3", "--1", "1e",
         "\x00", "9" * 400]
    ),
    st.text(max_size=6).filter(lambda text: "\n" not in text and "\r" not in text),
)  # fmt: skip


@st.composite
def header(draw: st.DrawFn) -> list[str]:
    names = draw(st.permutations(COLUMNS))
    if draw(st.integers(0, 3)) == 0:  # now and then a column short
        names = names[: draw(st.integers(min_value=4, max_value=len(names)))]
    if draw(st.booleans()):
        names.insert(draw(st.integers(0, len(names))), "extra")
    return [draw(st.sampled_from([name, name.upper(), f" {name} "])) for name in names]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    columns = draw(header())
    bad_numbers, garbage, misshapen = draw(
        st.sampled_from([(0, 0, 0), (5, 0, 0), (20, 0, 0), (5, 1, 0), (0, 0, 3), (10, 2, 2)])
    )  # in percent of cells (or rows, for misshapen rows)
    rows = []
    for index in range(draw(st.integers(min_value=0, max_value=25))):
        open_ms = T0 + index * INTERVAL_MS
        cells = []
        for column in columns:
            name = column.strip().lower()
            roll = draw(st.integers(0, 99))
            if roll < garbage:
                cells.append(draw(unparseable))
            elif roll < garbage + bad_numbers and name not in ("datetime", "timestamp"):
                cells.append(draw(bad_number))
            elif name == "timestamp":
                cells.append(str(open_ms))
            elif name == "datetime":
                cells.append(str(np.datetime64(open_ms, "ms")).replace("T", " ")[:19])
            elif name == "volume":
                cells.append(draw(st.sampled_from(["0", "12.5", "1000"])))
            elif name in ("high", "low"):
                cells.append("200.00" if name == "high" else "100.00")
            else:
                cells.append(draw(good_price))
        if draw(st.integers(0, 99)) < misshapen:
            if draw(st.booleans()):
                cells = cells[:-1]  # a field short
            else:
                cells.append("surplus")  # a field too many
        rows.append(",".join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([",".join(columns), *rows]) + draw(st.sampled_from(["", newline]))
    return ("\ufeff" if draw(st.booleans()) else "") + text


@FUZZ
@given(text=csv_text())
def test_a_malformed_csv_is_a_data_error_or_a_gated_series(text: str, tmp_path: Path) -> None:
    path = tmp_path / "ETHUSDT-5m.csv"
    path.write_text(text, encoding="utf-8")
    try:
        series = load_bars_csv(path, symbol="ETH/USDT", interval_s=300)
    except DataError as exc:
        event("refused: DataError")
        assert str(path) in str(exc)
        return
    event("loaded")
    assert len(series) > 0
    columns = (series.open, series.high, series.low, series.close, series.volume)
    assert all(len(column) == len(series) for column in columns)
    assert series.open_time_ms.dtype == np.int64
    feed = CsvFeed([series], interval_s=300)
    streams = FeatureStreamSet(["ETH/USDT"], 300, T0)
    rejected = accepted = 0
    for grouped in feed.event_list(None):
        for bar in grouped.bars:
            result = streams.push(bar)
            accepted += result.accepted
            rejected += not result.accepted
    counters = streams.stream("ETH/USDT").counters
    assert accepted + rejected == len(series)
    assert rejected == sum(n for code, n in counters.items() if code != BarIssueCode.GAP)
    if rejected:
        event("rows rejected by the gate")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "lacks required column"),
        ("timestamp,open,high,low,close,volume\n", "no rows"),
        ("timestamp,open,high,low,close\n1,2,3,4,5\n", "lacks required column(s) volume"),
        ("timestamp,open,high,low,close,volume\n1.5,1,1,1,1,1\n", "not a whole number"),
        ("timestamp,open,high,low,close,volume\n1,x,1,1,1,1\n", "malformed"),
        ("datetime,open,high,low,close,volume\nyesterday,1,1,1,1,1\n", "malformed datetime"),
    ],
)
def test_known_bad_files_name_the_problem(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_bars_csv(path, interval_s=300)
