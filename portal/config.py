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


@dataclass
class Config:
    database_url: str = field(default_factory=lambda: os.environ.get("PORTAL_DATABASE_URL") or default_database_url())
    secret_key: str = field(default_factory=_secret_key)
    cache_url: str | None = field(default_factory=lambda: os.environ.get("PORTAL_CACHE_URL") or None)
    cache_dir: str = field(default_factory=lambda: str(instance_dir() / "cache"))
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("PORTAL_SECURE_COOKIES", "0") == "1")
    login_rate_limit: str = "20 per minute"
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    testing: bool = False
    csrf_enabled: bool = True
    today: str | None = field(default_factory=lambda: os.environ.get("PORTAL_TODAY") or None)
    # retention (``portal purge``): days a device frame or a quarantined row holding an ID number is kept
    retention_raw_days: int = field(default_factory=lambda: int(os.environ.get("PORTAL_RETENTION_RAW_DAYS", "90")))
    retention_quarantine_days: int = field(
        default_factory=lambda: int(os.environ.get("PORTAL_RETENTION_QUARANTINE_DAYS", "180")))
