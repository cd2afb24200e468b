"""The event vocabulary of INTERCHANGE.md: one frozen pydantic model per event type.

Events hold facts only. Parsing is strict: aware times only, amounts as exact decimals (never
via float), ids matching their pattern, enums for channels, presences, shifts and kinds, and no
unknown keys.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
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

from .phone import mask, mask_numbers, normalize

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_SEAT = 99_999  # R-RO-1 seat numbers: 0 to this
MAX_COUNT = 10_000  # turns to skip, K of N in a throttle: 1 to this
FUTURE = dt.timedelta(minutes=5)  # R-CO-5: how far an `at` may lie after its recording


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


# Every time and date the ledger takes lies in these years (as written, in its own offset): a
# wider range lets one mistyped event overflow the calendar (a month after 9999-12) and poison
# the team's replay. Offsets are whole minutes up to 14 hours, as real zones have.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_OFFSET = dt.timedelta(hours=14)
TIME_RANGE = f"{FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"
_TIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}")
_AMOUNT_TEXT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_INT = 2**63 - 1  # what the store's JSON (orjson) and PostgreSQL's bigint hold


def shown(value: Any, limit: int = 40) -> str:
    """A bad value as an error message echoes it: its repr cut to `limit` characters and runs
    of 7 or more digits masked to their last 4 (a phone number is personal data)."""
    text = repr(value) if not isinstance(value, (int, Decimal)) or isinstance(value, bool) else str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} characters)"
    if sum(ch.isdigit() for ch in text) >= MIN_PHONE_DIGITS and not _TIME_SHAPED.fullmatch(text.strip("'\"")):
        # it may hold a phone number, whatever its separators: all digits but the last 4 masked
        last = [i for i, ch in enumerate(text) if ch.isdigit()][-4]
        return "".join("*" if ch.isdigit() and i < last else ch for i, ch in enumerate(text))
    return mask_numbers(text)


_TIME_SHAPED = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2}(?:[T ][0-9:.]*(?:Z|[+-][0-9:]*)?)?)?(?:\.\.\. .*)?")




_ZONES: dict[dt.timedelta, dt.tzinfo] = {}


def shared_zone(moment: dt.datetime) -> dt.datetime:
    """The same instant with one shared fixed-offset `timezone` object per UTC offset: CPython
    compares and hashes two aware datetimes ten times faster when their tzinfo is the same object
    (otherwise it asks each for its offset), and the fold compares times all the time. The
    instant, its offset and its ISO text are unchanged; a named zone (zoneinfo) becomes its fixed
    offset at that instant, so arithmetic on the result is absolute, not by wall clock."""
    zone = moment.tzinfo
    offset = moment.utcoffset()
    shared = _ZONES.get(offset)
    if shared is None:
        shared = _ZONES.setdefault(offset, zone if type(zone) is dt.timezone else dt.timezone(offset))
    if shared is zone:
        return moment
    return moment.replace(tzinfo=shared) if type(zone) is dt.timezone else moment.astimezone(shared)


def check_moment(moment: dt.datetime, what: Any = None) -> dt.datetime:
    """An aware time inside the ledger's range (FIRST_YEAR..LAST_YEAR as written) with an offset
    of whole minutes within 14 hours; ValueError otherwise."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"expected a UTC offset (e.g. +08:00) in {shown(what or moment.isoformat())}")
    if not -MAX_OFFSET <= offset <= MAX_OFFSET or offset.seconds % 60 or offset.microseconds:
        raise ValueError(f"expected a UTC offset of whole minutes within ±14:00, got {shown(what or moment.isoformat())}")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"expected a time from {TIME_RANGE}, got {shown(what or moment.isoformat())}")
    return shared_zone(moment)


def parse_time_text(text: str, *, offset: bool = True) -> dt.datetime:
    """`YYYY-MM-DDTHH:MM[:SS[.ffffff]]` with `Z` or `±HH:MM` (without an offset only when
    `offset` is False: a naive time, read later in the team's zone), inside the ledger's range."""
    match = _TIME_TEXT.fullmatch(text)
    if match is None or (offset and match["offset"] is None):
        raise ValueError(f"expected an ISO 8601 time with a UTC offset, like 2026-11-02T09:00:00+08:00, "
                         f"got {shown(text)}")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a real date and time (ISO 8601), got {shown(text)}") from None
    if parsed.tzinfo is None:
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise ValueError(f"expected a time from {TIME_RANGE}, got {shown(text)}")
        return parsed
    return check_moment(parsed, text)


def _aware_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return check_moment(value)
    if isinstance(value, str):
        return parse_time_text(value)
    raise ValueError(f"expected an ISO 8601 time string with a UTC offset, got {shown(value)}")


def check_date(day: dt.date, what: Any = None) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"expected a date from {TIME_RANGE}, got {shown(what or day.isoformat())}")
    return day


