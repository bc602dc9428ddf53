"""``portal backup PATH`` / ``portal restore PATH``: the whole database to one file and back.

PostgreSQL: ``pg_dump --format=custom`` (consistent snapshot while the portal runs) and
``pg_restore --clean --if-exists --single-transaction`` (all or nothing). The PostgreSQL client
tools must be installed (Debian: ``postgresql-client``, the same major version as the server or newer).
SQLite: the sqlite3 online backup API, page by page, consistent while the portal runs.

A restore replaces everything in the target database with the file's contents. The file says
which backend wrote it; restoring it into the other backend is refused with a clear error.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

PG_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format archive
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection options for the client tools; the password goes in the environment, never argv."""
    u = make_url(url)
    args = []
    if u.host:
        args += ["--host", u.host]
    if u.port:
        args += ["--port", str(u.port)]
    if u.username:
        args += ["--username", u.username]
    args += ["--dbname", u.database or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def backup(url: str, path: str | Path) -> dict:
    """Write the whole database to ``path`` (replaced atomically when complete); returns what was written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if url.startswith("sqlite"):
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError(f"{source}: no such database")
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            dst = sqlite3.connect(part)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
            backend = "sqlite"
        elif url.startswith("postgresql"):
            args, env = _pg_args(url)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(part), *args], env)
            backend = "postgresql"
        else:
            raise BackupError(f"unsupported database URL: {url.split('://')[0]}")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    path.chmod(0o600)  # health records: readable by the service account only
    return {"backend": backend, "path": str(path), "bytes": path.stat().st_size}


def kind_of(path: str | Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path}: not a portal backup (neither a pg_dump archive nor a SQLite database)")


def restore(url: str, path: str | Path) -> dict:
    """Replace the database's contents with the backup in ``path``. Stop the portal's web
    workers, background worker and gateways first; start them again afterwards."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    kind = kind_of(path)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql" if url.startswith("postgresql") else None
    if backend is None:
        raise BackupError(f"unsupported database URL: {url.split('://')[0]}")
    if kind != backend:
        raise BackupError(f"{path} is a {kind} backup; the database is {backend}: restore it into a {kind} database")
    from models.db import dispose

    dispose(url)  # this process's pooled connections would see the old file or block the restore
    if backend == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)  # page by page into the live file: WAL readers see old or new, never a mix
        finally:
            dst.close()
            src.close()
    else:
        args, env = _pg_args(url)
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(path)], env)
    return {"backend": backend, "path": str(path), "revision": revision(url)}


def revision(url: str) -> str | None:
    """The database's Alembic revision (None when it has none)."""
    from sqlalchemy import inspect, text

    from models.db import get_engine

    with get_engine(url).connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision(url: str) -> str:
    from alembic.script import ScriptDirectory

    from models.db import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
