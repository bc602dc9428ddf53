"""What a new password must not be: shorter than 10 characters, a common password (the bundled list
``models/data/common_passwords.txt``, never fetched from the internet), the user's badge or user name,
their ID number, or the digits of their birth date. Returns problem codes; their words are in
``models.vocab.PASSWORD_PROBLEMS``."""
from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Callable

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON_FILE = Path(__file__).with_name("data") / "common_passwords.txt"


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _birth_forms(birth: dt.date) -> list[str]:
    y, m, d = f"{birth.year:04d}", f"{birth.month:02d}", f"{birth.day:02d}"
    return [y + m + d, y[2:] + m + d, d + m + y, m + d + y]


def problems(password: str, *, username: str | None = None, badge: str | None = None,
             birth_date: dt.date | None = None, id_hash: str | None = None,
             hash_id: Callable[[str], str] | None = None) -> list[str]:
    """Problem codes of a candidate password (empty: acceptable). ``hash_id`` hashes an 18-character ID
    number the way the roster did, so a password holding the ID number is found without the number."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append("too_short")
    if len(password) > MAX_LENGTH:
        found.append("too_long")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        found.append("common")
    for who in (username, badge):
        if who and who.lower() in lowered:
            found.append("badge")
            break
    digits = re.sub(r"\D", "", password)
    if birth_date and any(form in digits for form in _birth_forms(birth_date)):
        found.append("birth_date")
    if id_hash and hash_id:
        compact = re.sub(r"\s", "", password).upper()
        for i in range(0, max(0, len(compact) - 17)):
            if hash_id(compact[i:i + 18]) == id_hash:
                found.append("id_number")
                break
    return found