def parse_date_text(text: str) -> dt.date:
    """`YYYY-MM-DD` inside the ledger's range; ValueError otherwise."""
    if isinstance(text, str) and _DATE_TEXT.fullmatch(text):
        try:
            return check_date(dt.date.fromisoformat(text), text)
        except ValueError as error:
            if "from" in str(error):
                raise
    raise ValueError(f"expected a date YYYY-MM-DD, got {shown(text)}")


def parse_month_text(text: str) -> str:
    """`YYYY-MM` inside the ledger's range; ValueError otherwise."""
    if isinstance(text, str) and _MONTH_TEXT.fullmatch(text) and 1 <= int(text[5:]) <= 12:
        check_date(dt.date(int(text[:4]), int(text[5:]), 1), text)
        return text
    raise ValueError(f"expected a month YYYY-MM, got {shown(text)}")


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return check_date(value)
    return parse_date_text(value)


def _month(value: Any) -> str:
    return parse_month_text(value)


MAX_AMOUNT = Decimal(10) ** 15  # well inside Decimal's default 28-digit precision at two places


def _amount(value: Any) -> Decimal:
    """R-MO-1: non-negative decimal yuan, at most two places, written plainly (digits, an
    optional point and one or two decimals: `"12000.00"`, `"12000"`): no sign, exponent,
    separator, space or non-ASCII digit. JSON numbers are read from their text (never as
    floats) and bound alike."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"expected an amount as a decimal string like \"12000.00\", got {shown(value)}")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        text = str(value)  # a JSON number as written (parse_float=Decimal keeps its digits)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"expected a decimal amount like \"12000.00\", got {shown(value)}")
    if len(text) > 40 or _AMOUNT_TEXT.fullmatch(text) and len(text.split(".")[0]) > 15:
        raise ValueError(f"expected an amount below {MAX_AMOUNT:,} yuan, got {shown(value)}")
    if _AMOUNT_TEXT.fullmatch(text) is None:
        if text.startswith("-"):
            raise ValueError(f"expected a non-negative amount, got {shown(value)}")
        if _AMOUNT_TEXT.fullmatch(text.split(".")[0]) and "." in text and text.split(".")[1].isdigit():
            raise ValueError(f"expected at most two decimal places (fen), got {shown(value)}")
        raise ValueError(f"expected a decimal amount like \"12000.00\" (digits, at most two decimals), "
                         f"got {shown(value)}")
    number = Decimal(text)
    if number >= MAX_AMOUNT:
        raise ValueError(f"expected an amount below {MAX_AMOUNT:,} yuan, got {shown(value)}")
    return number.quantize(Decimal("0.01"))


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value() \
                and abs(value) <= MAX_INT:
            return int(value)
        raise ValueError(f"expected a whole number, got {shown(value)}")
    if abs(value) > MAX_INT:
        raise ValueError(f"expected a whole number of at most 19 digits, got {shown(value)}")
    return value


def check_text(value: str) -> str:
    """A string the store can keep: no lone surrogate (not UTF-8, e.g. `\\ud800` or a
    command-line byte that was not UTF-8)."""
    if _SURROGATE.search(value):
        raise ValueError("expected valid Unicode text (it holds a lone surrogate, e.g. \\ud800)")
    return value


def _strict_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__} {shown(value)}")
    return check_text(value)


_PHONE_TEXT = re.compile(r"[0-9 +().-]{1,80}")
_PHONE_KEY = re.compile(r"h:[0-9a-f]{32}(:[0-9]{4})?")  # keys before issue #18 item 3 kept 4 digits
MIN_PHONE_DIGITS = 7


def _phone(value: Any) -> str:
    """R-CO-5: a phone number of digits, spaces, `+ - ( ) .` with at least 7 digits once
    normalized (R-ID-1); or an erased number's key exactly as `export` writes it. Never echoed
    in clear."""
    if not isinstance(value, str):
        raise ValueError(f"expected a phone number as a string, got {type(value).__name__} {shown(value)}")
    if _PHONE_KEY.fullmatch(value):
        return value
    if _PHONE_TEXT.fullmatch(value) is None:
        raise ValueError("expected a phone number of digits, spaces and + - ( ) . (at most 80 characters), "
                         f"got {len(value)} characters ending {mask(value)[-4:] or '(no digit)'} (R-CO-5)")
    digits = len(normalize(value))
    if digits < MIN_PHONE_DIGITS:
        raise ValueError(f"expected a phone number of at least {MIN_PHONE_DIGITS} digits, got {digits} (R-CO-5)")
    return value


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {shown(value)}")
    return value


def _time_out(value: dt.datetime) -> str:
    return value.isoformat()


Time = Annotated[dt.datetime, BeforeValidator(_aware_time), PlainSerializer(_time_out, return_type=str)]
Date = Annotated[dt.date, BeforeValidator(_iso_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)]
Month = Annotated[str, BeforeValidator(_month)]
Amount = Annotated[Decimal, BeforeValidator(_amount), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
Count = Annotated[int, BeforeValidator(_strict_int), Field(ge=1, le=MAX_COUNT)]
Seat = Annotated[int, BeforeValidator(_strict_int), Field(ge=0, le=MAX_SEAT)]
Flag = Annotated[bool, BeforeValidator(_strict_bool)]
Id = Annotated[str, BeforeValidator(_strict_str), StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, BeforeValidator(_strict_str), StringConstraints(min_length=1, max_length=2000)]
Phone = Annotated[str, BeforeValidator(_phone)]


class Event(BaseModel):
    """Common keys on every event."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    type: str
    team: Id
    at: Time
    id: Id | None = None
    by: Text | None = None
    # When the ledger learned it (R-CO-1): given by an import (an export writes it), else the
    # store's clock. Never part of the stored content: the store keeps it beside the event.
    recorded: Time | None = None

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
                raise ValueError(f"expected an IANA time zone like Asia/Shanghai, got {shown(value)}") from None
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
                raise ValueError(f"expected channels from {sorted(Channel.__members__)} or \"*\", got {shown(name)}")
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


