"""Files uploaded on /admin/imports: kept in the instance folder, dry-run, then loaded by the same
loaders as the CLI (``portal ingest ...``).

An upload is a token (random) with two files in ``<instance>/uploads``: ``<token>.bin`` (the bytes as
sent) and ``<token>.json`` (what it is: kind, hospital or campaign, file name, size, who). The dry run
runs the loader with ``dry_run=True`` (it writes nothing: the loaders roll their transaction back); the
confirmed load runs in a background job, which reads the kept file by its token.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from pathlib import Path

from ingest import activity, hospital_load, roster
from ingest.batch import Progress
from ingest.hospital import Unreadable

__all__ = ["KINDS", "TOKEN", "KEEP_DAYS", "store", "read", "dry_run", "load", "purge", "Unreadable"]

KEEP_DAYS = 7  # an upload (it may hold ID numbers) is deleted this long after it arrived

KINDS = ("hospital", "units", "officers", "activity")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
TARGET = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")  # a hospital code; a campaign id


def _folder(instance: str | Path) -> Path:
    path = Path(instance) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(instance: str | Path, data: bytes, *, kind: str, target: str | None, filename: str, user: str | None) -> str:
    """Keep an uploaded file; its token."""
    if kind not in KINDS:
        raise Unreadable(f"unknown kind of file {kind!r}")
    token = secrets.token_hex(16)
    folder = _folder(instance)
    (folder / f"{token}.bin").write_bytes(data)
    meta = {"kind": kind, "target": target, "filename": Path(filename or "upload").name[-200:], "size": len(data),
            "user": user, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    (folder / f"{token}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def read(instance: str | Path, token: str) -> tuple[dict, bytes]:
    """(what it is, the bytes) of a kept upload; Unreadable when the token names none."""
    if not isinstance(token, str) or not TOKEN.match(token):
        raise Unreadable("no such upload")
    folder = _folder(instance)
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        return meta, (folder / f"{token}.bin").read_bytes()
    except (OSError, ValueError):
        raise Unreadable("no such upload (it may have been removed)") from None


def _target(kind: str, target: str | None) -> str | None:
    if kind in ("hospital", "activity"):
        if not target or not TARGET.match(target):
            raise Unreadable("choose the hospital" if kind == "hospital" else "choose the campaign")
        if kind == "activity" and not target.isdigit():
            raise Unreadable("choose the campaign")
    return target


def _run(url: str, kind: str, target: str | None, data: bytes, filename: str, user: str | None, dry: bool,
         progress: Progress | None, secret: str | None, today: dt.date | None) -> dict:
    target = _target(kind, target)
    if kind == "hospital":
        return hospital_load.load_hospital_bytes(url, data, target, filename=filename, dry_run=dry, user=user,
                                                 progress=progress, today=today, secret=secret)
    if kind == "units":
        return roster.load_units_bytes(url, data, filename=filename, user=user, dry_run=dry, progress=progress)
    if kind == "officers":
        return roster.load_officers_bytes(url, data, filename=filename, user=user, dry_run=dry, progress=progress,
                                          secret=secret)
    if kind == "activity":
        return activity.load_activity_bytes(url, data, int(target), filename=filename, dry_run=dry, user=user,
                                            today=today, secret=secret)
    raise Unreadable(f"unknown kind of file {kind!r}")


def dry_run(url: str, kind: str, target: str | None, data: bytes, filename: str, *, secret: str | None = None,
            today: dt.date | None = None) -> dict:
    """What loading the file would do (rows, inserted/updated/unchanged/quarantined, unplaced columns,
    encoding); writes nothing."""
    return _run(url, kind, target, data, filename, None, True, None, secret, today)


def load(url: str, instance: str | Path, token: str, *, user: str | None, progress: Progress | None = None,
         secret: str | None = None, today: dt.date | None = None) -> dict:
    """Load a kept upload for real (one batch); its summary."""
    meta, data = read(instance, token)
    return _run(url, meta["kind"], meta.get("target"), data, meta["filename"], user, False, progress, secret, today)


def purge(instance: str | Path, days: float = KEEP_DAYS, now: float | None = None) -> int:
    """Delete the kept uploads older than ``days`` (both files of each); how many were deleted."""
    import time

    cutoff = (time.time() if now is None else now) - days * 86400
    gone = 0
    for meta in _folder(instance).glob("*.json"):
        if TOKEN.match(meta.stem) and meta.stat().st_mtime < cutoff:
            (meta.parent / f"{meta.stem}.bin").unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            gone += 1
    return gone
