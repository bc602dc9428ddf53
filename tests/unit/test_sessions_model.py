"""models.sessions: why a session is refused, and how the sign-in delay grows (issue 15)."""
import datetime as dt

from models.db import session_scope
from models.schema import User
from models.sessions import (check_session, clear_failures, end_session, end_user_sessions, record_failure, start_session,
                             throttle_wait, throttled_names)

T0 = dt.datetime(2026, 11, 18, 8, 0)
IDLE, LIFE = dt.timedelta(minutes=30), dt.timedelta(hours=12)


def _user(s, name):
    user = User(username=name, password_hash="x", role="admin")
    s.add(user)
    s.flush()
    return user.id


def test_ssm001_session_refusals(demo_url):
    with session_scope(demo_url) as s:
        uid = _user(s, "ssm_user")
        token = start_session(s, uid, ip="10.0.0.1", user_agent="UA", now=T0)

        def check(tok=token, user=uid, ip="10.0.0.1", ua="UA", at=T0):
            return check_session(s, tok, user, ip=ip, user_agent=ua, idle=IDLE, lifetime=LIFE, now=at)

        assert check(at=T0 + dt.timedelta(minutes=29)) is None
        assert check(at=T0 + dt.timedelta(minutes=58)) is None  # last seen moved on at minute 29
        assert check(tok="forged") == "unknown"
        assert check(user=uid + 1) == "unknown"
        other = start_session(s, uid, ip="10.0.0.1", user_agent="UA", now=T0)
        assert check(tok=other, ip="10.0.0.2") == "binding"
        assert check(tok=other) == "ended"
        late = start_session(s, uid, ip="10.0.0.1", user_agent="UA", now=T0)
        assert check(tok=late, at=T0 + dt.timedelta(minutes=31)) == "idle"
        assert end_session(s, token) and not end_session(s, token)
        assert check(at=T0 + dt.timedelta(minutes=59)) == "ended"
        busy = start_session(s, uid, ip="10.0.0.1", user_agent="UA", now=T0)
        for minute in range(0, 12 * 60, 20):
            assert check(tok=busy, at=T0 + dt.timedelta(minutes=minute)) is None
        assert check(tok=busy, at=T0 + dt.timedelta(hours=12, minutes=1)) == "lifetime"
        a = start_session(s, uid, ip="10.0.0.1", user_agent="UA")
        b = start_session(s, uid, ip="10.0.0.3", user_agent="UB")
        assert end_user_sessions(s, uid, "password") == 2
        assert check_session(s, a, uid, ip="10.0.0.1", user_agent="UA", idle=IDLE, lifetime=LIFE) == "ended"
        assert check_session(s, b, uid, ip="10.0.0.3", user_agent="UB", idle=IDLE, lifetime=LIFE) == "ended"


def test_ssm002_delay_doubles_per_pair_up_to_the_cap(demo_url):
    base, cap = dt.timedelta(seconds=2), dt.timedelta(minutes=15)
    with session_scope(demo_url) as s:
        waits = []
        for i in range(20):
            now = T0 + dt.timedelta(hours=1) * i
            row = record_failure(s, "ssm_pair", "10.0.0.9", free=5, base=base, cap=cap, now=now)
            waits.append(row.blocked_until - now if row.blocked_until and row.blocked_until > now else None)
        assert waits[:4] == [None] * 4
        assert waits[4:9] == [dt.timedelta(seconds=n) for n in (2, 4, 8, 16, 32)]
        assert waits[-1] == cap
        at = T0 + dt.timedelta(hours=19)
        assert throttle_wait(s, "ssm_pair", "10.0.0.9", now=at) == cap
        assert throttle_wait(s, "ssm_pair", "10.0.0.8", now=at) is None  # another address
        assert "ssm_pair" in throttled_names(s, now=at)
        assert clear_failures(s, "ssm_pair") == 1
        assert throttle_wait(s, "ssm_pair", "10.0.0.9", now=at) is None
        # a day without failures forgets them
        record_failure(s, "ssm_old", "10.0.0.9", free=1, base=base, cap=cap, now=T0)
        row = record_failure(s, "ssm_old", "10.0.0.9", free=5, base=base, cap=cap, now=T0 + dt.timedelta(days=2))
        assert row.failures == 1
