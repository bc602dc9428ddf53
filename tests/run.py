"""Run the whole suite on SQLite, then on PostgreSQL: ``python -m tests.run [pytest args]``.

Fails, rather than skips, when PostgreSQL or Chromium cannot be reached.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.helpers import PG_ADMIN_URL


def preflight() -> list[str]:
    problems = []
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure is a reason to stop
        problems.append(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            problems.append(f"{exe} is not installed (apt-get install chromium chromium-driver)")
    if shutil.which("socat") is None:
        problems.append("socat is not installed (apt-get install socat): serial tests need pseudo-terminals")
    return problems


def main(argv: list[str]) -> int:
    problems = preflight()
    if problems:
        for p in problems:
            print("tests.run: " + p, file=sys.stderr)
        return 2
    base = [sys.executable, "-m", "pytest", "-q", "--headless", "-p", "no:cacheprovider", *argv]
    env = dict(os.environ, DASH_TEST_CHROMEPATH=shutil.which("chromium"))
    status = 0
    for backend in ("sqlite", "postgresql"):
        print(f"=== tests on {backend} ===", flush=True)
        rc = subprocess.call(base, env=dict(env, PORTAL_TEST_DB=backend))
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
