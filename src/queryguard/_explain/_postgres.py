"""PostgreSQL (psycopg 3, and psycopg2 by duck typing): running ``EXPLAIN (FORMAT JSON)`` (its smells are
read in :mod:`._postgres_plan`).

Every EXPLAIN, plain or ANALYZE, runs in a read-only scope that is always rolled back: a savepoint when the
connection is inside a transaction (the user's transaction is left exactly as it was), else a transaction of
its own. The read-only setting and the timeouts are ``SET LOCAL`` inside that scope, so they end with it.
Every statement goes through :mod:`._pgexec` (one statement, never prepared). Before the EXPLAIN the
catalog is asked for user-defined functions the text does not show (:data:`_HIDDEN_SQL`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, Final

from . import _hypopg
from ._pgexec import cursor, execute
from ._plan import Outcome, Request, TableInfo, Unusable, one_index
from ._postgres_plan import find_smells
from ._safety import Refused

_IDLE, _INTRANS = 0, 2  # libpq's PGTransactionStatusType, the same in psycopg 3 and psycopg2
VENDOR: Final = "postgresql"
_SAVEPOINT: Final = "queryguard_explain"
_TABLE_SQL: Final = """
SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples ELSE COALESCE(s.n_live_tup, 0) END,
  ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
        ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = c.oid),
  ARRAY(SELECT a.attname::text FROM pg_constraint k JOIN pg_attribute a
        ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] WHERE k.conrelid = c.oid AND k.contype = 'f'),
  pg_relation_size(c.oid) > 0
FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass(%s)
"""
#: A user-defined function (not of an extension) that planning could run without the text naming it: one
#: of the same name as a called built-in, one behind an operator of the statement, or one a default, a
#: row-level policy or a view (through views of views) of a named table uses.
_HIDDEN_SQL: Final = """
WITH RECURSIVE rel(oid) AS (
    SELECT c::oid FROM unnest(%s::text[]) AS n, to_regclass(n) AS c WHERE c IS NOT NULL
  UNION
    SELECT d.refobjid FROM rel JOIN pg_rewrite r ON r.ev_class = rel.oid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
     AND d.refclassid = 'pg_class'::regclass
), used(classid, objid) AS (
    SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r JOIN rel ON r.ev_class = rel.oid
  UNION ALL SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a JOIN rel ON a.adrelid = rel.oid
  UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p JOIN rel ON p.polrelid = rel.oid
)
SELECT p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
  AND (p.proname = ANY(%s::text[])
       OR p.oid IN (SELECT d.refobjid FROM used JOIN pg_depend d ON d.classid = used.classid
                    AND d.objid = used.objid AND d.refclassid = 'pg_proc'::regclass)
       OR p.oid IN (SELECT o.oprcode FROM pg_operator o WHERE o.oprnamespace <> 'pg_catalog'::regnamespace
                    AND EXISTS (SELECT 1 FROM unnest(%s::text[]) AS t WHERE strpos(t, o.oprname) > 0)))
LIMIT 1
"""


def run(conn: Any, req: Request) -> Outcome:
    """Explain ``req.sql`` on ``conn`` and find the smells of its plan; the connection's state is kept."""
    with _scope(conn, req) as cur:
        _prove(cur, req)
        plan = _explain(cur, req.sql, req.params, analyze=req.analyze)
        infos: dict[str, TableInfo] = {}

        def info(table: str, schema: str | None) -> TableInfo:
            key = f"{schema}.{table}" if schema else table
            if key not in infos:
                infos[key] = _table_info(cur, table, schema)
            return infos[key]

        smells = find_smells(plan, req.facts, info, analyzed=req.analyze)
        index = one_index(smells)
        hypopg = _hypopg.verify(
            cur, [index] if index else [], lambda: _explain(cur, req.sql, req.params, analyze=False)
        )
    connection = "session" if req.session else "new"
    return Outcome("postgresql", plan, req.analyze, smells, connection, hypopg, index)


def _status(conn: Any) -> int:
    info = getattr(conn, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is None and hasattr(conn, "get_transaction_status"):
        status = conn.get_transaction_status()  # psycopg2 before 2.8
    return int(status) if status is not None else -1


@contextlib.contextmanager
def _scope(conn: Any, req: Request) -> Iterator[Any]:
    status = _status(conn)
    if status not in (_IDLE, _INTRANS):
        raise Unusable(f"connection is not idle (transaction status {status})")
    autocommit = bool(getattr(conn, "autocommit", False))
    cur = cursor(conn)
    try:
        if status == _INTRANS:
            execute(cur, f"SAVEPOINT {_SAVEPOINT}")
        elif autocommit:
            execute(cur, "BEGIN")  # otherwise the driver opens the transaction with the next statement
        try:
            # Plain EXPLAIN too: planning runs IMMUTABLE and STABLE functions, and read-only refuses their
            # writes and nextval (what it cannot refuse, a session lock, _prove keeps out).
            execute(cur, "SET LOCAL transaction_read_only = on")
            timeout = max(int(req.timeout_ms), 1)
            execute(cur, f"SET LOCAL statement_timeout = {timeout}")
            execute(cur, f"SET LOCAL lock_timeout = {max(timeout // 2, 1)}")  # a wait shows as a lock timeout
            yield cur
        finally:
            _end(conn, cur, status, autocommit)
    finally:
        cur.close()


def _end(conn: Any, cur: Any, status: int, autocommit: bool) -> None:
    if status == _INTRANS:
        execute(cur, f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        execute(cur, f"RELEASE SAVEPOINT {_SAVEPOINT}")
    elif autocommit:
        execute(cur, "ROLLBACK")
    else:
        conn.rollback()


def _prove(cur: Any, req: Request) -> None:
    """Refuse a statement that reaches a user-defined function the text does not show (see _HIDDEN_SQL)."""
    proof = req.proof
    if proof is None:
        raise Refused("not explained: no safety proof")
    tables = sorted({".".join(_quote(part) for part in parts) for parts in req.facts.aliases.values()})
    execute(cur, _HIDDEN_SQL, (tables, sorted(proof.calls), sorted(proof.operators)))
    row = cur.fetchone()
    if row is not None:
        raise Refused(f"not explained: calls a function queryguard cannot prove read-only: {row[0]}")


def _explain(cur: Any, sql: str, params: Any, *, analyze: bool) -> Any:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    execute(cur, f"EXPLAIN ({options}) {sql}", params)
    value = cur.fetchone()[0]
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode()
    data = json.loads(value) if isinstance(value, str) else value
    return data[0] if isinstance(data, list) and data else data


def _table_info(cur: Any, table: str, schema: str | None) -> TableInfo:
    name = _quote(table) if schema is None else f"{_quote(schema)}.{_quote(table)}"
    execute(cur, _TABLE_SQL, (name,))
    row = cur.fetchone()
    if row is None:
        return TableInfo()
    rows = float(row[0]) if row[0] is not None and row[0] >= 0 else None
    if not rows and row[3]:
        # Never analysed (and the statistics not yet sent): the planner's own estimate from the table's size.
        plan = _explain(cur, f"SELECT 1 FROM ONLY {name}", None, analyze=False)
        rows = float(plan.get("Plan", {}).get("Plan Rows") or 0) if isinstance(plan, dict) else rows
    return TableInfo(rows, frozenset(row[1] or ()), frozenset(row[2] or ()))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
