"""The event vocabulary of INTERCHANGE.md: one frozen pydantic model per event type.

Events hold facts only. Parsing is strict: aware times only, amounts as exact decimals (never
via float), ids matching their pattern, enums for channels, presences, shifts and kinds, and no
unknown keys.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class Channel(str, Enum):
    hotline = "hotline"
    online = "online"
    hq_referral = "hq_referral"
    internal_referral = "internal_referral"
    walk_in = "walk_in"
    marketing = "marketing"
    conference = "conference"
    customer_referral = "customer_referral"
    outbound = "outbound"


class Presence(str, Enum):
    on_post = "on_post"
    away = "away"
    leave = "leave"
    busy_new = "busy_new"
    busy_old = "busy_old"


class Shift(str, Enum):
    early = "early"
    late = "late"
    overtime = "overtime"


class Direction(str, Enum):
    outbound = "outbound"
    inbound = "inbound"


class PenaltyKind(str, Enum):
    suspend = "suspend"
    skip = "skip"
    throttle = "throttle"


class Grade(str, Enum):
    A = "A"
    B = "B"
    C = "C"


class ContractKind(str, Enum):
    new = "new"
    renewal = "renewal"
    referral = "referral"


class Preset(str, Enum):
    campus = "campus"
    realty = "realty"
    fitness = "fitness"


def _aware_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 time with a UTC offset, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 time string with a UTC offset, got {value!r}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"expected a UTC offset (e.g. +08:00) in {value!r}")
    return parsed


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


def _month(value: Any) -> str:
    if isinstance(value, str) and len(value) == 7:
        try:
            dt.date.fromisoformat(value + "-01")
            return value
        except ValueError:
            pass
    raise ValueError(f"expected a month YYYY-MM, got {value!r}")


MAX_AMOUNT = Decimal(10) ** 15  # well inside Decimal's default 28-digit precision at two places


def _amount(value: Any) -> Decimal:
    """R-MO-1: decimal yuan, at most two places; strings or exact numbers, never floats."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"expected an amount as a decimal string like \"12000.00\", got {value!r}")
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"expected a decimal amount like \"12000.00\", got {value!r}") from None
    else:
        raise ValueError(f"expected a decimal amount like \"12000.00\", got {value!r}")
    if not number.is_finite():
        raise ValueError(f"expected a finite amount, got {value!r}")
    if abs(number) >= MAX_AMOUNT:
        raise ValueError(f"expected an amount below {MAX_AMOUNT:,} yuan, got {value!r}")
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"expected at most two decimal places (fen), got {value!r}")
    if number < 0:
        raise ValueError(f"expected a non-negative amount, got {value!r}")
    return number.quantize(Decimal("0.01"))


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _strict_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _time_out(value: dt.datetime) -> str:
    return value.isoformat()


