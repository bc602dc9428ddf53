"""Resident ID numbers (居民身份证号码) after GB 11643-1999.

Layout of the 18 characters: 6-digit area code, 8-digit birth date
(YYYYMMDD), 3-digit sequence whose last digit is odd for men and even for
women, and a check character after ISO 7064 MOD 11-2.

The portal never stores an ID number in clear: it keeps a keyed hash (to
match a roster row to an officer) and a masked form for display.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

__all__ = ["WEIGHTS", "CHECK_MAP", "DEMO_ID_KEY", "check_digit", "is_valid", "parse", "make", "mask",
           "keyed_hash", "normalise", "holds_number"]

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_MAP = "10X98765432"  # sum mod 11 -> check character
DEMO_ID_KEY = "demo-id-key"  # the demo force's hash key; real imports pass the portal secret

_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalise(id18: str) -> str:
    """Strip spaces and upper-case a trailing x."""
    return str(id18).strip().replace(" ", "").upper()


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return CHECK_MAP[total % 11]


def _birth(id18: str) -> dt.date:
    return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def is_valid(id18: str) -> bool:
    """Shape, a real birth date (not in the future, not before 1900) and the check character."""
    if not isinstance(id18, str):
        return False
    s = normalise(id18)
    if not _SHAPE.match(s):
        return False
    try:
        birth = _birth(s)
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        return False
    return check_digit(s[:17]) == s[17]


def parse(id18: str) -> tuple[dt.date, str]:
    """(birth date, "male"/"female") of a valid number; ValueError otherwise."""
    s = normalise(id18)
    if not is_valid(s):
        raise ValueError("invalid ID number")
    return _birth(s), ("male" if int(s[16]) % 2 == 1 else "female")


def make(area6: str, birth_date: dt.date, seq3: int | str, sex: str | None = None) -> str:
    """Build a valid number. ``seq3`` is the 3-digit sequence (0-999); when ``sex``
    is given the last digit is nudged to the right parity (odd male, even female)."""
    area6 = str(area6)
    if len(area6) != 6 or not area6.isdigit():
        raise ValueError(f"area code must be 6 digits, got {area6!r}")
    seq = int(seq3)
    if not 0 <= seq <= 999:
        raise ValueError(f"sequence must be 0..999, got {seq3!r}")
    if sex is not None:
        want = 1 if sex == "male" else 0
        if sex not in ("male", "female"):
            raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
        if seq % 2 != want:
            seq = seq + 1 if seq < 999 else seq - 1
    first17 = f"{area6}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def mask(id18: str) -> str:
    """Keep the first 6 and the last 4 characters: 440602********123X."""
    s = normalise(id18)
    if len(s) != 18:
        raise ValueError("need an 18-character ID number")
    return s[:6] + "*" * 8 + s[-4:]


def keyed_hash(id18: str, key: str | bytes) -> str:
    """HMAC-SHA256 of the normalised number, hex. Same number and key, same hash."""
    k = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(k, normalise(id18).encode("ascii"), hashlib.sha256).hexdigest()


_ID18_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def holds_number(data: str | bytes | None) -> bool:
    """True when the text or bytes hold a valid 18-character ID number in the clear (retention)."""
    if not data:
        return False
    text = data.decode("ascii", "replace") if isinstance(data, (bytes, bytearray, memoryview)) else str(data)
    return any(is_valid(m.group(0)) for m in _ID18_IN_TEXT.finditer(text))
