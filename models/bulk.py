"""Bulk writes inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

An ingest batch or a recompute writes tens of thousands of rows at once; one INSERT a row
(even pipelined) costs several times a COPY of the same rows on PostgreSQL.
"""
from __future__ import annotations

import orjson
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

EXECUTEMANY_CHUNK = 100_000


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                json_columns: Sequence[str] = ()) -> None:
    """Insert tuples (in ``columns`` order); the values of ``json_columns`` are dumped to JSON text."""
    conn = session.connection()
    cols = ", ".join(columns)
    if json_columns:
        rows = _dump_json(rows, [columns.index(c) for c in json_columns])
    if conn.dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' for _ in columns)})"
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == EXECUTEMANY_CHUNK:
            conn.exec_driver_sql(sql, chunk)
            chunk = []
    if chunk:
        conn.exec_driver_sql(sql, chunk)


def _dump_json(rows: Iterable[Sequence[Any]], positions: list[int]) -> Iterator[list[Any]]:
    for row in rows:
        row = list(row)
        for i in positions:
            row[i] = orjson.dumps(row[i], option=orjson.OPT_NON_STR_KEYS).decode()
        yield row


def reserve_ids(session: Session, table: str, n: int) -> list[int] | None:
    """``n`` fresh primary keys from the table's sequence on PostgreSQL (None on SQLite), so that rows
    written by COPY are known by id without reading them back."""
    if n <= 0 or not is_postgresql(session):
        return None
    return list(session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                {"t": table, "n": n}).scalars())
