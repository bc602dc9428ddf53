"""Who a row belongs to: the keyed hash of the ID number, or the badge.

The key is handed down by the caller (the CLI or the web app passes the portal
secret); meta ``id_hash_key`` overrides it, so a database loaded with another
key (the demo's) keeps matching. Used by the hospital, roster and activity loaders.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest import idcard
from ingest.hospital import Unreadable
from models.db import get_meta, set_meta
from models.schema import Officer

__all__ = ["id_hash_key", "check_id_key", "OfficerIndex", "id_problem"]


def id_hash_key(session: Session, secret: str | None) -> str:
    """The key ID numbers are hashed with: meta ``id_hash_key`` (the demo sets it), else ``secret``."""
    key = get_meta(session, "id_hash_key") or secret
    if not key:
        raise Unreadable("no key to hash ID numbers with: pass the portal secret (PORTAL_SECRET_KEY) "
                         "or set meta id_hash_key")
    return key


def check_id_key(session: Session, key: str) -> None:
    """Refuse to match with a different key than the one the roster was loaded with (hashes would never match)."""
    probe = idcard.keyed_hash("000000190001010000", key)[:16]
    known = get_meta(session, "id_hash_probe")
    if known is None:
        set_meta(session, "id_hash_probe", probe)
    elif known != probe:
        raise Unreadable("the ID hash key differs from the one the officers were loaded with: set PORTAL_SECRET_KEY "
                         "to the secret used for the roster (or meta id_hash_key), otherwise no ID number can match")


class OfficerIndex:
    """Every officer's id by ID-number hash and by badge, loaded once per batch.

    ``secret`` is the portal secret; it is needed only once some officer has an ID-number hash."""

    def __init__(self, session: Session, secret: str | None):
        self.by_hash: dict[str, int] = {}
        self.by_badge: dict[str, int] = {}
        self.names: dict[int, str] = {}
        for oid, badge, h, name in session.execute(select(Officer.id, Officer.badge, Officer.id_hash, Officer.name)):
            self.by_badge[badge] = oid
            if h:
                self.by_hash[h] = oid
            self.names[oid] = name
        self.key: str | None = None
        if self.by_hash:
            self.key = id_hash_key(session, secret)
            check_id_key(session, self.key)

    def match(self, ident: dict) -> tuple[int | None, tuple[str, str] | None]:
        """(officer id, None) or (None, (field, reason))."""
        raw_id = ident.get("id_number")
        badge = (ident.get("badge") or "").strip()
        by_id = None
        if raw_id:
            number = idcard.normalise(raw_id)
            if not idcard.is_valid(number):
                return None, ("id_number", id_problem(number))
            by_id = self.by_hash.get(idcard.keyed_hash(number, self.key)) if self.key else None
        by_badge = self.by_badge.get(badge) if badge else None
        if by_id and by_badge and by_id != by_badge:
            return None, ("badge", f"the ID number and the badge {badge} belong to different officers")
        oid = by_id or by_badge
        if oid is None:
            what = " or ".join(x for x in (f"ID number {idcard.mask(raw_id) if raw_id and len(idcard.normalise(raw_id)) == 18 else raw_id}" if raw_id else "",
                                           f"badge {badge}" if badge else "") if x)
            if not what:
                return None, ("id_number", "the row has neither an ID number nor a badge")
            return None, ("id_number" if raw_id else "badge", f"no officer with {what}")
        name = (ident.get("name") or "").replace(" ", "")
        if name and name != self.names[oid].replace(" ", ""):
            return None, ("name", f"the name {name} does not match the officer's name {self.names[oid]}")
        return oid, None


def id_problem(number: str) -> str:
    """Why an ID number that fails ``idcard.is_valid`` is wrong, in words for the quarantine."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return f"'{number}' is not an 18-character ID number"
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"the ID number {idcard.mask(number)} holds no real birth date"
    expected = idcard.check_digit(number[:17])
    if expected != number[17]:
        return f"the ID number {idcard.mask(number)} fails the GB 11643 check digit (expected {expected})"
    return f"the ID number {idcard.mask(number)} holds a birth date outside 1900–today"
