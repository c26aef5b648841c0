"""The strict state-dict check, independent of the tensor library (torch or numpy).

Both checkpoint paths use it: `trader.models.state.check_state_dict` for torch tensors and
`trader.models.arrays` for numpy arrays; only how a value's shape, dtype and finiteness are read
differs (a `TensorOps`), so a file is refused, with the same message, by either path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from trader.errors import CheckpointError

_LIST_LIMIT = 8


@dataclass(frozen=True)
class TensorSpec:
    """What a state-dict entry must be: its shape, float or integer, and the integer dtype."""

    shape: tuple[int, ...]
    floating: bool
    dtype: Any = None  # the library's integer dtype to convert to (integer entries only)


class TensorOps(Protocol):
    """How one tensor library answers the questions the check asks."""

    def is_tensor(self, value: Any) -> bool: ...

    def shape(self, value: Any) -> tuple[int, ...]: ...

    def dtype_name(self, value: Any) -> str: ...

    def is_floating(self, value: Any) -> bool: ...

    def is_integer(self, value: Any) -> bool:
        """True for integer dtypes (not bool, float or complex)."""
        ...

    def to_float32(self, value: Any) -> Any: ...

    def to_integer(self, value: Any, dtype: Any) -> Any: ...

    def all_finite(self, value: Any) -> bool: ...


def shape_text(shape: tuple[int, ...]) -> str:
    """Return a shape as `3x32` (`scalar` for a 0-d tensor)."""
    return "x".join(str(size) for size in shape) or "scalar"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    if len(items) > _LIST_LIMIT:
        shown += f", … and {len(items) - _LIST_LIMIT} more"
    return f"[{shown}]"


def check_tensors(
    expected: Mapping[str, TensorSpec], given: Mapping[str, Any], ops: TensorOps, *, where: str
) -> dict[str, Any]:
    """Return `given` as float32/integer tensors, or raise listing every key or shape mismatch.

    Floating entries of any float dtype are accepted and converted to float32; integer entries
    (BatchNorm's `num_batches_tracked`) must be integers. Non-finite weights are refused: they
    would turn every decision into NaN.
    """
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    wrong: list[str] = []
    nonfinite: list[str] = []
    checked: dict[str, Any] = {}
    for name, spec in expected.items():
        if name not in given:
            continue
        value = given[name]
        if not ops.is_tensor(value):
            wrong.append(
                f"{name}: expected a {shape_text(spec.shape)} tensor, got {type(value).__name__}"
            )
            continue
        if ops.shape(value) != spec.shape:
            wrong.append(
                f"{name}: expected {shape_text(spec.shape)}, got {shape_text(ops.shape(value))}"
            )
            continue
        if spec.floating:
            if not ops.is_floating(value):
                wrong.append(f"{name}: expected a float tensor, got {ops.dtype_name(value)}")
                continue
            value = ops.to_float32(value)
            if not ops.all_finite(value):
                nonfinite.append(name)
                continue
        else:
            if not ops.is_integer(value):
                wrong.append(f"{name}: expected an integer tensor, got {ops.dtype_name(value)}")
                continue
            value = ops.to_integer(value, spec.dtype)
        checked[name] = value
    problems = []
    if missing:
        problems.append(f"missing keys {_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listed(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes or types {_listed(wrong)}")
    if nonfinite:
        problems.append(f"non-finite values in {_listed(nonfinite)}")
    if problems:
        raise CheckpointError(f"{where}: state dict does not match: " + "; ".join(problems))
    return checked
