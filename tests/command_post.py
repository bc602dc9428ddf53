"""An officer of the Command Centre (post type ``command``, 指挥调度) for the tests of post words.

The tiny demo force has stations only (patrol, community, investigation, traffic, office…), so the
last officer on the roster is lent to the Command Centre for one test and given back after."""
from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import select

from models.db import session_scope
from models.schema import Officer, OfficerStatus


@contextlib.contextmanager
def command_officer(url: str) -> Iterator[dict]:
    """Yields {"badge", "name"} of an officer whose post type is ``command`` while the block runs."""
    with session_scope(url) as s:
        officer = s.scalar(select(Officer).join(OfficerStatus, OfficerStatus.officer_id == Officer.id)
                           .where(Officer.active).order_by(Officer.id.desc()))
        officer_id, post, who = officer.id, officer.post_type, {"badge": officer.badge, "name": officer.name}
        officer.post_type = "command"
    try:
        yield who
    finally:
        with session_scope(url) as s:
            s.get(Officer, officer_id).post_type = post
