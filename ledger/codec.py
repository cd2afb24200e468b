"""Fast decoding of stored events (the rebuild/fold path).

Stored states are the canonical JSON of events that were validated on the way in
(`Event.to_json_dict`), so reading them back does not need pydantic's validators again: orjson
parses the bytes, each field is converted by a plain function chosen once per field from its
annotation (times `datetime.fromisoformat`, dates `date.fromisoformat`, amounts `Decimal`, enums
by value), and the model is built like `model_construct` does, with the same `__dict__` (field
order included, so `model_dump` orders keys alike) and the same `model_fields_set` as
`model_validate_json` gives. Anything the fast path does not recognise — an unknown key, a
value of an unexpected JSON type, a type listed in `_VALIDATED` — goes through
`model_validate_json`, so the result is always the validated one (tests/unit/test_codec.py checks
field by field on generated histories).
"""
from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal
from enum import Enum
from typing import Any, Callable

import orjson

from .events import EVENT_TYPES, Event
from .events import shared_zone as _shared_zone

# Types whose fields are not plain (a free-form dict of overrides): always validated.
_VALIDATED = frozenset({"PolicyAdopted"})

_new_object = object.__new__
_set = object.__setattr__
_fromisoformat = dt.datetime.fromisoformat
_date_fromisoformat = dt.date.fromisoformat


class _Fallback(Exception):
    pass


def _time(value: Any) -> dt.datetime:
    if type(value) is not str:
        raise _Fallback
    parsed = _fromisoformat(value)
    if parsed.tzinfo is None:
        raise _Fallback
    return _shared_zone(parsed)


def _date(value: Any) -> dt.date:
    if type(value) is not str or len(value) != 10:
        raise _Fallback
    return _date_fromisoformat(value)


def _amount(value: Any) -> Decimal:
    if type(value) is not str:
        raise _Fallback
    number = Decimal(value)
    # Stored amounts are "%.2f": exactly what the validator's quantize(0.01) gives back.
    if number.as_tuple().exponent != -2 or not number.is_finite() or number < 0:
        raise _Fallback
    return number


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Fallback
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Fallback
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Fallback
    return value


def _str_list(value: Any) -> list:
    if type(value) is not list or not all(type(item) is str for item in value):
        raise _Fallback
    return value


def _enum(cls: type[Enum]) -> Callable[[Any], Enum]:
    members = dict(cls._value2member_map_)

    def convert(value: Any) -> Enum:
        try:
            return members[value]
        except (KeyError, TypeError):
            raise _Fallback from None

    convert.members = members  # type: ignore[attr-defined]
    return convert


def _converter(annotation: Any, metadata: list) -> Callable[[Any], Any]:
    """The plain conversion of one stored field, from its (pydantic) annotation."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            annotation = inner[0]
            args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        metadata = list(annotation.__metadata__)
        annotation = args[0]
    validators = [getattr(m, "func", None) for m in metadata]
    names = {getattr(f, "__name__", "") for f in validators}
    if annotation is dt.datetime:
        return _time
    if annotation is dt.date:
        return _date
    if annotation is Decimal:
        return _amount
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum(annotation)
    if annotation is bool:
        return _bool
    if annotation is int:
        # Count (ge=1) is checked by pydantic only: a stored 0 would be validated.
        if any(getattr(m, "ge", None) is not None for m in metadata):
            return lambda value: value if type(value) is int and value >= 1 else _raise()
        return _int
    if annotation is str:
        return _str
    if typing.get_origin(annotation) is list and typing.get_args(annotation) and (
            typing.get_args(annotation)[0] is str
            or typing.get_origin(typing.get_args(annotation)[0]) is typing.Annotated):
        return _str_list
    if typing.get_origin(annotation) is typing.Literal:
        allowed = set(args)
        return lambda value: value if value in allowed else _raise()
    raise TypeError(f"no fast conversion for {annotation!r} ({names})")


def _raise() -> Any:
    raise _Fallback


def _source(topic: str, cls: type[Event], _kinds: list[str]) -> str:
    """The source of one type's decoder: straight-line code, one expression per field."""
    lines = ["def decode(state):",
             "    d = loads(state)",
             f"    if d.keys() - KEYS or d['type'] != {topic!r}:",
             "        raise Fallback",
             "    values = {"]
    for position, (name, info) in enumerate(cls.model_fields.items()):
        key = info.alias or name
        kind = _kinds[position]
        if kind == "plain":
            value = f"d[{key!r}]" if info.is_required() else f"d.get({key!r})"
        else:
            call = f"m{position}[{{}}]" if kind == "enum" else f"c{position}({{}})"
            if info.is_required():
                value = call.format(f"d[{key!r}]")
            else:
                value = f"None if (v := d.get({key!r})) is None else {call.format('v')}"
        lines.append(f"        {name!r}: {value},")
    lines.append("    }")
    if any(info.alias for info in cls.model_fields.values()):
        lines.append("    return values, {NAMES[key] for key in d}")
    else:
        lines.append("    return values, set(d)")
    return "\n".join(lines)


