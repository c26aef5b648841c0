"""Risk limits: the drawdown brake tiers, daily loss limit, caps, rate limit and data gates."""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RiskConfig(BaseModel):
    """Every threshold the risk layer enforces; fractions are of equity unless said otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    size_half_drawdown: float = Field(
        0.10, gt=0, lt=1, description="drawdown from peak at which order sizes are halved"
    )
    reducing_drawdown: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="drawdown at which sizes are quartered and only exposure-reducing orders pass",
    )
    halt_drawdown: float = Field(
        0.20, gt=0, lt=1, description="drawdown at which trading halts until an operator reset"
    )
    recovery_hysteresis: float = Field(
        0.01,
        ge=0,
        lt=1,
        description="how far below a tier's threshold the drawdown must fall for the tier to lift",
    )
    flatten_on_halt: bool = Field(False, description="sell every open position when HALTED")
    daily_loss_limit: float = Field(
        0.05, gt=0, lt=1, description="loss from start-of-UTC-day equity that halts for the day"
    )
    max_symbol_exposure: float = Field(
        0.20, gt=0, le=1, description="largest position value per symbol as a fraction of equity"
    )
    max_order_notional: Decimal = Field(
        Decimal("5000"), gt=0, description="largest order value in the quote currency"
    )
    max_orders_per_window: int = Field(
        6, ge=1, description="orders allowed within one order-rate window"
    )
    order_rate_window_s: int = Field(60, ge=1, description="length of the order-rate window")
    min_confidence: float = Field(
        0.40, ge=0, le=1, description="least signal confidence for an exposure-increasing order"
    )
    stale_after_intervals: int = Field(
        2, ge=1, description="a last bar older than this many intervals makes the data stale"
    )
    fee_margin: float = Field(
        0.002,
        ge=0,
        lt=0.1,
        description="share of a BUY's notional kept back for fees and slippage in the cash check",
    )

    @model_validator(mode="after")
    def _check_tier_order(self) -> "RiskConfig":
        tiers = (self.size_half_drawdown, self.reducing_drawdown, self.halt_drawdown)
        if not 0 < tiers[0] < tiers[1] < tiers[2] < 1:
            raise ValueError(
                "drawdown tiers must rise strictly: 0 < size_half_drawdown < reducing_drawdown"
                f" < halt_drawdown < 1, got size_half_drawdown={tiers[0]},"
                f" reducing_drawdown={tiers[1]}, halt_drawdown={tiers[2]}"
            )
        if self.recovery_hysteresis >= self.size_half_drawdown:
            raise ValueError(
                "recovery_hysteresis must be below size_half_drawdown or the first tier could"
                f" never lift, got recovery_hysteresis={self.recovery_hysteresis},"
                f" size_half_drawdown={self.size_half_drawdown}"
            )
        return self
