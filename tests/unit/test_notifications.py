"""The notification store: one message per (user, event), each user reads and marks only their own."""
from sqlalchemy import select

from models.db import session_scope
from models.notifications import mark_read, notify, notify_many, recent, unread_count
from models.schema import User


def _users(session, *names):
    return [session.scalar(select(User.id).where(User.username == n)) for n in names]


def test_ntf001_same_event_once(demo_url):
    with session_scope(demo_url) as s:
        officer, = _users(s, "officer")
        before = unread_count(s, officer)
        assert notify(s, officer, "exam_loaded", "test:ntf001", ("新体检结果", "New exam results"))
        assert not notify(s, officer, "exam_loaded", "test:ntf001", ("新体检结果", "New exam results"))
        assert unread_count(s, officer) == before + 1
        s.rollback()


def test_ntf002_read_only_own(demo_url):
    with session_scope(demo_url) as s:
        officer, manager = _users(s, "officer", "manager")
        notify_many(s, [officer, manager], "new_red", "test:ntf002", ("新增红色预警", "New red warning"))
        rows, total = recent(s, officer, unread_only=True)
        mine = [r.id for r in rows if r.key == "test:ntf002"]
        theirs = [r.id for r in recent(s, manager)[0] if r.key == "test:ntf002"]
        assert len(mine) == 1 and len(theirs) == 1 and total >= 1
        assert mark_read(s, officer, theirs) == 0  # another user's message: nothing changes
        assert mark_read(s, officer, mine) == 1
        assert all(r.read_at is None for r in recent(s, manager)[0] if r.key == "test:ntf002")
        s.rollback()