def _identity(value: Any) -> Any:
    return value


def _fast(converter: Callable) -> Callable:
    # Stored states were validated on the way in: plain strings, ints, bools and lists are
    # taken as they are; only what JSON cannot hold (times, dates, amounts, enums) is converted.
    return _identity if converter in (_str, _int, _bool, _str_list) or getattr(
        converter, "__name__", "") == "<lambda>" else converter


def _compile(topic: str, cls: type[Event]) -> Callable[[bytes], tuple[dict, set]]:
    namespace: dict[str, Any] = {
        "loads": orjson.loads, "Fallback": _Fallback,
        "KEYS": frozenset(info.alias or name for name, info in cls.model_fields.items()),
        "NAMES": {info.alias or name: name for name, info in cls.model_fields.items()},
    }
    kinds = []
    for position, (name, info) in enumerate(cls.model_fields.items()):
        converter = _fast(_converter(info.annotation, list(info.metadata)))
        members = getattr(converter, "members", None)
        if converter is _identity:
            kinds.append("plain")
        elif members is not None:
            kinds.append("enum")
            namespace[f"m{position}"] = members
        else:
            kinds.append("call")
            namespace[f"c{position}"] = converter
    exec(_source(topic, cls, kinds), namespace)
    return namespace["decode"]


_DECODERS: dict[str, tuple[type[Event], Callable[[bytes], tuple[dict, set]]]] = {
    topic: (cls, _compile(topic, cls)) for topic, cls in EVENT_TYPES.items() if topic not in _VALIDATED
}


def decode_event(topic: str, state: bytes) -> Event:
    """The event of a stored (topic, state): equal to `EVENT_TYPES[topic].model_validate_json(state)`
    for every state written by the store (validated on the way in)."""
    found = _DECODERS.get(topic)
    if found is None:
        return EVENT_TYPES[topic].model_validate_json(state)
    cls, decode = found
    try:
        values, fields_set = decode(state)
    except (_Fallback, KeyError, ValueError, TypeError, AttributeError, ArithmeticError):
        return cls.model_validate_json(state)
    if (topic == "LeadArrived" or topic == "PenaltyImposed") and not _cross_fields_ok(topic, values):
        return cls.model_validate_json(state)  # a model validator would reject it: say so
    event = _new_object(cls)
    _set(event, "__dict__", values)
    _set(event, "__pydantic_fields_set__", fields_set)
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


def _cross_fields_ok(topic: str, v: dict) -> bool:
    if topic == "LeadArrived":
        return (v["maker"] is not None) == (v["channel"].value == "outbound")
    kind = v["kind"].value
    if kind == "skip" and v["turns"] is None:
        return False
    if kind == "throttle" and (v["take"] is None or v["of"] is None or v["take"] >= v["of"]):
        return False
    if v["from_"] is not None and v["until"] is not None and v["until"] <= v["from_"]:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Imports: a fast accept path for decoded JSON objects, and the canonical stored JSON


import re as _re  # noqa: E402

from . import events as _ev  # noqa: E402

_ID = _re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PLAIN_JSON = (str, int, bool, type(None))

# Types with list/dict keys, aliases or field validators: always through pydantic.
_SLOW_PARSE = frozenset({"PolicyAdopted", "PenaltyImposed", "EntryVoided"})


def _check_id(value: Any) -> Any:
    if type(value) is not str or _ID.fullmatch(value) is None:
        raise _Fallback
    return value


