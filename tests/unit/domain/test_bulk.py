"""frozen_instances builds the same objects as the constructor, column by column."""

from dataclasses import FrozenInstanceError, dataclass

import pytest

from trader.domain import Action, MemberOutput, Signal
from trader.domain.bulk import frozen_instances


def test_instances_equal_the_constructors_and_stay_frozen() -> None:
    rows = [
        ("cql", 0.6, (0.1, 0.2, 0.7), 1.5, True, ""),
        ("mlp", 0.4, (0.0, 0.0, 0.0), 2.5, False, "WARMING_UP: history=1, needed=8"),
    ]
    names = ("name", "weight", "probabilities", "latency_ms", "included", "reason")
    built = frozen_instances(
        MemberOutput, {name: [row[i] for row in rows] for i, name in enumerate(names)}
    )
    expected = [MemberOutput(*row) for row in rows]
    assert built == expected
    assert [hash(item) for item in built] == [hash(item) for item in expected]
    assert repr(built[1]) == repr(expected[1])
    with pytest.raises(FrozenInstanceError):
        built[0].weight = 1.0  # type: ignore[misc]


def test_a_signal_built_by_columns_equals_one_built_by_hand() -> None:
    member = MemberOutput("cql", 1.0, (0.2, 0.3, 0.5), 1.0)
    fields = {
        "signal_id": ["sig-1"],
        "symbol": ["ETH/USDT"],
        "bar_open_time_ms": [1],
        "decided_at_ms": [2],
        "profile": ["low-latency"],
        "action": [Action.BUY],
        "confidence": [0.5],
        "probabilities": [(0.2, 0.3, 0.5)],
        "members": [(member,)],
        "abstained": [False],
        "note": [""],
    }
    [signal] = frozen_instances(Signal, fields)
    assert signal == Signal(**{name: values[0] for name, values in fields.items()})


def test_missing_columns_or_ragged_lengths_are_refused() -> None:
    with pytest.raises(TypeError, match="needs columns"):
        frozen_instances(MemberOutput, {"name": ["cql"]})
    columns = {
        "name": ["a", "b"],
        "weight": [1.0],
        "probabilities": [(0.0, 0.0, 0.0)] * 2,
        "latency_ms": [0.0] * 2,
        "included": [True] * 2,
        "reason": [""] * 2,
    }
    with pytest.raises(ValueError, match="differ in length"):
        frozen_instances(MemberOutput, columns)


def test_only_slotted_dataclasses_without_post_init_are_accepted() -> None:
    @dataclass(frozen=True)
    class Plain:
        value: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="not a slotted dataclass"):
        frozen_instances(Plain, {"value": [1]})
    with pytest.raises(TypeError, match="__post_init__"):
        frozen_instances(Checked, {"value": [1]})
