"""Policies as data (RULEBOOK §10): the presets are JSON files shipped in `ledger/presets/`,
validated into a frozen `Policy`; `PolicyAdopted.overrides` replaces named parameters.

A later adoption replaces the whole policy (its preset plus its own overrides); it resets no
derived state (pointers, scores, throttles, shifts, penalties carry on).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import PolicyError
from .events import MAX_AMOUNT, MAX_COUNT, Channel, PenaltyKind, PolicyAdopted, shown

# Bounds of the parameters a policy may set (an override beyond them is refused on import, not
# left to overflow the calendar or the arithmetic of a replay).
MAX_DAYS = 3660
Rate = Annotated[Decimal, Field(ge=0, le=1, decimal_places=6)]
Money = Annotated[Decimal, Field(ge=0, lt=MAX_AMOUNT, decimal_places=2)]
STRICT = ConfigDict(frozen=True, extra="forbid", strict=True)

OrderMode = Literal["seat", "ranking", "weighted"]
Metric = Literal["contracts", "deals", "invitations", "visits"]


class WeeklySanction(BaseModel):
    """An automatic sanction decided at each week's start from the ranking window (R-SA-4/7/8)."""

    model_config = STRICT

    rule: str
    metric: Metric  # contracts / deals: every ContractSigned credited (deposits too; see projections.engine)
    minimum: int = Field(ge=1, le=1000)  # sanctioned when the window's count is below this
    kind: PenaltyKind
    channels: tuple[Channel, ...]
    take: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    of: int | None = Field(default=None, ge=1, le=MAX_COUNT)


class ComplaintSanction(BaseModel):
    """R-SA-8: a verified complaint skips the consultant's next turns in some channels."""

    model_config = STRICT

    rule: str = "R-SA-8"
    turns: int = Field(ge=1, le=MAX_COUNT)
    channels: tuple[Channel, ...]


class ShiftViolationSanction(BaseModel):
    """R-SA-5: taking a shift-window lead that was not yours suspends you for the next day."""

    model_config = STRICT

    rule: str = "R-SA-5"
    channels: tuple[Channel, ...]
    days: int = Field(default=1, ge=1, le=366)


class TierRates(BaseModel):
    """R-CM-1 rates (per mille expressed as fractions of one)."""

    model_config = STRICT

    neither: Rate
    one: Rate
    both_within_red: Rate
    both_above_red: Rate


class Policy(BaseModel):
    model_config = STRICT

    preset: str
    timezone: str = "Asia/Shanghai"
    # R-T-3, R-T-4
    week_cutoff: dt.time = dt.time(20, 0)
    early_start: dt.time
    day_start: dt.time
    day_end: dt.time
    late_end: dt.time
    # R-SH-*
    shift_channels: tuple[Channel, ...]
    # R-CH-1, R-RT-1, R-RT-8: which channels rotate and in which order
    orders: dict[Channel, OrderMode]
    # R-RT-4
    bonus_channels: tuple[Channel, ...]
    bonus_leads_per_turn: int = Field(default=2, ge=2, le=100)
    # R-RT-8
    marketing_window_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    marketing_min_weight: Fraction = Fraction(1, 10)
    # R-FU-3
    marketing_followup_hold: bool
    marketing_followup_hours: int = Field(default=48, ge=1, le=MAX_DAYS * 24)
    # R-FU-2
    followup_reassign_channels: tuple[Channel, ...]
    # R-OW-1b
    referral_to_referrer_owner: bool
    # R-OW-3
    duplicate_default: Literal["first_keeps", "new_wins"]
    hotline_after_tracking: bool  # R-OW-3b
    weak_customer_referral: bool  # R-OW-3c
    weak_referral_channels: tuple[Channel, ...] = (Channel.hotline, Channel.hq_referral, Channel.internal_referral)
    conference_stays: bool  # R-OW-3d
    # R-OW-2a
    named_absent: Literal["named_owns", "split_half"]
    # R-ID-3
    tracking_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    # R-SA-*
    weekly_sanctions: tuple[WeeklySanction, ...] = ()
    complaint_sanction: ComplaintSanction | None = None
    shift_violation_sanction: ShiftViolationSanction | None = None
    # R-FU-4
    list_swap: bool
    # R-FU-5
    grade_cadence_days: dict[Literal["A", "B", "C"], Annotated[int, Field(ge=1, le=MAX_DAYS)]] = Field(default_factory=lambda: {"A": 1, "B": 7, "C": 30})
    # R-CM-*
    commission: Literal["revenue_percent", "tiered", "bonuses"]
    commission_rate: Rate = Decimal("0.03")
    tier_rates: TierRates = TierRates(
        neither=Decimal("0.0018"), one=Decimal("0.0020"),
        both_within_red=Decimal("0.0023"), both_above_red=Decimal("0.0025"),
    )
    first_deal_bonus: Money = Decimal("200.00")
    top_enrolment_bonus: Money = Decimal("500.00")
    referral_reward: Money = Decimal("300.00")
    referral_reward_months: int = Field(default=2, ge=0, le=120)
    provider_reward: Money = Decimal("100.00")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"expected an IANA time zone, got {shown(value)}") from None
        return value

    @field_validator("marketing_min_weight", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> Fraction:
        if isinstance(value, float):
            raise ValueError("expected an exact fraction like \"1/10\", not a float")
        try:
            weight = Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a fraction like \"1/10\", got {shown(value)}") from None
        if not 0 <= weight <= 1 or weight.denominator > 10**6:
            raise ValueError(f"expected a fraction from 0 to 1 like \"1/10\", got {shown(value)}")
        return weight


PRESETS = ("campus", "realty", "fitness")


@cache
def preset_data(name: str) -> dict[str, Any]:
    text = resources.files("ledger.presets").joinpath(f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    data.pop("_comment", None)
    return data


def build_policy(preset: str, overrides: dict[str, Any] | None = None, timezone: str | None = None) -> Policy:
    """The preset's parameters with `overrides` replacing named ones; unknown names are an error."""
    if preset not in PRESETS:
        raise PolicyError(f"preset: expected one of {', '.join(PRESETS)}, got {preset!r}")
    data = dict(preset_data(preset))
    for key, value in (overrides or {}).items():
        if key not in Policy.model_fields or key == "preset":
            raise PolicyError(
                f"overrides.{key}: unknown policy parameter; expected one of "
                f"{', '.join(sorted(k for k in Policy.model_fields if k != 'preset'))}"
            )
        if isinstance(value, float):
            raise PolicyError(f"overrides.{key}: expected an exact value (a string like \"0.05\"), not a float")
        current = data.get(key, Policy.model_fields[key].default)
        if isinstance(current, BaseModel):
            current = current.model_dump()
        if isinstance(current, dict) and isinstance(value, dict):
            data[key] = {**current, **value}
        else:
            data[key] = value
    if timezone is not None:
        data["timezone"] = timezone
    try:  # as JSON, strictly: "09:00" is a time and 900 is not; "0.05" a rate and true is not
        return Policy.model_validate_json(json.dumps(data, default=str))
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors(include_url=False)
        )
        raise PolicyError(f"policy {preset!r} with overrides is invalid: {detail}") from None


def policy_of(event: PolicyAdopted) -> Policy:
    return _cached_policy(event.preset.value, json.dumps(event.overrides or {}, sort_keys=True, default=str), event.timezone)


@cache
def _cached_policy(preset: str, overrides_json: str, timezone: str | None) -> Policy:
    return build_policy(preset, json.loads(overrides_json), timezone)
