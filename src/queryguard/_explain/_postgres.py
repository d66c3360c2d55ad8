"""PostgreSQL (psycopg 3, and psycopg2 by duck typing): ``EXPLAIN (FORMAT JSON)`` and its smells.

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

from . import _hypopg, _lex, _plan
from ._pgexec import cursor, execute
from ._plan import Outcome, Request, Smell, TableInfo, Unusable
from ._safety import Refused

_IDLE, _INTRANS = 0, 2  # libpq's PGTransactionStatusType, the same in psycopg 3 and psycopg2
VENDOR: Final = "postgresql"
_SAVEPOINT: Final = "queryguard_explain"
_TABLE_SQL: Final = """
SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples ELSE COALESCE(s.n_live_tup, 0) END,
  ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a
        ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = c.oid),
  ARRAY(SELECT a.attname::text FROM pg_constraint k JOIN pg_attribute a
        ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] WHERE k.conrelid = c.oid AND k.contype = 'f')
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
        hypopg = _hypopg.verify(cur, smells, lambda: _explain(cur, req.sql, req.params, analyze=False))
    return Outcome("postgresql", plan, req.analyze, smells, "session" if req.session else "new", hypopg)


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
    return TableInfo(rows, frozenset(row[1] or ()), frozenset(row[2] or ()))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- smells ---------------------------------------------------------------------------------------------


def find_smells(plan: Any, facts: _plan.Facts, info: _plan.InfoLookup, *, analyzed: bool) -> list[Smell]:
    """Every smell of a PostgreSQL JSON plan, worst first within each node, plus a large OFFSET."""
    smells: list[Smell] = []
    root = plan.get("Plan") if isinstance(plan, dict) else None
    if isinstance(root, dict):
        _walk(root, [], facts, info, analyzed, smells)
    first = next((s.table for s in smells), None)
    return smells + _plan.large_offset(facts, first or _first_relation(root))


def _walk(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    facts: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
    out: list[Smell],
) -> None:
    kind = node.get("Node Type")
    if kind == "Seq Scan" and node.get("Relation Name"):
        out.extend(_seq_scan(node, parents, facts, info, analyzed))
    elif kind == "Sort":
        out.extend(_sort(node, parents, facts, info, analyzed))
    elif kind == "Nested Loop":
        out.extend(_nested_loop(node, facts, info))
    if analyzed:
        out.extend(_misestimate(node))
    for child in node.get("Plans") or ():
        if isinstance(child, dict):
            _walk(child, [*parents, node], facts, info, analyzed, out)


def _rows(node: dict[str, Any], analyzed: bool) -> float:
    if analyzed and "Actual Rows" in node:
        return float(node["Actual Rows"]) * float(node.get("Actual Loops") or 1)
    return float(node.get("Plan Rows") or 0)


def _seq_scan(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    statement: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
) -> list[Smell]:
    condition = node.get("Filter")
    if not isinstance(condition, str):
        return []
    table, alias = str(node["Relation Name"]), str(node.get("Alias") or node["Relation Name"])
    refs = [
        r
        for r in _lex.column_refs(_lex.tokenize(condition, vendor="postgresql"))
        if r.qualifier in (None, alias)
    ]
    facts = info(table, node.get("Schema"))
    loop = next((p for p in reversed(parents) if p.get("Node Type") == "Nested Loop"), None)
    joins = _plan.index_columns([r for r in refs if r.other is not None], facts, limit=1)
    if loop is not None and joins and _plan.worth_indexing(facts.rows):
        return [_join_smell(table, joins, node, loop, facts, analyzed)]
    filters = [r for r in refs if r.other is None]
    searched = _plan.pattern_searched(filters, statement)
    filters = [ref for ref in filters if ref.column not in searched]  # no B-tree index serves them
    kept = _rows(node, analyzed)
    removed = float(node.get("Rows Removed by Filter") or 0) * float(node.get("Actual Loops") or 1)
    read = max(facts.rows or 0.0, kept + removed) or None
    found = [_function_smell(table, ref, node, read, kept) for ref in _plan.wrapped_indexed(filters, facts)]
    columns = _plan.index_columns(filters, facts)
    selective = read is None or kept <= read * 0.1
    if (columns or searched) and _plan.worth_indexing(read) and selective and not found:
        smell = _plan.scan_smell(table, columns, searched, f"Seq Scan on {table}", node, facts, read)
        smell.kept = kept
        found.append(smell)
    return found


