"""Configuration from the environment, with safe defaults for one machine."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def instance_dir() -> Path:
    path = Path(os.environ.get("PORTAL_INSTANCE", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return f"sqlite:///{instance_dir() / 'portal.db'}"


def _secret_key() -> str:
    """PORTAL_SECRET_KEY, or a key generated once and kept in the instance folder."""
    key = os.environ.get("PORTAL_SECRET_KEY")
    if key:
        return key
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = float(raw)
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a finite number of at least 0, not {raw!r}")
    return value


@dataclass
class Config:
    database_url: str = field(default_factory=lambda: os.environ.get("PORTAL_DATABASE_URL") or default_database_url())
    secret_key: str = field(default_factory=_secret_key)
    cache_url: str | None = field(default_factory=lambda: os.environ.get("PORTAL_CACHE_URL") or None)
    cache_dir: str = field(default_factory=lambda: str(instance_dir() / "cache"))
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("PORTAL_SECURE_COOKIES", "0") == "1")
    # sessions end after this long without a request, and this long after sign-in whatever happens
    session_idle_minutes: float = field(default_factory=lambda: _number("PORTAL_SESSION_IDLE_MINUTES", 30))
    session_lifetime_hours: float = field(default_factory=lambda: _number("PORTAL_SESSION_LIFETIME_HOURS", 12))
    # X-Forwarded-For is believed only from this many reverse proxies in front of the app (0: never)
    trusted_proxies: int = field(default_factory=lambda: int(_number("PORTAL_TRUSTED_PROXIES", 0)))
    # failed sign-ins one client address may make (any names), shared by all workers through Redis
    login_rate_limit: str = field(default_factory=lambda: os.environ.get("PORTAL_LOGIN_ADDRESS_LIMIT")
                                  or "30 per 10 minutes")
    login_free_attempts: int = 5  # failures of one (name, address) pair before it has to wait
    login_delay_seconds: float = 2  # the first wait; it doubles with every further failure ...
    login_delay_max_minutes: float = 15  # ... up to this
    # one export per user per this many seconds (0: no limit)
    export_interval_seconds: int = field(default_factory=lambda: int(os.environ.get("PORTAL_EXPORT_INTERVAL", "10")))
    # a one-time activation code (accounts from the roster, an admin's reset) works this many days
    activation_days: float = field(default_factory=lambda: _number("PORTAL_ACTIVATION_DAYS", 14))
    # single sign-on: the header a trusted identity gateway puts the user name in (believed only when
    # PORTAL_TRUSTED_PROXIES > 0 and the request came through that proxy)
    sso_header: str | None = field(default_factory=lambda: os.environ.get("PORTAL_SSO_HEADER") or None)
    # ... and only when the direct peer (the gateway itself) has one of these addresses
    sso_proxies: tuple[str, ...] = field(default_factory=lambda: tuple(
        a.strip() for a in (os.environ.get("PORTAL_SSO_PROXY_ADDRESSES") or "127.0.0.1,::1").split(",") if a.strip()))
    # e-mail of notifications (issue 19): smtp://[user[:password]@]host[:port][?starttls=1&from=addr]; none: no e-mail
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("PORTAL_SMTP_URL") or None)
    # background jobs: none = Dash's disk cache (one machine); a Redis URL = Celery on that broker
    # (``portal worker`` processes run the jobs, on any machine sharing the database and instance folder)
    broker_url: str | None = field(default_factory=lambda: os.environ.get("PORTAL_BROKER_URL") or None)
    broker_queue: str = field(default_factory=lambda: os.environ.get("PORTAL_BROKER_QUEUE") or "portal")
    # the largest file an admin may upload on /admin/imports
    upload_max_mb: float = field(default_factory=lambda: _number("PORTAL_UPLOAD_MAX_MB", 5))
    # each answer reports the CPU it cost (Server-Timing: cpu;dur=ms); portal bench --load turns it on
    server_timing: bool = field(default_factory=lambda: os.environ.get("PORTAL_SERVER_TIMING", "0") == "1")
    testing: bool = False
    csrf_enabled: bool = True
    today: str | None = field(default_factory=lambda: os.environ.get("PORTAL_TODAY") or None)
    # retention (``portal purge``): days a device frame or a quarantined row holding an ID number is kept
    retention_raw_days: int = field(default_factory=lambda: int(os.environ.get("PORTAL_RETENTION_RAW_DAYS", "90")))
    retention_quarantine_days: int = field(
        default_factory=lambda: int(os.environ.get("PORTAL_RETENTION_QUARANTINE_DAYS", "180")))

    def session_generation(self):
        """Where this installation's session generation lives (``models.sessions``): Redis when the
        cache is Redis (several machines), else a file in the instance folder (one machine: every
        worker and the CLI see it)."""
        from models.sessions import FileGeneration, RedisGeneration

        if self.cache_url and self.cache_url.startswith(("redis://", "rediss://", "unix://")):
            return RedisGeneration(self.cache_url)
        return FileGeneration(Path(self.cache_dir).parent / "session-generation")