def _check_text(limit: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is not str or not 0 < len(value) <= limit:
            raise _Fallback
        return value
    return check


def _check_int(low: int, high: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is not int or not low <= value <= high:
            raise _Fallback
        return value
    return check


def _check_flag(value: Any) -> Any:
    if type(value) is not bool:
        raise _Fallback
    return value


def _validator(info: Any) -> Callable[[Any], Any]:
    """The exact check of one field, for plain JSON values (str/int/bool/None); raises _Fallback
    (or ValueError) whenever pydantic might say anything but "valid, and this value"."""
    annotation = info.annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        annotation = next(a for a in args if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        allowed = typing.get_args(annotation)[0]
        return lambda value: value if value == allowed and type(value) is str else _raise()
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = {member.value: member for member in annotation}
        return lambda value: members[value] if type(value) is str and value in members else _raise()
    metadata = list(info.metadata)
    if typing.get_origin(annotation) is typing.Annotated:
        metadata = list(annotation.__metadata__)
        annotation = typing.get_args(annotation)[0]
    funcs = [m.func for m in metadata if type(m).__name__ == "BeforeValidator"]
    constraints = {name: getattr(m, name) for m in metadata for name in ("pattern", "max_length", "min_length", "ge", "le")
                   if getattr(m, name, None) is not None}
    if funcs == [_ev._strict_str] and annotation is str:
        if constraints == {"pattern": _ev.ID_PATTERN}:
            return _check_id
        if constraints == {"min_length": 1, "max_length": 2000}:
            return _check_text(2000)
        if constraints == {"min_length": 1, "max_length": 80}:
            return _check_text(80)
    if funcs == [_ev._strict_int] and annotation is int and constraints.keys() == {"ge", "le"}:
        return _check_int(constraints["ge"], constraints["le"])
    if not constraints and len(funcs) == 1:
        if funcs[0] is _ev._phone and annotation is str:
            return _ev._phone
        if funcs[0] is _ev._aware_time and annotation is dt.datetime:
            return _ev._aware_time
        if funcs[0] is _ev._iso_date and annotation is dt.date:
            return _ev._iso_date
        if funcs[0] is _ev._month and annotation is str:
            return _ev._month
        if funcs[0] is _ev._amount and annotation is Decimal:
            return _ev._amount
        if funcs[0] is _ev._strict_bool and annotation is bool:
            return _check_flag
    raise TypeError(f"no fast check for {info!r}")


def _accept_plan(cls: type[Event]) -> tuple:
    fields = {name: (_validator(info), info.is_required()) for name, info in cls.model_fields.items()}
    required = frozenset(name for name, (_, needed) in fields.items() if needed)
    checks = {name: check for name, (check, _) in fields.items()}
    return cls, checks, required, tuple(cls.model_fields)


_ACCEPT = {topic: _accept_plan(cls) for topic, cls in EVENT_TYPES.items() if topic not in _SLOW_PARSE}


def accept_event(data: dict) -> Event | None:
    """The event of a decoded JSON object when it is plainly valid, exactly as
    `ledger.events.parse_event(data)` would return it; None when pydantic must decide (an
    error, an unusual value, a type with nested keys)."""
    plan = _ACCEPT.get(data.get("type"))  # type: ignore[arg-type]
    if plan is None:
        return None
    cls, checks, required, order = plan
    values: dict[str, Any] = {}
    try:
        for key, value in data.items():
            if value is None:
                if key in required:
                    return None
                values[key] = None
            else:
                values[key] = checks[key](value)  # KeyError: an unknown key
    except (_Fallback, KeyError, ValueError, TypeError, ArithmeticError):
        return None
    if not required <= values.keys():
        return None
    if cls is _ev.LeadArrived and (values.get("maker") is not None) != (values["channel"] is _ev.Channel.outbound):
        return None
    fields_set = set(values)
    event = _new_object(cls)
    _set(event, "__dict__", {name: values.get(name) if name != "type" else values["type"] for name in order})
    _set(event, "__pydantic_fields_set__", fields_set)
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if kind is dt.datetime or kind is dt.date:
        return value.isoformat()
    if kind is Decimal:
        return f"{value:.2f}"
    if isinstance(value, Enum):
        return value.value
    raise _Fallback


_FAST_ENCODE = frozenset(topic for topic in EVENT_TYPES if topic not in _SLOW_PARSE)
_dumps = orjson.dumps


def encode_event(event: Event) -> bytes:
    """The stored JSON of an event: the same bytes as `orjson.dumps(event.to_json_dict())`."""
    if event.type in _FAST_ENCODE and type(event) is EVENT_TYPES[event.type]:
        try:
            return _dumps({key: _json_value(value) for key, value in event.__dict__.items()
                           if value is not None})
        except _Fallback:
            pass
    return _dumps(event.to_json_dict())