def _join_smell(
    table: str,
    columns: tuple[str, ...],
    node: dict[str, Any],
    loop: dict[str, Any],
    facts: TableInfo,
    analyzed: bool,
) -> Smell:
    smell = Smell(
        "unindexed_join", table, columns, f"Nested Loop over a Seq Scan on {table}", node, facts.rows
    )
    smell.details["foreign_key"] = columns[0] in facts.foreign_keys
    outer = (loop.get("Plans") or [{}])[0]
    smell.details["loops"] = float(node.get("Actual Loops") or 0) if analyzed else _rows(outer, False)
    return smell


def _function_smell(table: str, ref: _lex.Ref, node: Any, read: float | None, kept: float) -> Smell:
    smell = Smell("function_on_column", table, (ref.column,), f"Seq Scan on {table}", node, read, kept)
    smell.details["wrapper"] = ref.wrapper
    return smell


def _sort(
    node: dict[str, Any],
    parents: list[dict[str, Any]],
    facts: _plan.Facts,
    info: _plan.InfoLookup,
    analyzed: bool,
) -> list[Smell]:
    keys = [k for k in node.get("Sort Key") or () if isinstance(k, str)]
    table = _first_relation(node)
    if not keys or table is None:
        return []
    columns, desc = _sort_columns(keys)
    child = (node.get("Plans") or [node])[0]
    rows = _rows(child if isinstance(child, dict) else node, analyzed)
    if node.get("Sort Space Type") == "Disk":
        smell = Smell("sort_spill", table, columns, f"Sort on {table} spilled to disk", node, rows)
        smell.details.update(
            disk_kb=node.get("Sort Space Used"), method=node.get("Sort Method"), descending=desc
        )
        return [smell]
    limited = any(p.get("Node Type") == "Limit" for p in parents)
    if limited and rows >= _plan.MIN_ROWS and columns and not set(columns) & info(table, None).indexed:
        smell = Smell("temp_sort", table, columns, f"Sort of {rows:,.0f} rows of {table}", node, rows)
        smell.details["descending"] = desc
        return [smell]
    return []


def _sort_columns(keys: list[str]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    columns: list[str] = []
    desc: list[bool] = []
    for key in keys:
        tokens = _lex.tokenize(key, vendor="postgresql")
        refs = [r for r in _lex.column_refs(tokens) if r.wrapper is None]
        if len(refs) != 1:
            break  # an expression: the index would be an expression index, named in the plan
        columns.append(refs[0].column)
        desc.append(any(t.value == "desc" for t in tokens))
    return tuple(columns), tuple(desc)


def _nested_loop(node: dict[str, Any], facts: _plan.Facts, info: _plan.InfoLookup) -> list[Smell]:
    """A join condition kept on the loop (``Join Filter``) over a full scan of the inner table."""
    condition = node.get("Join Filter")
    inner = next((c for c in node.get("Plans") or () if c.get("Parent Relationship") == "Inner"), None)
    while isinstance(inner, dict) and inner.get("Node Type") in ("Materialize", "Memoize"):
        inner = (inner.get("Plans") or [None])[0]
    if not isinstance(condition, str) or not isinstance(inner, dict) or inner.get("Node Type") != "Seq Scan":
        return []
    table, alias = str(inner["Relation Name"]), str(inner.get("Alias") or inner["Relation Name"])
    refs = [
        r for r in _lex.column_refs(_lex.tokenize(condition, vendor="postgresql")) if r.qualifier == alias
    ]
    table_info = info(table, inner.get("Schema"))
    columns = _plan.index_columns(refs, table_info, limit=1)
    if not columns or not _plan.worth_indexing(table_info.rows):
        return []
    return [_join_smell(table, columns, inner, node, table_info, False)]


def _misestimate(node: dict[str, Any]) -> list[Smell]:
    table = node.get("Relation Name")
    if not table or "Actual Rows" not in node:
        return []
    estimated, actual = float(node.get("Plan Rows") or 0), float(node["Actual Rows"])
    if not _plan.misestimated(estimated, actual):
        return []
    condition = node.get("Filter") or node.get("Index Cond") or ""
    refs = [
        r for r in _lex.column_refs(_lex.tokenize(str(condition), vendor="postgresql")) if r.other is None
    ]
    columns = tuple(dict.fromkeys(r.column for r in refs))
    smell = Smell(
        "misestimate", str(table), columns, f"{node.get('Node Type')} on {table}", node, actual, estimated
    )
    ratio = max(estimated, actual) / max(min(estimated, actual), 1.0)
    smell.details.update(
        estimated=estimated,
        actual=actual,
        ratio=round(ratio, 1),
        expressions=sorted(
            {f"{r.wrapper}({r.column})" for r in refs if r.wrapper and not r.wrapper.startswith("::")}
        ),
    )
    return [smell]


def _first_relation(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    if node.get("Relation Name"):
        return str(node["Relation Name"])
    for child in node.get("Plans") or ():
        found = _first_relation(child)
        if found:
            return found
    return None