VOID_REF = r"^(#[1-9][0-9]{0,17}|[A-Za-z0-9_.-]{1,64})$"


class EntryVoided(Event):
    """R-CO-2: a supervisor voids an event entered in error, by its `id` or `#N` (its recording
    number in the team's stream). Replay treats the voided event as never having happened."""

    type: Literal["EntryVoided"] = "EntryVoided"
    event: Annotated[str, BeforeValidator(_strict_str), StringConstraints(pattern=VOID_REF)]
    reason: Text


EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        PolicyAdopted, ConsultantJoined, ConsultantLeft, SeatsSwapped, ShiftAssigned,
        PresenceChanged, LeadArrived, FollowUpLogged, ClaimMade, RulingMade, CustomersLinked,
        CustomersUnlinked, PenaltyImposed, PenaltyLifted, InvitationRecorded, VisitRecorded,
        ComplaintVerified, GradeProposed, GradeConfirmed, ContractSigned, PaymentReceived,
        LoanDisbursed, ContractRefunded, ContractCancelled, TargetSet, CustomerErased, EntryVoided,
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
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise EventProblems([("type", f"expected one of {', '.join(EVENT_TYPES)}, got {shown(kind)}")])
    odd = _odd_json(data)
    if odd is not None:
        raise EventProblems([odd])
    # `from_`, a Python field name: the file's keys are INTERCHANGE's only (pydantic would take it)
    named = [key for key in _NAMES_ONLY.get(kind, ()) if key in data]
    problems = [(key, "unknown key (not in INTERCHANGE.md for this type)") for key in named]
    try:
        event = EVENT_TYPES[kind].model_validate({k: v for k, v in data.items() if k not in named}
                                                  if named else data)
    except ValidationError as error:
        raise EventProblems(problems + _problems(error)) from None
    except RecursionError:
        raise EventProblems([("", "expected JSON nested at most a few levels deep")]) from None
    if problems:
        raise EventProblems(problems)
    return event


MAX_DEPTH = 8  # an event is an object of values; only `overrides` nests, a level or two


def _odd_json(data: dict) -> tuple[str, str] | None:
    """(key, problem) for what no event key can hold and the store could not keep: nesting
    deeper than MAX_DEPTH, a whole number beyond 64 bits, a string with a lone surrogate."""
    stack: list[tuple[str, Any, int]] = [(str(key), value, 1) for key, value in data.items()]
    while stack:
        key, value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return key, "expected valid Unicode text (it holds a lone surrogate, e.g. \\ud800)"
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_INT:
                return key, f"expected a whole number of at most 19 digits, got {shown(value)}"
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                return key, f"expected JSON nested at most {MAX_DEPTH} levels deep"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for inner, item in items:
                if isinstance(inner, str) and _SURROGATE.search(inner):
                    return key, "expected valid Unicode text (a key holds a lone surrogate, e.g. \\ud800)"
                stack.append((f"{key}.{shown(inner, 20).strip(chr(39))}", item, depth + 1))
    return None


_NAMES_ONLY = {kind: names for kind, cls in EVENT_TYPES.items()
               if (names := tuple(name for name, info in cls.model_fields.items() if info.alias not in (None, name)))}


class EventProblems(ValueError):
    """Why one object is not a valid event: [(key, what was expected)]."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        key = mask_numbers(".".join(str(part) for part in item["loc"])[:80]) or "(event)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "required key is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown key (not in INTERCHANGE.md for this type)"
        elif item["type"] in ("enum", "literal_error"):
            message = f"expected {item.get('ctx', {}).get('expected', 'a documented value')}, got {shown(item.get('input'))}"
        elif item["type"] == "string_pattern_mismatch" and key == "event":
            message = f"expected an event id or #N (its recording number), got {shown(item.get('input'))}"
        elif item["type"] == "string_pattern_mismatch":
            message = f"expected an id matching [A-Za-z0-9_.-]{{1,64}}, got {shown(item.get('input'))}"
        problems.append((key, message))
    return problems
