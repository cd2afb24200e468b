"""Customer identity by phone number (R-ID-1) and its protection as personal data (R-ID-2).

The fold never sees a clear number once it is stored: the store replaces each number with a
*phone key* `h:<keyed hash>` (stores before issue #18 item 3 wrote `h:<keyed hash>:<last 4
digits>`; both match alike). `identity()` maps a raw number or a key to its matching key, so the
pure rules work on raw numbers in tests and on keys in production.

A key holds no digit of the number: its masked form (`mask`) comes from the open stores
(`add_tail_source`), which know the last 4 digits of the numbers they still hold; an erased
number's key shows as `ERASED`.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import weakref
from collections.abc import Callable

_NON_DIGITS = re.compile(r"\D+")
# How a key whose number was erased (or is not held by any open store) is shown.
ERASED = "erased"
_TAIL_SOURCES: list[weakref.WeakMethod] = []


def add_tail_source(method: Callable[[str], str | None]) -> None:
    """Let `mask` ask `method(key)` (a bound method of an open store) for a key's last 4 digits."""
    _TAIL_SOURCES.append(weakref.WeakMethod(method))  # type: ignore[arg-type]


def remove_tail_source(method: Callable[[str], str | None]) -> None:
    _TAIL_SOURCES[:] = [ref for ref in _TAIL_SOURCES if ref() is not None and ref() != method]


def normalize(phone: str) -> str:
    """R-ID-1: digits only; drop a leading 0086, or a leading 86 when 13 digits remain."""
    digits = _NON_DIGITS.sub("", phone)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def is_key(value: str) -> bool:
    return value.startswith("h:")


def make_key(phone: str, secret: bytes) -> str:
    """The stored form of a number: a keyed hash for matching, no digit of the number (R-ID-2)."""
    digits = normalize(phone)
    return "h:" + hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:32]


def identity(value: str | None) -> str | None:
    """The matching key of a raw number or of a stored key; None for no (or an empty) number."""
    if not value:
        return None
    if is_key(value):
        return value.rsplit(":", 1)[0] if value.count(":") == 2 else value
    digits = normalize(value)
    return f"n:{digits}" if digits else None


def mask(value: str | None) -> str:
    """What a person may see of a number: all but the last 4 digits masked (`ERASED` for the key
    of a number no open store holds any more)."""
    if not value:
        return "-"
    if not is_key(value):
        return "*******" + normalize(value)[-4:]
    if value.count(":") == 2:  # h:<hash>:<last 4>, written before keys lost their digits
        return "*******" + value.rsplit(":", 1)[1]
    return "*******" + tail if (tail := _tail(value)) else ERASED


def _tail(key: str) -> str | None:
    for ref in _TAIL_SOURCES:
        source = ref()
        if source is not None and (tail := source(key)):
            return tail
    return None


# A run of 7 or more digits standing alone (not inside an id like L20261102-001): what a phone
# number looks like inside a message.
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_])[0-9]{7,}(?![A-Za-z0-9_])")


def mask_numbers(text: str) -> str:
    """`text` with every phone-like run of digits masked to its last 4 (error messages echo
    what the user gave, and a number is personal data, R-ID-2)."""
    return _NUMBER_IN_TEXT.sub(lambda m: "*******" + m.group()[-4:], text)
