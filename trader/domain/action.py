"""The three actions; integers exist only inside the models (0 = SELL, 1 = HOLD, 2 = BUY)."""

from enum import StrEnum


class Action(StrEnum):
    SELL = "SELL"
    HOLD = "HOLD"
    BUY = "BUY"

    @property
    def index(self) -> int:
        """Return the model-side class index of this action."""
        return _INDEX[self]

    @classmethod
    def from_index(cls, index: int) -> "Action":
        """Return the action for a model class index (0, 1 or 2)."""
        try:
            return _ACTIONS[index]
        except (IndexError, TypeError) as exc:
            raise ValueError(f"action index must be 0, 1 or 2, got {index!r}") from exc


_ACTIONS = (Action.SELL, Action.HOLD, Action.BUY)
_INDEX = {action: i for i, action in enumerate(_ACTIONS)}
