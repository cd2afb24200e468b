"""Customer identity by phone number (R-ID-1) and its protection as personal data (R-ID-2).

The fold never sees a clear number once it is stored: the store replaces each number with a
*phone key* `h:<keyed hash>:<last 4 digits>`. `identity()` maps either form to the same
matching key, so the pure rules work on raw numbers in tests and on keys in production.
"""
from __future__ import annotations

import hashlib
import hmac
import re

_NON_DIGITS = re.compile(r"\D+")


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
    """The stored form of a number: a keyed hash for matching and the last 4 digits for display."""
    digits = normalize(phone)
    digest = hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:32]
    return f"h:{digest}:{digits[-4:]}"


def identity(value: str | None) -> str | None:
    """The matching key of a raw number or of a stored key; None for no (or an empty) number."""
    if not value:
        return None
    if is_key(value):
        return value.rsplit(":", 1)[0]
    digits = normalize(value)
    return f"n:{digits}" if digits else None


def mask(value: str | None) -> str:
    """What a person may see of a number: all but the last 4 digits masked."""
    if not value:
        return "-"
    tail = value.rsplit(":", 1)[1] if is_key(value) else normalize(value)[-4:]
    return "*******" + tail


# A run of 7 or more digits standing alone (not inside an id like L20261102-001): what a phone
# number looks like inside a message.
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_])[0-9]{7,}(?![A-Za-z0-9_])")


def mask_numbers(text: str) -> str:
    """`text` with every phone-like run of digits masked to its last 4 (error messages echo
    what the user gave, and a number is personal data, R-ID-2)."""
    return _NUMBER_IN_TEXT.sub(lambda m: "*******" + m.group()[-4:], text)