Time = Annotated[dt.datetime, BeforeValidator(_aware_time), PlainSerializer(_time_out, return_type=str)]
Date = Annotated[dt.date, BeforeValidator(_iso_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Month = Annotated[str, BeforeValidator(_month)]
Amount = Annotated[Decimal, BeforeValidator(_amount), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
Count = Annotated[int, BeforeValidator(_strict_int), Field(ge=1)]
Seat = Annotated[int, BeforeValidator(_strict_int)]
Flag = Annotated[bool, BeforeValidator(_strict_bool)]
Id = Annotated[str, BeforeValidator(_strict_str), StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, BeforeValidator(_strict_str), StringConstraints(min_length=1, max_length=2000)]
Phone = Annotated[str, BeforeValidator(_strict_str), StringConstraints(min_length=1, max_length=80)]


class Event(BaseModel):
    """Common keys on every event."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    type: str
    team: Id
    at: Time
    id: Id | None = None
    by: Text | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The interchange form: optional keys left out when unset."""
        return self.model_dump(mode="json", exclude_none=True)


class PolicyAdopted(Event):
    type: Literal["PolicyAdopted"] = "PolicyAdopted"
    preset: Preset
    overrides: dict[str, Any] | None = None
    timezone: Text | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"expected an IANA time zone like Asia/Shanghai, got {value!r}") from None
        return value


class ConsultantJoined(Event):
    type: Literal["ConsultantJoined"] = "ConsultantJoined"
    consultant: Id
    name: Text
    seat: Seat


class ConsultantLeft(Event):
    type: Literal["ConsultantLeft"] = "ConsultantLeft"
    consultant: Id


class SeatsSwapped(Event):
    type: Literal["SeatsSwapped"] = "SeatsSwapped"
    a: Id
    b: Id


class ShiftAssigned(Event):
    type: Literal["ShiftAssigned"] = "ShiftAssigned"
    consultant: Id
    date: Date
    shift: Shift


class PresenceChanged(Event):
    type: Literal["PresenceChanged"] = "PresenceChanged"
    consultant: Id
    presence: Presence


class LeadArrived(Event):
    type: Literal["LeadArrived"] = "LeadArrived"
    lead: Id
    channel: Channel
    phone: Phone | None = None
    named: Id | None = None
    prior_contact: Id | None = None
    taken_by: Id | None = None
    maker: Id | None = None
    referrer_phone: Phone | None = None
    callback_on: Date | None = None

    @model_validator(mode="after")
    def _channel_keys(self) -> "LeadArrived":
        if self.channel is Channel.outbound and self.maker is None:
            raise ValueError("maker: an outbound lead needs the consultant who made it (R-CH-3)")
        if self.maker is not None and self.channel is not Channel.outbound:
            raise ValueError("maker: only outbound leads have a maker (R-CH-3)")
        return self


class FollowUpLogged(Event):
    type: Literal["FollowUpLogged"] = "FollowUpLogged"
    lead: Id
    consultant: Id
    direction: Direction
    note: Text | None = None


class ClaimMade(Event):
    type: Literal["ClaimMade"] = "ClaimMade"
    lead: Id
    consultant: Id
    reason: Text


class RulingMade(Event):
    type: Literal["RulingMade"] = "RulingMade"
    lead: Id
    owner: Id
    reason: Text


class CustomersLinked(Event):
    type: Literal["CustomersLinked"] = "CustomersLinked"
    lead: Id
    other: Id


class CustomersUnlinked(Event):
    type: Literal["CustomersUnlinked"] = "CustomersUnlinked"
    lead: Id
    other: Id


class PenaltyImposed(Event):
    type: Literal["PenaltyImposed"] = "PenaltyImposed"
    penalty: Id
    consultant: Id
    kind: PenaltyKind
    channels: list[Annotated[str, BeforeValidator(_strict_str)]]
    from_: Time | None = Field(default=None, alias="from")
    until: Time | None = None
    turns: Count | None = None
    take: Count | None = None
    of: Count | None = None
    rule: Annotated[str, BeforeValidator(_strict_str), StringConstraints(pattern=r"^R-[A-Z]{2}-\d+[a-z]?$")]
    reason: Text

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('expected at least one channel, or ["*"] for all')
        for name in value:
            if name != "*" and name not in Channel.__members__:
                raise ValueError(f"expected channels from {sorted(Channel.__members__)} or \"*\", got {name!r}")
        return value

    @model_validator(mode="after")
    def _kind_keys(self) -> "PenaltyImposed":
        if self.kind is PenaltyKind.skip and self.turns is None:
            raise ValueError("turns: a skip needs the number of turns to skip (R-SA-2)")
        if self.kind is PenaltyKind.throttle:
            if self.take is None or self.of is None:
                raise ValueError("take/of: a throttle needs take K of N (R-SA-3)")
            if self.take >= self.of:
                raise ValueError(f"take/of: expected take < of, got {self.take} of {self.of}")
        if self.from_ is not None and self.until is not None and self.until <= self.from_:
            raise ValueError("until: expected a time after 'from'")
        return self

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class PenaltyLifted(Event):
    type: Literal["PenaltyLifted"] = "PenaltyLifted"
    penalty: Id


class InvitationRecorded(Event):
    type: Literal["InvitationRecorded"] = "InvitationRecorded"
    lead: Id
    consultant: Id


class VisitRecorded(Event):
    type: Literal["VisitRecorded"] = "VisitRecorded"
    lead: Id
    consultant: Id


class ComplaintVerified(Event):
    type: Literal["ComplaintVerified"] = "ComplaintVerified"
    consultant: Id
    reason: Text


class GradeProposed(Event):
    type: Literal["GradeProposed"] = "GradeProposed"
    lead: Id
    grade: Grade
    consultant: Id | None = None


class GradeConfirmed(Event):
    type: Literal["GradeConfirmed"] = "GradeConfirmed"
    lead: Id
    grade: Grade
    consultant: Id | None = None


class ContractSigned(Event):
    type: Literal["ContractSigned"] = "ContractSigned"
    contract: Id
    lead: Id
    amount: Amount
    kind: ContractKind | None = None
    deposit: Flag | None = None


class PaymentReceived(Event):
    type: Literal["PaymentReceived"] = "PaymentReceived"
    contract: Id
    amount: Amount


class LoanDisbursed(Event):
    type: Literal["LoanDisbursed"] = "LoanDisbursed"
    contract: Id
    amount: Amount


class ContractRefunded(Event):
    type: Literal["ContractRefunded"] = "ContractRefunded"
    contract: Id
    amount: Amount


class ContractCancelled(Event):
    type: Literal["ContractCancelled"] = "ContractCancelled"
    contract: Id


class TargetSet(Event):
    type: Literal["TargetSet"] = "TargetSet"
    consultant: Id
    month: Month
    red: Amount
    green: Amount


class CustomerErased(Event):
    type: Literal["CustomerErased"] = "CustomerErased"
    phone: Phone


EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        PolicyAdopted, ConsultantJoined, ConsultantLeft, SeatsSwapped, ShiftAssigned,
        PresenceChanged, LeadArrived, FollowUpLogged, ClaimMade, RulingMade, CustomersLinked,
        CustomersUnlinked, PenaltyImposed, PenaltyLifted, InvitationRecorded, VisitRecorded,
        ComplaintVerified, GradeProposed, GradeConfirmed, ContractSigned, PaymentReceived,
        LoanDisbursed, ContractRefunded, ContractCancelled, TargetSet, CustomerErased,
    )
}

