"""Idempotent saves: each save carries a client token, claimed in the same transaction as the save.

The form's browser store holds a token the server handed out when the form opened; the save
claims it before writing. A replay of the same request (a retry after a lost answer, a
double click) finds the token claimed and writes nothing. The claim and the record commit
together, so a save refused by validation leaves the token free for the corrected retry.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from models.schema import SaveToken


def claim(session: Session, user_id: int, action: str, token: str) -> bool:
    """True when this token is new (the save goes ahead); False for a replay of a save already made."""
    if session.get(SaveToken, token) is not None:
        return False
    session.add(SaveToken(token=token, user_id=user_id, action=action[:40]))
    session.flush()  # a concurrent second request fails here on the primary key, before writing anything
    return True
