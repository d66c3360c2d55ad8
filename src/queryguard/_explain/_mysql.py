"""MySQL and MariaDB (PyMySQL, mysqlclient): running ``EXPLAIN FORMAT=JSON`` (its smells are read in
:mod:`._mysql_plan`).

A write is never analysed. Every EXPLAIN runs inside a transaction of its own that is always rolled back
(``START TRANSACTION READ ONLY`` for a SELECT; MariaDB refuses to explain a write in one), except inside
the user's open transaction (a ``START TRANSACTION`` would commit it): there a savepoint, rolled back.
MariaDB's EXPLAIN runs the stored functions and sequences it meets, so the safety check (only built-in
functions) is the wall that matters; :func:`_prove` extends it to the views a statement reads. MariaDB's
``ANALYZE FORMAT=JSON`` of a proven read-only SELECT runs only on a new connection. MariaDB bounds the
EXPLAIN with ``SET STATEMENT max_statement_time=..., lock_wait_timeout=... FOR``; MySQL with session
variables that are put back afterwards.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from . import _lex, _safety
from ._mysql_plan import find_smells
from ._plan import Outcome, Request, TableInfo
from ._safety import Refused

VENDOR: Final = "mysql"
_SAVEPOINT: Final = "queryguard_explain"
_IN_TRANS: Final = 1  # SERVER_STATUS_IN_TRANS
_TABLE_SQL: Final = """
SELECT 'i', COLUMN_NAME FROM information_schema.STATISTICS
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s AND SEQ_IN_INDEX = 1
UNION ALL SELECT 'f', COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
   AND REFERENCED_TABLE_NAME IS NOT NULL AND ORDINAL_POSITION = 1
UNION ALL SELECT 'r', CAST(TABLE_ROWS AS CHAR) FROM information_schema.TABLES
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
"""
_VIEW_SQL: Final = """
SELECT VIEW_DEFINITION FROM information_schema.VIEWS
 WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s
"""
_VIEW_DEPTH: Final = 8
_MYSQL_LIMITS: Final = ("max_execution_time", "lock_wait_timeout", "innodb_lock_wait_timeout")


def run(conn: Any, req: Request) -> Outcome:
    """Explain ``req.sql`` on ``conn`` and find the smells of its plan; the connection's state is kept."""
    mariadb = _is_mariadb(conn)
    analyze = req.analyze and mariadb and not req.session
    with _scope(conn, req, mariadb=mariadb) as cur:
        _prove(cur, req.facts.aliases.values())
        prefix = "ANALYZE FORMAT=JSON " if analyze else "EXPLAIN FORMAT=JSON "
        if mariadb:
            seconds = max(int(req.timeout_ms) // 2000, 1)  # lock waits end first, and say so
            prefix = (
                f"SET STATEMENT max_statement_time={req.timeout_ms / 1000.0:g}, lock_wait_timeout={seconds}, "
                f"innodb_lock_wait_timeout={seconds} FOR {prefix}"
            )
        cur.execute(prefix + req.sql, req.params)
        plan = json.loads(cur.fetchone()[0])
        infos: dict[str, TableInfo] = {}

        def info(table: str, schema: str | None) -> TableInfo:
            key = f"{schema}.{table}"
            if key not in infos:
                infos[key] = _table_info(cur, table, schema)
            return infos[key]

        smells = find_smells(plan, req.facts, info, analyzed=analyze)
    return Outcome("mysql", plan, analyze, smells, "session" if req.session else "new")


def _is_mariadb(conn: Any) -> bool:
    server = getattr(conn, "get_server_info", None)
    version = server() if callable(server) else ""
    if isinstance(version, bytes):
        version = version.decode(errors="replace")
    return "mariadb" in str(version).lower()


def _in_transaction(conn: Any, cur: Any, mariadb: bool) -> bool | None:
    if mariadb:  # PyMySQL's server_status misses the transaction a SELECT opens
        cur.execute("SELECT @@in_transaction")
        return bool(cur.fetchone()[0])
    status = getattr(conn, "server_status", None)
    return bool(status & _IN_TRANS) if isinstance(status, int) else None


@contextlib.contextmanager
def _scope(conn: Any, req: Request, *, mariadb: bool) -> Iterator[Any]:
    cur = conn.cursor()
    before = _in_transaction(conn, cur, mariadb) if req.session else False
    saved: list[Any] | None = None
    try:
        if req.session and before:
            cur.execute(f"SAVEPOINT {_SAVEPOINT}")  # START TRANSACTION would commit the user's transaction
        else:  # MariaDB refuses to EXPLAIN a write inside a read-only transaction
            cur.execute("START TRANSACTION READ ONLY" if _safety.is_select(req.sql) else "START TRANSACTION")
        try:
            if not mariadb:
                saved = _limit_session(cur, req.timeout_ms)
            yield cur
        finally:
            if saved is not None:
                cur.execute(
                    "SET SESSION max_execution_time = %s, lock_wait_timeout = %s, "
                    "innodb_lock_wait_timeout = %s",
                    saved,
                )
            if req.session and before:
                cur.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                cur.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            else:
                conn.rollback()  # the read-only transaction of our own
    finally:
        cur.close()


def _prove(cur: Any, tables: Iterable[tuple[str, ...]], depth: int = 0) -> None:
    """Refuse a statement that reads a view whose definition the safety check would refuse.

    MariaDB's EXPLAIN evaluates a view's stored functions and sequences as it would the statement's own.
    """
    for parts in tables:
        cur.execute(_VIEW_SQL, (parts[-2] if len(parts) > 1 else None, parts[-1]))
        row = cur.fetchone()
        if row is None:
            continue
        definition = row[0].decode() if isinstance(row[0], bytes) else str(row[0])
        if depth >= _VIEW_DEPTH:
            raise Refused(f"not explained: reads views nested more than {_VIEW_DEPTH} deep")
        try:
            _safety.check(definition, VENDOR)
        except Refused as exc:
            raise Refused(f"{exc} (in the view {parts[-1]})") from None
        _prove(cur, _lex.aliases(_lex.tokenize(definition, vendor=VENDOR)).values(), depth + 1)


def _limit_session(cur: Any, timeout_ms: int) -> list[Any]:
    cur.execute("SELECT " + ", ".join(f"@@SESSION.{name}" for name in _MYSQL_LIMITS))
    saved = list(cur.fetchone())
    seconds = max(int(timeout_ms) // 2000, 1)
    cur.execute(
        "SET SESSION max_execution_time = %s, lock_wait_timeout = %s, innodb_lock_wait_timeout = %s",
        (int(timeout_ms), seconds, seconds),
    )
    return saved


def _table_info(cur: Any, table: str, schema: str | None) -> TableInfo:
    cur.execute(_TABLE_SQL, (schema, table) * 3)
    indexed, fks, rows = set(), set(), None
    for tag, value in cur.fetchall():
        tag = tag.decode() if isinstance(tag, bytes) else tag
        value = value.decode() if isinstance(value, bytes) else value
        if tag == "i":
            indexed.add(value)
        elif tag == "f":
            fks.add(value)
        elif value is not None:
            rows = float(value)
    return TableInfo(rows, frozenset(indexed), frozenset(fks))
