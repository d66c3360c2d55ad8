"""How queryguard sends a statement on a PostgreSQL connection: one statement, never prepared.

psycopg 3's classes say ``__module__ == "psycopg"``; with binary results its ``execute`` takes the extended
protocol, which refuses a second statement, and ``prepare=False`` keeps it from preparing the statement on
the server after ``prepare_threshold`` runs (the connection may be the user's). psycopg2 has no such
protocol: there the strict reading of :mod:`._strict` is the only guard against a hidden statement.
"""

from __future__ import annotations

import sys
from typing import Any


def is_psycopg3(obj: Any) -> bool:
    """Whether ``obj`` (a connection or cursor) comes from psycopg 3."""
    return type(obj).__module__.split(".")[0] == "psycopg"


def cursor(conn: Any) -> Any:
    """A plain cursor: psycopg 3's own class even where the connection makes client-side cursors (Django)."""
    if is_psycopg3(conn):
        return sys.modules["psycopg"].Cursor(conn)
    return conn.cursor()


def execute(cur: Any, sql: str, params: Any = None) -> None:
    """Run one statement on ``cur``; on psycopg 3 through the extended protocol, never prepared."""
    if is_psycopg3(cur):
        cur.execute(sql, params, prepare=False, binary=True)
    else:
        cur.execute(sql, params)
