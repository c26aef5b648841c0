"""Risk decisions as values: denial codes, denials, size adjustments and the final decision."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from risk import reason
from risk.reason import Details

APPROVED = "APPROVED"
SIZE_CAPPED = "SIZE_CAPPED"


class DenialCode(StrEnum):
    """Why an order intent was refused; the first word of the denial's text."""

    NON_POSITIVE_QUANTITY = "NON_POSITIVE_QUANTITY"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    NO_POSITION = "NO_POSITION"
    DRAWDOWN_HALTED = "DRAWDOWN_HALTED"
    DAILY_LOSS_HALTED = "DAILY_LOSS_HALTED"
    REDUCING_ONLY = "REDUCING_ONLY"
    STALE_DATA = "STALE_DATA"
    WINDOW_GAP = "WINDOW_GAP"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    ORDER_RATE = "ORDER_RATE"
    EXPOSURE_CAP = "EXPOSURE_CAP"
    ORDER_NOTIONAL_CAP = "ORDER_NOTIONAL_CAP"
    INSUFFICIENT_CASH = "INSUFFICIENT_CASH"


@dataclass(frozen=True, slots=True)
class Denial:
    """A refusal with its details; rendered one way only: `CODE: key=value, key=value`."""

    code: DenialCode
    details: Details = ()

    @classmethod
    def of(cls, code: DenialCode, **details: object) -> "Denial":
        """Build a denial, keeping the keyword order of its details."""
        return cls(code, reason.make_details(**details))

    @property
    def text(self) -> str:
        """Return the standard rendering."""
        return reason.render(self.code, self.details)

    def detail(self, key: str) -> str:
        """Return one detail's formatted value; raise KeyError when absent."""
        for name, value in self.details:
            if name == key:
                return value
        raise KeyError(key)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A rule that shrank the quantity: `SIZE_CAPPED: rule=…, requested=…, approved=…, …`."""

    rule: str
    requested: Decimal
    approved: Decimal
    details: Details = ()

    def __post_init__(self) -> None:
        if not 0 < self.approved < self.requested:
            raise ValueError(
                f"an adjustment must shrink a positive quantity, got rule={self.rule},"
                f" requested={self.requested}, approved={self.approved}"
            )

    @property
    def code(self) -> str:
        """Return the adjustment's code, always SIZE_CAPPED."""
        return SIZE_CAPPED

    @property
    def text(self) -> str:
        """Return the standard rendering."""
        head = reason.make_details(rule=self.rule, requested=self.requested, approved=self.approved)
        return reason.render(SIZE_CAPPED, head + self.details)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The risk layer's answer to one intent: the approved quantity (0 when denied) and why."""

    approved: bool
    quantity: Decimal
    requested: Decimal
    denial: Denial | None = None
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def code(self) -> str:
        """Return APPROVED, SIZE_CAPPED or the denial code's name."""
        if self.denial is not None:
            return self.denial.code.value
        return SIZE_CAPPED if self.adjustments else APPROVED

    @property
    def reason(self) -> str:
        """Return the standard text: the denial, or the approval with every capping rule."""
        if self.denial is not None:
            return self.denial.text
        details = reason.make_details(requested=self.requested, approved=self.quantity)
        if self.adjustments:
            rules = "+".join(adjustment.rule for adjustment in self.adjustments)
            details = reason.make_details(rule=rules) + details
        return reason.render(self.code, details)