AnyEvent = Annotated[Union[tuple(EVENT_TYPES.values())], Field(discriminator="type")]  # type: ignore[valid-type]
_ANY_EVENT: TypeAdapter[Event] = TypeAdapter(AnyEvent)


class Recorded(NamedTuple):
    """An event as stored: `seq` is its recording order in the team's stream (1, 2, ...)."""

    seq: int
    event: Event

    @property
    def key(self) -> tuple[dt.datetime, int]:
        """Replay order (R-T-5): by `at`, then by recording order."""
        return (self.event.at, self.seq)


def parse_event(data: Any) -> Event:
    """Validate one decoded JSON object as an event; raises `EventProblems` listing every bad key."""
    if not isinstance(data, dict):
        raise EventProblems([("", f"expected a JSON object, got {type(data).__name__}")])
    kind = data.get("type")
    if kind not in EVENT_TYPES:
        raise EventProblems([("type", f"expected one of {', '.join(EVENT_TYPES)}, got {kind!r}")])
    try:
        return EVENT_TYPES[kind].model_validate(data)
    except ValidationError as error:
        raise EventProblems(_problems(error)) from None


class EventProblems(ValueError):
    """Why one object is not a valid event: [(key, what was expected)]."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        key = ".".join(str(part) for part in item["loc"]) or "(event)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown key (not in INTERCHANGE.md for this type)"
        elif item["type"] in ("enum", "literal_error"):
            message = f"expected {item.get('ctx', {}).get('expected', 'a documented value')}, got {item.get('input')!r}"
        elif item["type"] == "string_pattern_mismatch":
            message = f"expected an id matching [A-Za-z0-9_.-]{{1,64}}, got {item.get('input')!r}"
        problems.append((key, message))
    return problems
